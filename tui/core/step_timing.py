"""Time per training step and time spent training, from the timestamps of metrics events.

The job view's ETA is `seconds per step × steps left`, where seconds per step is the median over
consecutive metrics events; a pause (or a server restart) is one long gap, which the median
ignores, so a resumed job's ETA does not jump before its next step. Time spent training sums the
gaps that look like training (at most `PAUSE_FACTOR` × the median per step).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from statistics import median

PAUSE_FACTOR = 5.0


@dataclass(frozen=True)
class StepTiming:
    seconds_per_step: float | None  # None until two steps are known
    training_seconds: float  # time spent between the first and last known step, pauses left out


def step_timing(points: Iterable[tuple[int, float]]) -> StepTiming:
    """`points`: (step, unix time) of metrics events, in any order; duplicates are ignored."""
    by_step: dict[int, float] = {}
    for step, when in points:
        by_step.setdefault(step, when)
    ordered = sorted(by_step.items())
    rates: list[tuple[float, float]] = []  # (seconds per step, seconds of the gap)
    for (s1, t1), (s2, t2) in zip(ordered, ordered[1:], strict=False):
        if s2 > s1 and t2 >= t1:
            rates.append(((t2 - t1) / (s2 - s1), t2 - t1))
    if not rates:
        return StepTiming(None, 0.0)
    per_step = median(rate for rate, _ in rates)
    limit = per_step * PAUSE_FACTOR
    training = sum(gap for rate, gap in rates if rate <= limit)
    return StepTiming(per_step, training)
