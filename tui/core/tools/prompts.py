"""The user prompt of an example, normalised, as the key that keeps duplicates on one side."""

from __future__ import annotations

import hashlib
import json

from tui.core.formats import example_messages
from tui.core.tools import jsonl


def _content_text(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: text and images
        return json.dumps(content, sort_keys=True, ensure_ascii=False)
    return "" if content is None else json.dumps(content, sort_keys=True)


def _user_messages(example: dict[str, object]) -> list[str]:
    return [
        _content_text(m.get("content"))
        for m in example_messages(example) or []
        if isinstance(m, dict) and m.get("role") == "user"
    ]


def prompt_text(line: bytes) -> str:
    """The user side of one JSONL line: its user messages (or legacy prompt), else the line."""
    try:
        example = jsonl.loads(line)
    except ValueError:
        return line.decode("utf-8", "replace").strip()
    if not isinstance(example, dict):
        return line.decode("utf-8", "replace").strip()
    users = _user_messages(example)
    if not users and isinstance(example.get("prompt"), str):
        users = [str(example["prompt"])]
    if not users:
        return line.decode("utf-8", "replace").strip()
    # Case and spacing differences do not make a prompt new to the model.
    return "\x1e".join(" ".join(text.split()).casefold() for text in users)


def prompt_hash(line: bytes, seed: int) -> int:
    """A seeded 64-bit hash of the prompt: the same prompt always lands on the same side."""
    digest = hashlib.blake2b(
        prompt_text(line).encode("utf-8"), digest_size=8, key=seed.to_bytes(8, "big", signed=True)
    )
    return int.from_bytes(digest.digest(), "big")
