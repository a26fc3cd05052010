"""Progress reporting shared by the tools: a callback of (done, total), both in bytes.

A callback may raise `Cancelled` to stop the tool; the partial output is then discarded.
"""

from __future__ import annotations

import time
from collections.abc import Callable

ProgressCallback = Callable[[int, int], None]


class Throttle:
    """Forwards progress at most every `interval` seconds, and always the final value."""

    def __init__(self, callback: ProgressCallback | None, total: int, interval: float = 0.1):
        self._callback = callback
        self._total = total
        self._interval = interval
        self._last = 0.0

    def update(self, done: int) -> None:
        if self._callback is None:
            return
        now = time.monotonic()
        if now - self._last >= self._interval:
            self._last = now
            self._callback(min(done, self._total), self._total)

    def finish(self) -> None:
        if self._callback is not None:
            self._callback(self._total, self._total)
