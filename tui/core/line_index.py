"""A lazy index of line offsets, so any line of a multi-GB file can be shown at once.

The file is never loaded whole: `scan()` walks it in fixed-size blocks recording where each line
starts (8 bytes per line, in an `array`), and `read_line()` reads one line on demand with
`os.pread`. The first lines are readable before the scan finishes, which is what lets the viewer
show the first example of a 1 GB file immediately.
"""

from __future__ import annotations

import contextlib
import os
import threading
from array import array
from collections.abc import Callable
from pathlib import Path

BLOCK = 4 * 1024 * 1024
# A line longer than this is shown truncated; the linter still sees all of it.
MAX_LINE_READ = 8 * 1024 * 1024


class LineIndex:
    """Offsets of line starts in a file; thread-safe for one scanner and many readers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = path.stat().st_size
        self._starts = array("Q", [0]) if self.size else array("Q")
        self._scanned = 0  # bytes scanned so far
        self._complete = self.size == 0
        self._lock = threading.Lock()  # guards the offsets
        self._scan_lock = threading.Lock()  # one block scanned at a time, by whichever thread
        self._fd = os.open(path, os.O_RDONLY)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._fd)

    @property
    def complete(self) -> bool:
        return self._complete

    def known_lines(self) -> int:
        """Lines whose start is known (the last one may still be growing while scanning)."""
        with self._lock:
            count = len(self._starts)
            # A trailing newline does not start a new line.
            if self._complete and count and self._starts[-1] >= self.size:
                count -= 1
            return count

    def scan(
        self,
        on_progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
        until_line: int | None = None,
    ) -> None:
        """Index forward from where the last scan stopped (to the end, or until `until_line`)."""
        while not self._complete:
            if cancelled is not None and cancelled():
                return
            if until_line is not None and self.known_lines() > until_line + 1:
                return
            with self._scan_lock:
                self._scan_block()
            if on_progress is not None:
                on_progress(self._scanned, self.size)

    def _scan_block(self) -> None:
        if self._complete:
            return
        base = self._scanned
        block = os.pread(self._fd, BLOCK, base) if base < self.size else b""
        found = array("Q")
        pos = block.find(b"\n")
        while pos != -1:
            found.append(base + pos + 1)
            pos = block.find(b"\n", pos + 1)
        with self._lock:
            self._starts.extend(found)
            self._scanned = base + len(block)
            if not block or self._scanned >= self.size:
                self._complete = True

    def line_span(self, number: int) -> tuple[int, int] | None:
        """(start, end) byte offsets of 0-based line `number`, end excluding the newline."""
        with self._lock:
            if number < 0 or number >= len(self._starts):
                return None
            start = self._starts[number]
            if number + 1 < len(self._starts):
                end = self._starts[number + 1] - 1
            elif self._complete:
                end = self.size
            else:
                return None  # not scanned far enough to know where it ends
        return (start, end) if start <= self.size else None

    def read_line(self, number: int) -> bytes | None:
        """The bytes of 0-based line `number` (without its newline), scanning as far as needed."""
        span = self.line_span(number)
        if span is None and not self._complete:
            self.scan(until_line=number)
            span = self.line_span(number)
        if span is None:
            return None
        start, end = span
        data = os.pread(self._fd, min(end - start, MAX_LINE_READ), start)
        return data[:-1] if data.endswith(b"\r") else data
