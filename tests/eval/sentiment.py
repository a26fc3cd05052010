"""A small generated sentiment task: one-word answers `positive` / `negative`, with a system
prompt. Used by the fine-tune-beats-base proof and the eval benchmark."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

SYSTEM = "Classify the sentiment of the review. Answer with one word: positive or negative."
SUBJECTS = ["The movie", "This phone", "The hotel", "Our dinner", "The book", "This laptop",
            "The concert", "The service"]  # fmt: skip
POSITIVE = ["wonderful", "excellent", "delightful", "fantastic", "superb", "lovely",
            "brilliant", "great"]  # fmt: skip
NEGATIVE = ["terrible", "awful", "dreadful", "horrible", "disappointing", "boring", "poor",
            "bad"]  # fmt: skip
TEMPLATES = ["{s} was {a}.", "Honestly, {s} felt {a}.", "{s} turned out {a} overall."]


def _row(subject: str, adjective: str, template: str, label: str) -> dict[str, Any]:
    review = template.format(s=subject, a=adjective)
    return {
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": review},
            {"role": "assistant", "content": label},
        ]
    }


def split_rows(
    n_train: int, n_test: int, seed: int = 0
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Balanced, disjoint training and held-out rows (no review appears in both)."""
    pos: list[dict[str, Any]] = []
    neg: list[dict[str, Any]] = []
    for s in SUBJECTS:
        for t in TEMPLATES:
            pos.extend(_row(s, a, t, "positive") for a in POSITIVE)
            neg.extend(_row(s, a, t, "negative") for a in NEGATIVE)
    rng = random.Random(seed)
    rng.shuffle(pos)
    rng.shuffle(neg)
    train = [r for pair in zip(pos[: n_train // 2], neg[: n_train // 2], strict=True) for r in pair]
    rest_p, rest_n = pos[n_train // 2 :], neg[n_train // 2 :]
    test = [
        r for pair in zip(rest_p[: n_test // 2], rest_n[: n_test // 2], strict=True) for r in pair
    ]
    return train, test


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path
