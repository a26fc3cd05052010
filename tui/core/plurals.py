"""Counted nouns for messages: "1 error", "2 errors", "1,234 examples".

One owner for how the app writes a count next to a noun, so no screen prints "1 errors".
"""

from __future__ import annotations

_IRREGULAR = {"entry": "entries", "match": "matches", "epoch": "epochs", "reply": "replies"}


def plural_noun(count: int, noun: str, many: str | None = None) -> str:
    """The noun in the form that goes with `count` (`many` overrides the plural)."""
    if count == 1:
        return noun
    if many is not None:
        return many
    if noun in _IRREGULAR:
        return _IRREGULAR[noun]
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`count` with thousands separators and the right form of `noun`: "1 job", "12,000 jobs"."""
    return f"{count:,} {plural_noun(count, noun, many)}"


def middle_ellipsis(text: str, width: int) -> str:
    """`text` cut to `width` characters in the middle, keeping its end (a name's suffix and
    extension tell files apart): "drone_training.valid.jsonl" → "drone…ng.valid.jsonl"."""
    if width <= 0:
        return ""
    if len(text) <= width:
        return text
    if width <= 2:
        return text[:width]
    end = (width - 1) * 2 // 3  # two thirds for the end, where names usually differ
    start = width - 1 - end
    return f"{text[:start]}…{text[len(text) - end :]}"
