"""Exact-duplicate detection with bounded memory: 8-byte hashes of each example's line.

Hashes arrive per byte-range chunk, already split into buckets by the scanner. Finding
duplicates walks one bucket at a time, so only one bucket's dictionary exists at once.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    _Part: TypeAlias = tuple[int, array[int], array[int]]  # (line offset, hashes, lines)


class HashIndex:
    def __init__(self, buckets: int) -> None:
        self._buckets: list[list[_Part]] = [[] for _ in range(buckets)]

    def add_chunk(
        self, line_offset: int, hashes: list[array[int]], lines: list[array[int]]
    ) -> None:
        for bucket, (h, ln) in enumerate(zip(hashes, lines, strict=True)):
            if h:
                self._buckets[bucket].append((line_offset, h, ln))

    def _first_lines(self, bucket: int) -> dict[int, int]:
        first: dict[int, int] = {}
        for offset, hashes, lines in self._buckets[bucket]:
            for h, ln in zip(hashes, lines, strict=True):
                if h not in first:
                    first[h] = offset + ln
        return first

    def duplicates(self) -> Iterator[tuple[int, int]]:
        """(line, line of its first occurrence) for every repeated example, in bucket order."""
        for bucket in range(len(self._buckets)):
            first: dict[int, int] = {}
            for offset, hashes, lines in self._buckets[bucket]:
                for h, ln in zip(hashes, lines, strict=True):
                    line = offset + ln
                    seen = first.setdefault(h, line)
                    if seen != line:
                        yield line, seen

    def overlap(self, other: HashIndex) -> Iterator[tuple[int, int]]:
        """(line here, line in `other`) for examples present in both indexes."""
        for bucket in range(min(len(self._buckets), len(other._buckets))):
            if not self._buckets[bucket] or not other._buckets[bucket]:
                continue
            theirs = other._first_lines(bucket)
            for offset, hashes, lines in self._buckets[bucket]:
                for h, ln in zip(hashes, lines, strict=True):
                    match = theirs.get(h)
                    if match is not None:
                        yield offset + ln, match
