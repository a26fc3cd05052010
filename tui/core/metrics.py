"""Training metrics by step, built from `metrics` events, cheap to append and cheap to draw.

    series = MetricsSeries()
    series.add_event_data({"step": 3, "train_loss": 1.2, "train_mean_token_accuracy": 0.6})
    series.extend(events_data)                 # one batch: O(new points) + O(levels)
    series.bounds("train_loss")                # (min, max) over all history, O(1)
    series.downsample("train_loss", width=80)  # ≤ 80 Buckets(step_lo, step_hi, lo, hi)

Columns are `COLUMNS`; keys missing from an event (validation only at eval steps, full validation
only at epoch ends) stay missing. Each column keeps min/max pyramids with fan-out 8, so a bucket's
min/max costs O(levels) slice scans of at most 8 entries: a redraw at width W costs
O(W · log₈ n), not O(n). Steps must arrive in increasing order (events are merged oldest first);
a repeated step updates that step's values, an older step is ignored and counted in `rejected`.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

COLUMNS: tuple[str, ...] = (
    "train_loss",
    "valid_loss",
    "full_valid_loss",
    "train_mean_token_accuracy",
    "valid_mean_token_accuracy",
    "full_valid_mean_token_accuracy",
)
FANOUT = 8
_INF = math.inf


@dataclass(frozen=True)
class Bucket:
    step_lo: int
    step_hi: int
    lo: float
    hi: float


class _Pyramid:
    """Min and max over index ranges of one column; missing points are ±inf."""

    def __init__(self) -> None:
        self.mins: list[array[float]] = [array("d")]
        self.maxs: list[array[float]] = [array("d")]
        self.present = 0
        self.low = _INF
        self.high = -_INF

    def extend(self, values: list[float | None]) -> None:
        """Append points; only the pyramid blocks that cover new points are recomputed, so a
        batch of k points costs O(k) (plus O(levels) slices), at C speed for big batches."""
        if not values:
            return
        present = [v for v in values if v is not None]
        if present:
            self.present += len(present)
            self.low = min(self.low, min(present))
            self.high = max(self.high, max(present))
        first = len(self.mins[0])
        self.mins[0].extend([_INF if v is None else v for v in values])
        self.maxs[0].extend([-_INF if v is None else v for v in values])
        level = 1
        while len(self.mins[level - 1]) > 1:
            below_min, below_max = self.mins[level - 1], self.maxs[level - 1]
            first //= FANOUT
            if level == len(self.mins):
                self.mins.append(array("d"))
                self.maxs.append(array("d"))
                first = 0
            mins, maxs = self.mins[level], self.maxs[level]
            del mins[first:]
            del maxs[first:]
            starts = range(first * FANOUT, len(below_min), FANOUT)
            mins.extend([min(below_min[i : i + FANOUT]) for i in starts])
            maxs.extend([max(below_max[i : i + FANOUT]) for i in starts])
            level += 1

    def replace_last(self, value: float) -> None:
        """A repeated step: fold the new value into the last point's aggregates."""
        index = len(self.mins[0]) - 1
        if self.mins[0][index] == _INF:
            self.present += 1
        self.low = min(self.low, value)
        self.high = max(self.high, value)
        for level in range(len(self.mins)):
            i = index // FANOUT**level
            if value < self.mins[level][i]:
                self.mins[level][i] = value
            if value > self.maxs[level][i]:
                self.maxs[level][i] = value

    def range(self, start: int, stop: int) -> tuple[float, float]:
        """(min, max) over indexes [start, stop); (inf, -inf) when all missing."""
        lo, hi = _INF, -_INF
        level = 0
        while start < stop:
            mins, maxs = self.mins[level], self.maxs[level]
            if level == len(self.mins) - 1:
                lo = min(lo, min(mins[start:stop]))
                hi = max(hi, max(maxs[start:stop]))
                break
            head = min(stop, -(-start // FANOUT) * FANOUT)
            tail = max(head, stop // FANOUT * FANOUT)
            if head > start:
                lo = min(lo, min(mins[start:head]))
                hi = max(hi, max(maxs[start:head]))
            if stop > tail:
                lo = min(lo, min(mins[tail:stop]))
                hi = max(hi, max(maxs[tail:stop]))
            start, stop = head // FANOUT, tail // FANOUT
            level += 1
        return lo, hi


class MetricsSeries:
    def __init__(self) -> None:
        self.steps: array[int] = array("q")
        self._columns = {name: _Pyramid() for name in COLUMNS}
        self.total_steps: int | None = None
        self.rejected = 0

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def last_step(self) -> int | None:
        return self.steps[-1] if self.steps else None

    def add_event_data(self, data: Mapping[str, object]) -> bool:
        """Append one metrics event's `data`; returns whether a point was added or updated."""
        return self.extend([data]) == 1

    def extend(self, datas: Iterable[Mapping[str, object]]) -> int:
        """Append many events' `data` (oldest first) in one batch; returns points added or
        updated. A repeated last step is merged, an older step is rejected."""
        steps: list[int] = []
        columns: dict[str, list[float | None]] = {name: [] for name in COLUMNS}
        changed = 0
        for data in datas:
            step = data.get("step")
            if not isinstance(step, int) or isinstance(step, bool):
                continue
            total = data.get("total_steps")
            if isinstance(total, int) and not isinstance(total, bool) and total > 0:
                self.total_steps = total
            last = steps[-1] if steps else (self.steps[-1] if self.steps else None)
            if last is not None and step <= last:
                if step < last:
                    self.rejected += 1
                    continue
                if steps:  # merge into the pending batch: the newer value wins
                    for name in COLUMNS:
                        value = _number(data.get(name))
                        if value is not None:
                            columns[name][-1] = value
                else:
                    for name in COLUMNS:
                        value = _number(data.get(name))
                        if value is not None:
                            self._columns[name].replace_last(value)
                changed += 1
                continue
            steps.append(step)
            for name in COLUMNS:
                columns[name].append(_number(data.get(name)))
            changed += 1
        if steps:
            self.steps.extend(steps)
            for name, values in columns.items():
                self._columns[name].extend(values)
        return changed

    def extend_columns(
        self,
        steps: Sequence[int],
        columns: Mapping[str, Sequence[float | None]],
        total_steps: int | None = None,
    ) -> int:
        """Bulk append from columns (e.g. rows read back from the cache), without per-point
        Python work. Steps must be strictly increasing and after the last one; otherwise this
        falls back to `extend`."""
        if not steps:
            return 0
        increasing = all(a < b for a, b in zip(steps, steps[1:], strict=False))
        if not increasing or (self.steps and steps[0] <= self.steps[-1]):
            rows = [
                {"step": step, **{c: columns[c][i] for c in columns}}
                for i, step in enumerate(steps)
            ]
            return self.extend(rows)
        if total_steps:
            self.total_steps = total_steps
        self.steps.extend(steps)
        for name in COLUMNS:
            values = columns.get(name)
            self._columns[name].extend(list(values) if values is not None else [None] * len(steps))
        return len(steps)

    def count(self, column: str) -> int:
        """Points where `column` has a value."""
        return self._columns[column].present

    def bounds(self, column: str) -> tuple[float, float] | None:
        pyramid = self._columns[column]
        return (pyramid.low, pyramid.high) if pyramid.present else None

    def last(self, column: str) -> tuple[int, float] | None:
        """The most recent (step, value) of a column, scanning back only over missing points."""
        values = self._columns[column].mins[0]
        for i in range(len(values) - 1, -1, -1):
            if values[i] != _INF:
                return self.steps[i], values[i]
        return None

    def values(self, column: str) -> list[tuple[int, float]]:
        """Every (step, value) of a column: O(n), for exports and tests, not for redraws."""
        values = self._columns[column].mins[0]
        return [(s, v) for s, v in zip(self.steps, values, strict=True) if v != _INF]

    def downsample(
        self,
        column: str,
        width: int,
        step_range: tuple[int, int] | None = None,
    ) -> list[Bucket]:
        """Split the step range into ≤ `width` equal buckets; each non-empty one gives its
        min and max. Cost O(width · log n)."""
        if width <= 0 or not self.steps:
            return []
        first, last = step_range if step_range else (self.steps[0], self.steps[-1])
        if last < first:
            return []
        pyramid = self._columns[column]
        span = last - first + 1
        count = min(width, span)
        buckets: list[Bucket] = []
        start_index = bisect_left(self.steps, first)
        for b in range(count):
            lo_step = first + span * b // count
            hi_step = first + span * (b + 1) // count - 1
            stop_index = bisect_left(self.steps, hi_step + 1, lo=start_index)
            if stop_index > start_index:
                lo, hi = pyramid.range(start_index, stop_index)
                if lo != _INF:
                    buckets.append(Bucket(lo_step, hi_step, lo, hi))
            start_index = stop_index
        return buckets


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    result = float(value)
    return result if math.isfinite(result) else None
