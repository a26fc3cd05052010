"""Metrics series (pure) and fine-tuned model names / shutdown dates."""

from __future__ import annotations

import random
from datetime import date

import pytest

from tui.core.metrics import COLUMNS, MetricsSeries
from tui.core.model_names import (
    base_model_of,
    days_left,
    parse_model_name,
    shutdown_label,
)


def _series(n: int, seed: int = 1) -> tuple[MetricsSeries, list[dict[str, float | int]]]:
    rng = random.Random(seed)
    series = MetricsSeries()
    datas: list[dict[str, float | int]] = []
    for step in range(1, n + 1):
        data: dict[str, float | int] = {
            "step": step,
            "total_steps": n,
            "train_loss": rng.uniform(0, 3),
        }
        if step % 10 == 0:
            data["valid_loss"] = rng.uniform(0, 3)
        datas.append(data)
    series.extend(datas)
    return series, datas


@pytest.mark.parametrize("n", [1, 2, 7, 8, 9, 63, 64, 65, 1000, 4099])
def test_downsample_buckets_match_brute_force(n: int) -> None:
    series, datas = _series(n)
    for column in ("train_loss", "valid_loss"):
        for width in (1, 3, 80, 5000):
            buckets = series.downsample(column, width)
            assert len(buckets) <= width
            covered = 0
            for b in buckets:
                window = datas[b.step_lo - 1 : b.step_hi]  # steps are 1..n
                vals = [float(d[column]) for d in window if column in d]
                assert (b.lo, b.hi) == (min(vals), max(vals))
                covered += len(vals)
            assert covered == sum(column in d for d in datas)


def test_point_by_point_and_random_batches_give_the_same_buckets() -> None:
    whole, datas = _series(3000, seed=4)
    rng = random.Random(9)
    single, batched = MetricsSeries(), MetricsSeries()
    for data in datas:
        single.add_event_data(data)
    i = 0
    while i < len(datas):
        size = rng.choice([1, 2, 7, 8, 9, 100, 700])
        batched.extend(datas[i : i + size])
        i += size
    for column in ("train_loss", "valid_loss"):
        for width in (5, 120):
            expected = whole.downsample(column, width)
            assert single.downsample(column, width) == expected
            assert batched.downsample(column, width) == expected


def test_extend_columns_matches_event_path_and_falls_back_on_disorder() -> None:
    whole, datas = _series(500, seed=2)
    steps = [int(d["step"]) for d in datas]
    columns = {
        c: [float(d[c]) if c in d else None for d in datas] for c in ("train_loss", "valid_loss")
    }
    bulk = MetricsSeries()
    assert bulk.extend_columns(steps, columns, total_steps=500) == 500
    assert bulk.downsample("train_loss", 50) == whole.downsample("train_loss", 50)
    assert bulk.downsample("valid_loss", 50) == whole.downsample("valid_loss", 50)
    assert bulk.total_steps == 500
    assert bulk.extend_columns([600, 550], {"train_loss": [1.0, 2.0]}) == 1  # 550 < 600
    assert bulk.rejected == 1 and bulk.last("train_loss") == (600, 1.0)


def test_bounds_last_and_sparse_columns() -> None:
    series, datas = _series(100)
    losses = [float(d["train_loss"]) for d in datas]
    assert series.bounds("train_loss") == (min(losses), max(losses))
    assert series.count("valid_loss") == 10 and series.last("valid_loss") is not None
    assert series.last("valid_loss")[0] == 100  # type: ignore[index]
    assert series.bounds("full_valid_loss") is None and series.last("full_valid_loss") is None
    assert series.downsample("full_valid_loss", 50) == []
    assert series.total_steps == 100 and len(series) == 100


def test_zoomed_range_and_repeated_or_old_steps() -> None:
    series = MetricsSeries()
    series.add_event_data({"step": 1, "train_loss": 2.0})
    series.add_event_data({"step": 2, "train_loss": 1.0})
    assert series.add_event_data({"step": 2, "valid_loss": 1.5})  # same step: merged
    assert not series.add_event_data({"step": 1, "train_loss": 9.0})  # older: ignored
    assert series.rejected == 1
    assert series.values("valid_loss") == [(2, 1.5)]
    assert series.values("train_loss") == [(1, 2.0), (2, 1.0)]
    assert not series.add_event_data({"train_loss": 1.0})  # no step
    assert series.add_event_data({"step": 3, "train_loss": float("nan")})  # kept as missing
    assert series.values("train_loss")[-1] == (2, 1.0) and len(series) == 3
    zoom = series.downsample("train_loss", 10, step_range=(2, 2))
    assert [(b.step_lo, b.lo) for b in zoom] == [(2, 1.0)]


def test_all_columns_are_tracked() -> None:
    series = MetricsSeries()
    data: dict[str, float | int] = {"step": 5, **{c: 0.5 for c in COLUMNS}}
    series.add_event_data(data)
    assert all(series.bounds(c) == (0.5, 0.5) for c in COLUMNS)


def test_parse_fine_tuned_and_checkpoint_names() -> None:
    name = parse_model_name("ft:gpt-4o-mini-2024-07-18:personal:recipe-ner:9o1eNNKO")
    assert name is not None
    assert (name.base, name.org, name.suffix, name.model_id) == (
        "gpt-4o-mini-2024-07-18",
        "personal",
        "recipe-ner",
        "9o1eNNKO",
    )
    assert not name.is_checkpoint and name.short() == "recipe-ner (gpt-4o-mini-2024-07-18)"
    ckpt = parse_model_name("ft:gpt-4.1-nano-2025-04-14:openai::BTz2REMH:ckpt-step-100")
    assert ckpt is not None and ckpt.suffix == "" and ckpt.checkpoint_step == 100
    assert ckpt.short() == "BTz2REMH (gpt-4.1-nano-2025-04-14) @ step 100"
    for bad in ("gpt-4o", "ft:a:b", "ft:a:b:c:d:step-3", "ft::o:s:id", "ft:a:b:c:d:e:f"):
        assert parse_model_name(bad) is None
    assert base_model_of("ft:gpt-4o:o::x") == "gpt-4o" and base_model_of("gpt-4o") == "gpt-4o"


def test_days_left_and_labels() -> None:
    today = date(2026, 11, 22)
    assert days_left("2027-01-14", today) == 53
    assert days_left(None, today) is None and days_left("soon", today) is None
    assert shutdown_label("2027-01-14", today) == "53 days left"
    assert shutdown_label("2026-11-23", today) == "1 day left"
    assert shutdown_label("2026-11-22", today) == "shuts down today"
    assert shutdown_label("2026-10-23", today) == "shut down 30 days ago"
    assert shutdown_label(None, today) == "no shutdown date"
