"""Pause saves everything and resume continues exactly; cancel returns promptly."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest

from tests.local.tiny_model import RecordingSink, build_tiny_model, pattern_examples, write_jsonl
from tui.local.training import Hyperparameters, TrainingError, TrainingRequest, run_training
from tui.local.training.interface import StopKind


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


def request(model_dir: Path, root: Path, *, resume: bool = False) -> TrainingRequest:
    train = write_jsonl(root / "train.jsonl", pattern_examples(9))
    valid = write_jsonl(root / "valid.jsonl", pattern_examples(3, start=20))
    return TrainingRequest(
        job_id="ftjob-p",
        model_dir=model_dir,
        training_file=train,
        validation_file=valid,
        hyperparameters=Hyperparameters(n_epochs=3, batch_size=2, learning_rate_multiplier=10.0),
        seed=11,
        work_dir=root / "work",
        fine_tuned_model="ft:tiny:local::ftjob-p",
        resume=resume,
    )


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_pause_then_resume_ends_where_an_uninterrupted_run_ends(
    model_dir: Path, tmp_path: Path
) -> None:
    straight = RecordingSink()
    reference = run_training(request(model_dir, tmp_path / "straight"), straight)

    paused_sink = RecordingSink(stop_after_step=("pause", 5))
    paused = run_training(request(model_dir, tmp_path / "paused"), paused_sink)
    assert paused.status == "paused"
    assert [m["step"] for m in paused_sink.metrics()] == [1, 2, 3, 4, 5]
    assert paused.adapter_dir is not None and (paused.adapter_dir / "adapter_config.json").is_file()

    resumed_sink = RecordingSink()
    resumed = run_training(request(model_dir, tmp_path / "paused", resume=True), resumed_sink)
    assert resumed.status == "succeeded"
    assert [m["step"] for m in resumed_sink.metrics()] == list(range(6, 16))
    combined = paused_sink.metrics() + resumed_sink.metrics()
    assert combined == straight.metrics()  # the same floats, validation included
    assert resumed.trained_tokens == reference.trained_tokens
    assert [c["step"] for c in paused_sink.checkpoints + resumed_sink.checkpoints] == [5, 10, 15]
    assert resumed.result_csv is not None and reference.result_csv is not None
    assert rows(resumed.result_csv) == rows(reference.result_csv)
    assert not (tmp_path / "paused" / "work" / "pause_state").exists()


def test_resume_without_pause_state_fails_clearly(model_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(TrainingError) as caught:
        run_training(request(model_dir, tmp_path, resume=True), RecordingSink())
    assert caught.value.code == "resume_failed"


def test_resume_refuses_a_changed_job(model_dir: Path, tmp_path: Path) -> None:
    run_training(request(model_dir, tmp_path), RecordingSink(stop_after_step=("pause", 1)))
    changed = request(model_dir, tmp_path, resume=True)
    write_jsonl(changed.training_file, pattern_examples(4))
    with pytest.raises(TrainingError, match="n_examples"):
        run_training(changed, RecordingSink())


def test_cancel_returns_promptly_without_a_model(model_dir: Path, tmp_path: Path) -> None:
    sink = RecordingSink(stop_after_step=("cancel", 2))
    started = time.monotonic()
    outcome = run_training(request(model_dir, tmp_path), sink)
    assert outcome.status == "cancelled"
    assert outcome.adapter_dir is None
    assert len(sink.metrics()) == 2
    assert time.monotonic() - started < 30  # includes loading the model


def test_cancel_inside_a_step_stops_between_micro_batches(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FT_TUI_TRAIN_TOKEN_BUDGET", "1")  # one example per micro-batch

    class CancelMidStep(RecordingSink):
        def stop_requested(self) -> StopKind | None:
            self.polls += 1
            # poll 1: before step 1; poll 2: between its two micro-batches
            return "cancel" if self.polls == 2 else None

    sink = CancelMidStep()
    outcome = run_training(request(model_dir, tmp_path), sink)
    assert outcome.status == "cancelled"
    assert sink.metrics() == []  # the step never finished
