"""95% intervals for a model's mean score.

Scores that are all 0 or 1 (exact, normalized, contains, regex, json) are proportions: their
interval is the **Wilson score interval**, which stays inside [0, 1] and is honest for small n.
Other scores (f1, judge halves) get the **normal approximation** mean ± 1.96·s/√n (sample
standard deviation), clipped to [0, 1]. Both are closed forms, so a run's intervals are
deterministic (no bootstrap resampling).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Z95 = 1.959963984540054


def wilson(successes: float, n: int, z: float = Z95) -> tuple[float, float]:
    if n <= 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def normal(values: Sequence[float], z: float = Z95) -> tuple[float, float]:
    n = len(values)
    if n == 0:
        return (0.0, 1.0)
    mean = sum(values) / n
    if n == 1:
        return (max(0.0, min(1.0, mean)), max(0.0, min(1.0, mean)))
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    half = z * math.sqrt(var / n)
    return (max(0.0, mean - half), min(1.0, mean + half))


def mean_ci95(values: Sequence[float]) -> tuple[float, tuple[float, float]]:
    """(mean, 95% interval) of scores in [0, 1]; Wilson when every score is 0 or 1."""
    n = len(values)
    if n == 0:
        return (0.0, (0.0, 1.0))
    mean = sum(values) / n
    if all(v in (0.0, 1.0) for v in values):
        return (mean, wilson(sum(values), n))
    return (mean, normal(values))
