"""Distributions of per-example counts and the cookbook's epoch / billed-token estimate.

A `Distribution` keeps exact values up to `EXACT_CAP`; past that it folds them into a fixed
histogram (one bin per integer below 2048, then bins 0.5% wide), so memory stays bounded at any
file size. Quantiles use numpy's default linear interpolation; they are exact while the
distribution is exact, and within 0.5% (exact below 2048) once it is binned. Min, max, count
and mean are always exact. Distributions merge, so byte-range chunks can be counted apart.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable
from dataclasses import dataclass

EXACT_CAP = 200_000
_LINEAR_BINS = 2048
_RATIO = 1.005
_LOG_RATIO = math.log(_RATIO)

# Chat_finetuning_data_prep.ipynb, cell 11.
TARGET_EPOCHS = 3
MIN_TARGET_EXAMPLES = 100
MAX_TARGET_EXAMPLES = 25000
MIN_DEFAULT_EPOCHS = 1
MAX_DEFAULT_EPOCHS = 25


def _bin_of(value: int) -> int:
    if value < _LINEAR_BINS:
        return value
    return _LINEAR_BINS + int(math.log(value / _LINEAR_BINS) / _LOG_RATIO)


def _bin_value(index: int) -> float:
    if index < _LINEAR_BINS:
        return float(index)
    low = _LINEAR_BINS * _RATIO ** (index - _LINEAR_BINS)
    return low * math.sqrt(_RATIO)  # geometric middle of the bin


class Distribution:
    """Mergeable distribution of non-negative integers."""

    def __init__(self) -> None:
        self.count = 0
        self.total = 0
        self.min: int | None = None
        self.max: int | None = None
        self.values: array[int] | None = array("q")
        self.bins: dict[int, int] = {}

    def add(self, value: int) -> None:
        self.count += 1
        self.total += value
        if self.min is None or value < self.min:
            self.min = value
        if self.max is None or value > self.max:
            self.max = value
        if self.values is not None:
            self.values.append(value)
            if len(self.values) > EXACT_CAP:
                self._fold()
        else:
            b = _bin_of(value)
            self.bins[b] = self.bins.get(b, 0) + 1

    def _fold(self) -> None:
        if self.values is None:
            return
        for value in self.values:
            b = _bin_of(value)
            self.bins[b] = self.bins.get(b, 0) + 1
        self.values = None

    @property
    def exact(self) -> bool:
        return self.values is not None

    def merge(self, other: Distribution) -> None:
        if other.count == 0:
            return
        self.count += other.count
        self.total += other.total
        if other.min is not None:
            self.min = other.min if self.min is None else min(self.min, other.min)
        if other.max is not None:
            self.max = other.max if self.max is None else max(self.max, other.max)
        if self.values is not None and other.values is not None:
            self.values.extend(other.values)
            if len(self.values) > EXACT_CAP:
                self._fold()
            return
        self._fold()
        if other.values is not None:
            for value in other.values:
                b = _bin_of(value)
                self.bins[b] = self.bins.get(b, 0) + 1
        else:
            for b, n in other.bins.items():
                self.bins[b] = self.bins.get(b, 0) + n

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None

    def _value_at_rank(self, rank: int, ordered_bins: list[tuple[int, int]]) -> float:
        seen = 0
        for b, n in ordered_bins:
            seen += n
            if rank < seen:
                return _bin_value(b)
        return float(self.max or 0)

    def quantiles(self, qs: tuple[float, ...]) -> list[float | None]:
        if not self.count:
            return [None for _ in qs]
        if self.values is not None:
            ordered = sorted(self.values)
            return [_interpolate(q, len(ordered), lambda i: float(ordered[i])) for q in qs]
        bins = sorted(self.bins.items())
        low, high = float(self.min or 0), float(self.max or 0)

        def at(i: int) -> float:
            if i == 0:
                return low
            if i == self.count - 1:
                return high
            return min(max(self._value_at_rank(i, bins), low), high)

        return [_interpolate(q, self.count, at) for q in qs]

    def count_above(self, threshold: float) -> int:
        if self.values is not None:
            return sum(1 for v in self.values if v > threshold)
        return sum(n for b, n in self.bins.items() if _bin_value(b) > threshold)

    def histogram(self, n_bins: int = 20) -> list[tuple[int, int, int]]:
        """(low, high, count) over [min, max] in equal-width integer ranges."""
        if not self.count or self.min is None or self.max is None:
            return []
        width = max(1, math.ceil((self.max - self.min + 1) / n_bins))
        counts = [0] * math.ceil((self.max - self.min + 1) / width)
        source: list[tuple[float, int]]
        if self.values is not None:
            source = [(float(v), 1) for v in self.values]
        else:
            source = [(_bin_value(b), n) for b, n in self.bins.items()]
        for value, n in source:
            idx = min(len(counts) - 1, max(0, int((value - self.min) // width)))
            counts[idx] += n
        return [
            (self.min + i * width, min(self.max, self.min + (i + 1) * width - 1), c)
            for i, c in enumerate(counts)
        ]


def _interpolate(q: float, n: int, at: Callable[[int], float]) -> float:
    """numpy.quantile's default ('linear') method over n sorted values read through `at`."""
    pos = q * (n - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, n - 1)
    frac = pos - lo
    a, b = float(at(lo)), float(at(hi))
    return a + (b - a) * frac


@dataclass(frozen=True)
class Summary:
    count: int
    min: int | None
    max: int | None
    mean: float | None
    median: float | None
    p10: float | None
    p90: float | None
    exact: bool

    def to_json(self) -> dict[str, object]:
        return {
            "count": self.count,
            "min": self.min,
            "max": self.max,
            "mean": self.mean,
            "median": self.median,
            "p10": self.p10,
            "p90": self.p90,
            "exact": self.exact,
        }


def summarize(dist: Distribution) -> Summary:
    p10, median, p90 = dist.quantiles((0.1, 0.5, 0.9))
    return Summary(dist.count, dist.min, dist.max, dist.mean, median, p10, p90, dist.exact)


def default_epochs(n_examples: int) -> int:
    """The cookbook's default epoch count for `n_examples` training examples."""
    if n_examples <= 0:
        return 0
    if n_examples * TARGET_EPOCHS < MIN_TARGET_EXAMPLES:
        return min(MAX_DEFAULT_EPOCHS, MIN_TARGET_EXAMPLES // n_examples)
    if n_examples * TARGET_EPOCHS > MAX_TARGET_EXAMPLES:
        return max(MIN_DEFAULT_EPOCHS, MAX_TARGET_EXAMPLES // n_examples)
    return TARGET_EPOCHS


@dataclass(frozen=True)
class Estimate:
    epochs: int
    tokens_per_epoch: int
    billed_tokens: int
    cost_usd: float | None

    def to_json(self) -> dict[str, object]:
        return {
            "epochs": self.epochs,
            "tokens_per_epoch": self.tokens_per_epoch,
            "billed_tokens": self.billed_tokens,
            "cost_usd": self.cost_usd,
        }
