"""Distributions match numpy, stay bounded when huge, and merge; the epoch heuristic."""

from __future__ import annotations

import random

import numpy as np
import pytest

from tui.core import stats
from tui.core.stats import Distribution, default_epochs, summarize


def test_exact_quantiles_equal_numpy() -> None:
    rng = random.Random(3)
    values = [rng.randint(0, 5000) for _ in range(999)]
    dist = Distribution()
    for v in values:
        dist.add(v)
    got = dist.quantiles((0.1, 0.5, 0.9))
    assert got == pytest.approx([float(np.quantile(values, q)) for q in (0.1, 0.5, 0.9)])
    s = summarize(dist)
    assert (s.min, s.max, s.exact) == (min(values), max(values), True)
    assert s.mean == pytest.approx(float(np.mean(values)))


def test_merging_chunks_gives_the_same_as_one_pass() -> None:
    a, b, whole = Distribution(), Distribution(), Distribution()
    for i in range(300):
        (a if i % 3 else b).add(i * 7 % 101)
        whole.add(i * 7 % 101)
    a.merge(b)
    assert a.quantiles((0.1, 0.5, 0.9)) == whole.quantiles((0.1, 0.5, 0.9))
    assert (a.count, a.total, a.min, a.max) == (whole.count, whole.total, whole.min, whole.max)


def test_binned_mode_is_bounded_and_close(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stats, "EXACT_CAP", 1000)
    rng = random.Random(5)
    values = [int(rng.lognormvariate(7, 1.2)) for _ in range(20_000)]
    dist = Distribution()
    for v in values:
        dist.add(v)
    assert not dist.exact and dist.values is None and len(dist.bins) < 3000
    for q, got in zip((0.1, 0.5, 0.9), dist.quantiles((0.1, 0.5, 0.9)), strict=True):
        expected = float(np.quantile(values, q))
        assert got == pytest.approx(expected, rel=0.006, abs=1)
    assert dist.mean == pytest.approx(float(np.mean(values)))  # always exact
    assert (dist.min, dist.max) == (min(values), max(values))
    other = Distribution()
    other.add(3)
    dist.merge(other)
    assert dist.count == 20_001 and dist.min == min([*values, 3])


def test_histogram_covers_every_value() -> None:
    dist = Distribution()
    for v in [1, 2, 2, 50, 100]:
        dist.add(v)
    bins = dist.histogram(n_bins=10)
    assert sum(c for _, _, c in bins) == 5
    assert bins[0][0] == 1 and bins[-1][1] == 100


@pytest.mark.parametrize(
    ("n", "epochs"),
    [(5, 20), (10, 10), (3, 25), (1, 25), (34, 3), (8333, 3), (8334, 2), (30000, 1), (0, 0)],
)
def test_cookbook_epoch_heuristic(n: int, epochs: int) -> None:
    assert default_epochs(n) == epochs


def test_empty_distribution_has_no_numbers() -> None:
    s = summarize(Distribution())
    assert (s.count, s.min, s.median, s.mean) == (0, None, None, None)
