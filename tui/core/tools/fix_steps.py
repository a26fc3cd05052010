"""The mechanical fixes, one line or example at a time. `fix.py` runs them in order."""

from __future__ import annotations

import codecs
from collections.abc import Callable
from dataclasses import dataclass, field

Example = dict[str, object]
SAMPLES = 5  # first affected lines shown per fix


@dataclass
class FixCount:
    """How often one fix applied, and where first (line number and what it saw)."""

    label: str
    count: int = 0
    first: list[str] = field(default_factory=list)

    def hit(self, number: int, detail: str) -> None:
        self.count += 1
        if len(self.first) < SAMPLES:
            self.first.append(f"line {number}: {detail}")


@dataclass(frozen=True)
class TokenLimit:
    """Drop examples whose token count (by `count`) is over `limit` for `model`."""

    model: str
    limit: int
    count: Callable[[Example], int]
    note: str = ""  # e.g. the model is not in the price table and the limit is assumed


def snippet(raw: bytes, limit: int = 60) -> str:
    text = raw.decode("utf-8", "replace").strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def normalise_line(raw: bytes) -> tuple[list[bytes], list[str]]:
    """Strip a BOM and carriage returns; a bare CR splits lines (JSON never holds a raw CR).

    Returns the resulting lines and what changed ("BOM", "CRLF", "CR").
    """
    changes: list[str] = []
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
        changes.append("BOM removed")
    if raw.endswith(b"\r"):
        raw = raw[:-1]
        changes.append("CRLF → LF")
    if b"\r" in raw:
        changes.append("CR line breaks → LF")
        return raw.split(b"\r"), changes
    return [raw], changes


def _trim_content(message: object) -> bool:
    if not isinstance(message, dict):
        return False
    content = message.get("content")
    if isinstance(content, str):
        if content != content.strip():
            message["content"] = content.strip()
            return True
        return False
    changed = False
    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                text = part["text"]
                if text != text.strip():
                    part["text"] = text.strip()
                    changed = True
    return changed


def _message_lists(example: Example) -> list[list[object]]:
    lists: list[list[object]] = []
    for key in ("messages", "preferred_output", "non_preferred_output"):
        value = example.get(key)
        if isinstance(value, list):
            lists.append(value)
    source = example.get("input")
    if isinstance(source, dict) and isinstance(source.get("messages"), list):
        lists.append(source["messages"])
    return lists


def trim_example(example: Example) -> bool:
    """Strip surrounding whitespace from every message text, in place; True when any changed."""
    changed = False
    for messages in _message_lists(example):
        for message in messages:
            changed = _trim_content(message) or changed
    return changed
