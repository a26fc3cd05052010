"""Fixtures for eval tests: the HTTP fake OpenAI (real SDK over loopback) and small datasets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.fake_openai.fixture import fake_openai  # noqa: F401  (registers the fixture)
from tests.local.conftest import local_server, tiny_model_dir  # noqa: F401  (the real server)

BASE = "gpt-4o-mini-2024-07-18"
OTHER = "gpt-4.1-mini-2025-04-14"

SYSTEM = "Classify the sentiment of the review. Answer with one word: positive or negative."


def sentiment_rows(n: int) -> list[dict[str, Any]]:
    """`n` distinct chat rows whose reference is `positive` (odd) or `negative` (even)."""
    rows = []
    for i in range(1, n + 1):
        label = "positive" if i % 2 else "negative"
        rows.append(
            {
                "messages": [
                    {"role": "system", "content": SYSTEM},
                    {"role": "user", "content": f"Review {i}: it was {label} number {i}."},
                    {"role": "assistant", "content": label},
                ]
            }
        )
    return rows


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def user_text(messages: list[Any]) -> str:
    return next(str(m["content"]) for m in reversed(messages) if m.get("role") == "user")


def oracle(model: str, messages: list[Any]) -> str:
    """BASE answers every row right (the label in the review); OTHER always says positive."""
    text = user_text(messages)
    if model == BASE:
        return "positive" if "positive" in text else "negative"
    return "Positive."
