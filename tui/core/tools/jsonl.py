"""JSON lines read and written the way the linter reads them (orjson), with a safe fallback."""

from __future__ import annotations

import json

import orjson


def loads(raw: bytes | str) -> object:
    """Parse one line; raises ValueError (orjson's decode error) as the linter would see it."""
    return orjson.loads(raw)


def dumps(value: object, *, sort_keys: bool = False) -> bytes:
    """Compact JSON bytes; integers beyond 64 bits fall back to the standard library."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS if sort_keys else 0)
    except TypeError:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys)
        return text.encode("utf-8")
