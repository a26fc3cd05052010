"""The Jobs screen's pure parts: the form's field rules, the chart frame and its drawing, the
header's lines."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from screens.job_request import build_request, parse_hyper, parse_metadata, parse_suffix
from tui.core.metrics import MetricsSeries
from tui.widgets.job_header import JobSummary, eta_seconds, header_lines
from tui.widgets.loss_chart import frame_from_series, render_frame


def _values(training: str, **extra: str) -> dict[str, str]:
    return {"model": "gpt-4o-mini-2024-07-18", "method": "supervised", "training": training} | extra


def test_a_complete_form_becomes_a_service_request(tmp_path: Path) -> None:
    train = tmp_path / "train.jsonl"
    train.write_text("{}\n", encoding="utf-8")
    request, problems = build_request(
        _values(
            str(train),
            validation="file-abc123",
            suffix="bot-1",
            seed="7",
            n_epochs="4",
            batch_size="auto",
            learning_rate_multiplier="0.5",
            metadata="team=nlp, run=2",
        )
    )
    assert problems == []
    assert request is not None
    spec = request.spec("file-train", "file-abc123")
    spec.validate()  # the services layer agrees with the form
    kwargs = spec.to_create_kwargs()
    assert kwargs["method"] == {
        "type": "supervised",
        "supervised": {"hyperparameters": {"n_epochs": 4, "learning_rate_multiplier": 0.5}},
    }
    assert kwargs["suffix"] == "bot-1" and kwargs["seed"] == 7
    assert kwargs["metadata"] == {"team": "nlp", "run": "2"}
    assert kwargs["validation_file"] == "file-abc123"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("n_epochs", "0", "Epochs: must be from 1 to 50, got 0"),
        ("n_epochs", "2.5", "Epochs: '2.5' is not a whole number or auto"),
        ("batch_size", "257", "Batch size: must be from 1 to 256, got 257"),
        ("learning_rate_multiplier", "-1", "must be more than 0"),
        ("beta", "2.5", "DPO beta: must be more than 0 and at most 2, got 2.5"),
        ("beta", "0", "DPO beta: must be more than 0 and at most 2, got 0"),
    ],
)
def test_hyperparameters_out_of_range_are_named(name: str, text: str, message: str) -> None:
    value, problem = parse_hyper(name, text)
    assert value is None
    assert message in problem


def test_hyperparameters_accept_auto_and_bounds() -> None:
    assert parse_hyper("n_epochs", "") == ("auto", "")
    assert parse_hyper("n_epochs", "AUTO") == ("auto", "")
    assert parse_hyper("n_epochs", "50") == (50, "")
    assert parse_hyper("batch_size", "1") == (1, "")
    assert parse_hyper("beta", "2") == (2.0, "")


def test_suffix_and_metadata_limits() -> None:
    assert parse_suffix("x" * 64) == ("x" * 64, "")
    assert "at most 64" in parse_suffix("x" * 65)[1]
    assert "no spaces" in parse_suffix("my bot")[1]
    assert parse_suffix("  ") == (None, "")
    pairs = ", ".join(f"k{i}=v" for i in range(17))
    assert "at most 16 pairs" in parse_metadata(pairs)[1]
    assert "longer than 512" in parse_metadata("k=" + "v" * 513)[1]


def test_missing_training_file_and_same_validation_file(tmp_path: Path) -> None:
    request, problems = build_request(_values(""))
    assert request is None and "training file: required" in problems[0]
    train = tmp_path / "t.jsonl"
    train.write_text("{}\n", encoding="utf-8")
    _, problems = build_request(_values(str(train), validation=str(train)))
    assert problems == ["validation file: must differ from the training file"]
    _, problems = build_request(_values(str(tmp_path)))
    assert "is not a file" in problems[0]


def _series(points: int) -> MetricsSeries:
    datas: list[dict[str, object]] = []
    for step in range(1, points + 1):
        data: dict[str, object] = {
            "step": step,
            "total_steps": points,
            "train_loss": 2.0 * math.exp(-step / max(1, points / 3)) + 0.1 * math.sin(step),
        }
        if step % 10 == 0:
            data["valid_loss"] = 1.0
        datas.append(data)
    series = MetricsSeries()
    series.extend(datas)  # one batch, as the poller appends a page of events
    return series


def _braille(text: str) -> int:
    return sum(1 for ch in text if 0x2800 < ord(ch) <= 0x28FF)


def test_chart_with_three_points_marks_each_point() -> None:
    frame = frame_from_series(_series(3), 140)
    assert [len(s.xs) for s in frame.series] == [3]
    text = render_frame(frame, 78, 12).plain
    lines = text.splitlines()
    assert len(lines) == 12
    assert lines[0].startswith("loss") and "3 points" in lines[0]
    assert "step 1" in lines[-1] and lines[-1].rstrip().endswith("3")
    assert _braille(text) >= 3


def test_chart_with_50k_points_reads_only_width_buckets() -> None:
    series = _series(50_000)
    frame = frame_from_series(series, 140)
    assert all(len(s.xs) <= 140 for s in frame.series)
    assert {s.label for s in frame.series} == {"train", "valid"}
    text = render_frame(frame, 78, 12).plain
    assert len(text.splitlines()) == 12
    assert all(len(line) <= 78 for line in text.splitlines())
    assert "50,000 points" in text
    # The decreasing loss puts ink high on the left and low on the right.
    rows = text.splitlines()[1:-1]
    left_ink = [i for i, row in enumerate(rows) if _braille(row[8:20])]
    right_ink = [i for i, row in enumerate(rows) if _braille(row[-12:])]
    assert min(left_ink) < min(right_ink)


def test_accuracy_view_and_empty_chart() -> None:
    empty = render_frame(frame_from_series(MetricsSeries(), 100), 60, 10).plain
    assert "No metrics yet" in empty
    series = MetricsSeries()
    series.add_event_data({"step": 1, "train_loss": 1.0, "train_mean_token_accuracy": 0.5})
    series.add_event_data({"step": 2, "train_loss": 0.8, "train_mean_token_accuracy": 0.6})
    assert "token accuracy" in render_frame(frame_from_series(series, 100, True), 60, 10).plain


def test_header_names_failure_backoff_and_eta() -> None:
    failed = JobSummary(
        job_id="ftjob-1",
        status="failed",
        model="gpt-4o-mini-2024-07-18",
        error_code="invalid_n_examples",
        error_message="Training file has 3 example(s), but must have at least 10 examples",
        error_param="training_file",
    )
    text = "\n".join(line.plain for line in header_lines(failed, 1000.0))
    assert "error [invalid_n_examples] (training_file): Training file has 3" in text
    running = JobSummary(
        job_id="ftjob-2",
        status="running",
        model="m",
        step=25,
        total_steps=100,
        started_at=1000.0,
        backoff="Rate limited: retrying in 4s (attempt 2)",
    )
    assert eta_seconds(running, 1100.0) == pytest.approx(300.0)
    text = "\n".join(line.plain for line in header_lines(running, 1100.0))
    assert "step 25/100 (25%)" in text and "ETA 5m00s" in text
    assert "retrying in 4s" in text
    paused = JobSummary(job_id="j", status="paused", model="m", step=5, total_steps=10)
    assert eta_seconds(paused, 0.0) is None


def test_frame_cache_updates_only_new_buckets_and_matches_a_full_rebuild() -> None:
    from tui.widgets.loss_chart import FrameCache

    def data(step: int) -> dict[str, object]:
        row: dict[str, object] = {
            "step": step,
            "total_steps": 3000,
            "train_loss": 2.0 / step + 0.1 * math.sin(step),
        }
        if step % 100 == 0:
            row["full_valid_loss"] = 1.0 / step
        return row

    series = MetricsSeries()
    series.extend([data(s) for s in range(1, 1001)])
    cache = FrameCache()
    cache.frame(series, 150)
    for start in range(1001, 3001, 250):
        series.extend([data(s) for s in range(start, start + 250)])
        cached = cache.frame(series, 150)
        fresh = frame_from_series(series, 150)
        assert [(s.label, list(s.xs), s.lows, s.highs, s.last) for s in cached.series] == [
            (s.label, list(s.xs), s.lows, s.highs, s.last) for s in fresh.series
        ]
    assert cache.rebuilt == 1  # the axis ran to total_steps from the start
    cache.frame(series, 100)
    assert cache.rebuilt == 2  # a new width rebuilds


async def test_event_log_colours_levels_and_ignores_duplicates() -> None:
    from textual.app import App, ComposeResult

    from tui.widgets.event_log import EventLog, LogEntry

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield EventLog()

    async with Host().run_test(size=(60, 8)) as pilot:
        log = pilot.app.query_one(EventLog)
        entries = [
            LogEntry("e1", 0, "info", "Fine-tuning job started"),
            LogEntry("e2", 0, "warn", "Validation loss rising"),
            LogEntry("e3", 0, "error", "Training file has 3 example(s)"),
        ]
        assert log.add_entries(entries) == 3
        assert log.add_entries(entries[1:]) == 0  # known ids are skipped
        await pilot.pause()

        def colour(row: int) -> str:
            segment = list(log.render_line(row))[1]  # [time, message]
            assert segment.style is not None
            return segment.style.color.name if segment.style.color else "default"

        assert colour(1) == "yellow"
        assert colour(2) == "red"
        assert colour(0) != "red"


def test_only_jsonl_files_are_accepted(tmp_path: Path) -> None:
    data = tmp_path / "train.csv"
    data.write_text("a,b\n", encoding="utf-8")
    _, problems = build_request(_values(str(data)))
    assert problems == [
        "training file: fine-tuning takes .jsonl files (convert it in 1 Datasets with c)"
    ]
