"""The one owner of numeric validation and JSON body parsing for the local server's requests.

Every route that reads numbers from a request calls these helpers, so a bad number gets the same
OpenAI-shaped 400 (naming its `param`) everywhere:

* `finite_float` — a JSON number (never a bool), finite, inside an optional range.
* `bounded_int` — a JSON integer (never a bool or a float), inside a range; `INT64` and `INT32`
  are the usual wire bounds.
* `parse_json_object` — bytes to a JSON object. The size and the nesting depth are checked before
  the parser runs (a body nested 100,000 deep would otherwise hit the interpreter's recursion
  limit), and `NaN`, `Infinity`, `-Infinity` and numbers that overflow a float (`1e400`) are
  refused: Python's `json` accepts all of them, but they are not JSON and cannot be written back.
* `finite_json` / `dumps` — what the server writes (responses, the store) has every non-finite
  float as `null`, so serialising never fails, even for a NaN an older server stored.
* `read_body` — reads a request body with a size cap and a per-chunk read timeout, so a client
  whose body stalls gets a 408 instead of holding a connection forever.

Written by hand because the standard library's `json` has no depth limit and no finite-only mode,
and no well-kept library in the dependencies offers those on top of it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import AsyncIterator
from typing import Any, NoReturn

import anyio

from tui.local.errors import ApiError, bad_request

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
UINT32 = (0, 2**32 - 1)

MAX_JSON_BYTES = 16 * 1024 * 1024
MAX_JSON_DEPTH = 64
BODY_READ_TIMEOUT_S = 30.0

INVALID_JSON = (
    "We could not parse the JSON body of your request. The local server expects a JSON object "
    "(Content-Type: application/json)."
)
NON_FINITE_JSON = (
    "The JSON body contains NaN, Infinity or a number too large for a float; these are not valid "
    "JSON numbers."
)

# A JSON string, escapes included (the unrolled form keeps the regex engine linear).
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
# Openers become +1, closers -1 (0xff as a signed byte).
_TO_STEP = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_SMALL = 4096
_DROP_ALL_BUT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def _number_text(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def finite_float(
    value: Any,
    param: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_exclusive: bool = False,
) -> float:
    """`value` as a finite float inside [low, high] (or (low, high] with `low_exclusive`)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad_request(f"Invalid type for '{param}': expected a number.", param=param)
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        number = math.inf if value > 0 else -math.inf
    if not math.isfinite(number):
        raise bad_request(
            f"Invalid value for '{param}': {_number_text(value)}. It must be a finite number.",
            param=param,
        )
    too_low = low is not None and (number <= low if low_exclusive else number < low)
    too_high = high is not None and number > high
    if too_low or too_high:
        raise bad_request(
            f"Invalid value for '{param}': {_number_text(value)}. It must be "
            f"{_range_text(low, high, low_exclusive)}.",
            param=param,
        )
    return number


def bounded_int(value: Any, param: str, low: int, high: int) -> int:
    """`value` as an integer inside [low, high] (a JSON float, even 2.0, is refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(
            f"Invalid type for '{param}': expected an integer from {low} to {high}.", param=param
        )
    if not low <= value <= high:
        raise bad_request(
            f"Invalid value for '{param}': {_number_text(value)}. It must be an integer from "
            f"{low} to {high}.",
            param=param,
        )
    return value


def _range_text(low: float | None, high: float | None, low_exclusive: bool) -> str:
    if low is not None and high is not None:
        return f"{'>' if low_exclusive else '>='} {low:g} and <= {high:g}"
    if low is not None:
        return f"{'>' if low_exclusive else '>='} {low:g}"
    if high is not None:
        return f"<= {high:g}"
    return "a finite number"


def deeper_than(raw: bytes, limit: int) -> bool:
    """Whether arrays and objects in `raw` nest more than `limit` deep (brackets inside strings
    do not count).

    Runs at C speed: strings are blanked with one regex, every byte but brackets is dropped,
    and the depth is the running sum of +1 (opener) and -1 (closer), taken by numpy (a
    dependency of transformers, so always there with the `local` extra) when the brackets are
    many. A 16 MB body costs tens of milliseconds."""
    if b"[" not in raw and b"{" not in raw:
        return False
    steps = _STRING.sub(b'""', raw).translate(_TO_STEP, _DROP_ALL_BUT_BRACKETS)
    if len(steps) <= limit:
        return False
    if len(steps) <= _SMALL:
        depth = 0
        for step in steps:
            depth += 1 if step == 1 else -1
            if depth > limit:
                return True
        return False
    import numpy as np

    depths = np.cumsum(np.frombuffer(steps, dtype=np.int8), dtype=np.int32)
    return bool(depths.max() > limit)


def finite_json(value: Any) -> Any:
    """`value` with every non-finite float replaced by None (containers copied, never mutated)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite_json(item) for item in value]
    return value


def dumps(value: Any, *, compact: bool = True) -> str:
    """JSON text of `value`; non-finite floats become null, so this never fails on numbers."""
    separators = (",", ":") if compact else None
    return json.dumps(finite_json(value), separators=separators, allow_nan=False)


def loads_stored(text: str) -> Any:
    """JSON the server wrote earlier; a NaN or Infinity an older version stored reads as None."""
    return finite_json(json.loads(text, parse_constant=lambda _name: None))


def _refuse_constant(_name: str) -> NoReturn:
    raise _NonFinite


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise _NonFinite
    return number


class _NonFinite(ValueError):
    pass


def parse_json(
    raw: bytes, *, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH
) -> Any:
    """Any JSON value from `raw`; ApiError 400 (413 when too large) for anything else."""
    if len(raw) > max_bytes:
        raise too_large(max_bytes)
    if deeper_than(raw, max_depth):
        raise bad_request(
            f"The JSON body is nested more than {max_depth} levels deep.", code="json_too_deep"
        )
    try:
        return json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)
    except _NonFinite:
        raise bad_request(NON_FINITE_JSON, code="invalid_number") from None
    except (UnicodeDecodeError, ValueError, RecursionError):  # JSONDecodeError, int digit limit
        raise bad_request(INVALID_JSON) from None


def parse_json_object(
    raw: bytes, *, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH
) -> dict[str, Any]:
    if not raw.strip():
        raise bad_request("The request body is empty; expected a JSON object.")
    body = parse_json(raw, max_bytes=max_bytes, max_depth=max_depth)
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    return body


def too_large(max_bytes: int) -> ApiError:
    return ApiError(
        413, f"The JSON body is larger than {max_bytes} bytes.", code="request_too_large"
    )


def body_timeout(seconds: float) -> ApiError:
    return ApiError(
        408,
        f"The request body stalled: no data arrived for {seconds:g} seconds.",
        code="request_timeout",
    )


async def timed_chunks(
    chunks: AsyncIterator[bytes], timeout_s: float = BODY_READ_TIMEOUT_S
) -> AsyncIterator[bytes]:
    """Yields `chunks`, raising ApiError 408 when the next one takes longer than `timeout_s`."""
    iterator = chunks.__aiter__()
    while True:
        try:
            with anyio.fail_after(timeout_s):
                chunk = await iterator.__anext__()
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise body_timeout(timeout_s) from None
        yield chunk


async def read_body(
    chunks: AsyncIterator[bytes],
    *,
    max_bytes: int = MAX_JSON_BYTES,
    timeout_s: float = BODY_READ_TIMEOUT_S,
) -> bytes:
    """The whole body, read to its end even when too large (answering before the client has
    sent it all resets the connection), then ApiError 413 if it was over `max_bytes`."""
    parts: list[bytes] = []
    size = 0
    async for chunk in timed_chunks(chunks, timeout_s):
        size += len(chunk)
        if size <= max_bytes:
            parts.append(chunk)
    if size > max_bytes:
        raise too_large(max_bytes)
    return b"".join(parts)
