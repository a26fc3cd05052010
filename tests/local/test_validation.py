"""Property tests for the request validators (tui/local/validation.py) and the trainer child's
signal and parent-death helpers (tui/local/child_process.py)."""

from __future__ import annotations

import json
import math
import os
import select
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from typing import IO

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.local.errors import ApiError
from tui.local.validation import (
    INT64,
    bounded_int,
    deeper_than,
    dumps,
    finite_float,
    finite_json,
    loads_stored,
    parse_json,
    parse_json_object,
    read_body,
)

PROPS = settings(max_examples=200, deadline=None)


@PROPS
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_finite_float_accepts_exactly_the_finite_numbers(value: float) -> None:
    if math.isfinite(value):
        assert finite_float(value, "p") == value
    else:
        with pytest.raises(ApiError) as caught:
            finite_float(value, "p")
        assert caught.value.status == 400 and caught.value.param == "p"


@PROPS
@given(
    st.one_of(st.floats(allow_nan=False), st.integers()),
    st.floats(-1e6, 1e6),
    st.floats(-1e6, 1e6),
    st.booleans(),
)
def test_finite_float_range(value: float, a: float, b: float, exclusive: bool) -> None:
    low, high = min(a, b), max(a, b)
    inside = math.isfinite(float(value)) if abs(value) < 1e308 else False
    inside = inside and (value > low if exclusive else value >= low) and value <= high
    if inside:
        assert finite_float(value, "x.y", low=low, high=high, low_exclusive=exclusive) == value
    else:
        with pytest.raises(ApiError) as caught:
            finite_float(value, "x.y", low=low, high=high, low_exclusive=exclusive)
        assert caught.value.status == 400 and caught.value.param == "x.y"
        assert "x.y" in caught.value.message


@PROPS
@given(st.one_of(st.booleans(), st.text(max_size=5), st.none(), st.lists(st.integers())))
def test_non_numbers_are_refused(value: object) -> None:
    with pytest.raises(ApiError):
        finite_float(value, "p")
    with pytest.raises(ApiError):
        bounded_int(value, "p", *INT64)


@PROPS
@given(st.integers(min_value=-(2**80), max_value=2**80))
def test_bounded_int_is_exactly_the_range(value: int) -> None:
    low, high = INT64
    if low <= value <= high:
        assert bounded_int(value, "seed", low, high) == value
    else:
        with pytest.raises(ApiError) as caught:
            bounded_int(value, "seed", low, high)
        assert caught.value.status == 400 and caught.value.param == "seed"


@PROPS
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_bounded_int_refuses_floats(value: float) -> None:
    with pytest.raises(ApiError):
        bounded_int(value, "n", -10, 10)


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=20,
)


def _depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


@PROPS
@given(JSON, st.integers(min_value=0, max_value=8))
def test_depth_check_matches_the_real_depth(value: object, limit: int) -> None:
    raw = json.dumps(value).encode()
    assert deeper_than(raw, limit) == (_depth(value) > limit)


@PROPS
@given(JSON)
def test_finite_json_round_trips(value: object) -> None:
    assert parse_json(json.dumps(value).encode()) == value


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": NaN}',
        b'{"a": Infinity}',
        b'{"a": -Infinity}',
        b'{"a": 1e400}',
        b'{"a": [1, -1e999]}',
    ],
)
def test_non_finite_json_is_refused(raw: bytes) -> None:
    with pytest.raises(ApiError) as caught:
        parse_json_object(raw)
    assert caught.value.status == 400 and caught.value.code == "invalid_number"


def test_deep_and_huge_bodies_are_refused_before_parsing() -> None:
    deep = b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(ApiError) as caught:
        parse_json_object(deep)
    assert caught.value.status == 400 and caught.value.code == "json_too_deep"
    with pytest.raises(ApiError) as caught:
        parse_json_object(b'{"a": "' + b"x" * 2000 + b'"}', max_bytes=1000)
    assert caught.value.status == 413
    for raw in (b"", b"  ", b"[1]", b"{", b'{"a": ' + b"9" * 10_000 + b"}", b"\xff"):
        with pytest.raises(ApiError) as caught:
            parse_json_object(raw)
        assert caught.value.status == 400


def test_a_stalled_body_times_out() -> None:
    async def stalls() -> AsyncIterator[bytes]:
        yield b"{"
        await anyio.sleep(60)
        yield b"}"

    async def main() -> None:
        with pytest.raises(ApiError) as caught:
            await read_body(stalls(), timeout_s=0.2)
        assert caught.value.status == 408

    anyio.run(main)


CHILD = textwrap.dedent(
    """
    import os, signal, sys, time
    from tui.local.child_process import prepare_trainer_child
    pid = os.fork()
    if pid == 0:
        prepare_trainer_child(interval_s=0.05)
        print(f"child {os.getpid()}", flush=True)
        while True:  # ticks show it is alive
            print("tick", flush=True)
            time.sleep(0.05)
    else:  # the "server": survives the group's signals, exits when told to
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("parent", flush=True)
        sys.stdin.readline()
        os._exit(0)
    """
)


def _line(stream: IO[str], timeout_s: float = 30.0) -> str:
    """The next line, or "" when none comes in time (a dead child must fail, not hang)."""
    ready, _, _ = select.select([stream], [], [], timeout_s)
    return stream.readline() if ready else ""


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork and /proc")
def test_trainer_child_ignores_group_signals_and_stops_when_orphaned() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", CHILD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert parent.stdin is not None and parent.stdout is not None
    child, parent_ready = 0, False
    while not (child and parent_ready):
        line = _line(parent.stdout)
        assert line, "the test process ended early"
        parent_ready = parent_ready or line == "parent\n"
        child = int(line.split()[1]) if line.startswith("child ") else child
    try:
        os.killpg(parent.pid, signal.SIGTERM)  # the whole group, as systemd and docker do
        os.kill(child, signal.SIGINT)
        for _ in range(3):  # it keeps running after both signals
            assert _line(parent.stdout) in ("tick\n", "parent\n"), "a signal stopped the child"
        parent.stdin.write("go\n")
        parent.stdin.close()
        parent.wait(30)
        deadline = time.monotonic() + 30
        while not _gone(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _gone(child), "the orphaned trainer child kept running"
    finally:
        if not _gone(child):
            os.kill(child, signal.SIGKILL)
        if parent.poll() is None:
            parent.kill()
        parent.wait(30)


ANY_FLOATS = st.recursive(
    st.floats() | st.integers() | st.text(max_size=3) | st.none(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=15,
)


@PROPS
@given(ANY_FLOATS)
def test_serialising_never_fails_and_writes_non_finite_as_null(value: object) -> None:
    text = dumps(value)
    parsed = parse_json(text.encode())  # strict: it would refuse NaN or Infinity
    assert parsed == finite_json(value)
    assert loads_stored(json.dumps(value)) == finite_json(value)  # what an old server stored
