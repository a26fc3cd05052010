"""`run_training` on the tiny model: the numbers a user watches are right and reproducible."""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path
from typing import Any

import pytest

from tests.local.tiny_model import RecordingSink, build_tiny_model, pattern_examples, write_jsonl
from tui.local.training import (
    BASE_LORA_LEARNING_RATE,
    Hyperparameters,
    TrainingError,
    TrainingRequest,
    resolve_auto_hyperparameters,
    run_training,
)

OPENAI_STEP_KEYS = {"step", "total_steps", "train_loss", "train_mean_token_accuracy"}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


def request(
    model_dir: Path,
    tmp_path: Path,
    *,
    n_train: int = 10,
    n_valid: int = 0,
    epochs: int = 2,
    batch: int = 4,
    lr_mult: float = 10.0,
    seed: int = 7,
    work: str = "work",
) -> TrainingRequest:
    train = write_jsonl(tmp_path / "train.jsonl", pattern_examples(n_train))
    valid = write_jsonl(tmp_path / "valid.jsonl", pattern_examples(n_valid, start=50))
    return TrainingRequest(
        job_id="ftjob-test",
        model_dir=model_dir,
        training_file=train,
        validation_file=valid if n_valid else None,
        hyperparameters=Hyperparameters(epochs, batch, lr_mult),
        seed=seed,
        work_dir=tmp_path / work,
        fine_tuned_model="ft:tiny:local:test:ftjob-test",
    )


def test_metrics_events_follow_openai(model_dir: Path, tmp_path: Path) -> None:
    sink = RecordingSink()
    outcome = run_training(request(model_dir, tmp_path, n_train=10, epochs=2, batch=4), sink)
    assert outcome.status == "succeeded"
    metrics = sink.metrics()
    assert [m["step"] for m in metrics] == list(range(1, 7))  # 2 epochs x ceil(10 / 4)
    assert all(m["total_steps"] == 6 for m in metrics)
    assert all(set(m) == OPENAI_STEP_KEYS for m in metrics)  # no validation file
    message = next(e["message"] for e in sink.events if e["type"] == "metrics")
    assert re.fullmatch(r"Step 1/6: training loss=\d+\.\d\d", message)
    assert all(0.0 <= m["train_mean_token_accuracy"] <= 1.0 for m in metrics)
    assert metrics[-1]["train_loss"] < metrics[0]["train_loss"]


def test_validation_metrics_every_k_steps_and_full_at_epoch_end(
    model_dir: Path, tmp_path: Path
) -> None:
    sink = RecordingSink()
    run_training(request(model_dir, tmp_path, n_train=8, n_valid=3, epochs=3, batch=2), sink)
    metrics = {m["step"]: m for m in sink.metrics()}
    assert len(metrics) == 12  # validation_interval(12) == 2
    for step, m in metrics.items():
        assert ("valid_loss" in m) == (step % 2 == 0 or step == 12)
        assert ("full_valid_loss" in m) == (step % 4 == 0)
        if "valid_loss" in m:
            assert "valid_mean_token_accuracy" in m
        if "full_valid_loss" in m:
            assert 0.0 <= m["full_valid_mean_token_accuracy"] <= 1.0
    last = next(e["message"] for e in reversed(sink.events) if e["type"] == "metrics")
    assert re.fullmatch(
        r"Step 12/12: training loss=\d+\.\d\d, validation loss=\d+\.\d\d, "
        r"full validation loss=\d+\.\d\d",
        last,
    )


def test_result_csv_has_openai_columns_and_a_row_per_step(model_dir: Path, tmp_path: Path) -> None:
    sink = RecordingSink()
    outcome = run_training(request(model_dir, tmp_path, n_train=6, n_valid=2, batch=2), sink)
    assert outcome.result_csv is not None
    with outcome.result_csv.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == [
        "step",
        "train_loss",
        "train_accuracy",
        "valid_loss",
        "valid_mean_token_accuracy",
    ]
    assert [int(r["step"]) for r in rows] == list(range(1, 7))
    for row, m in zip(rows, sink.metrics(), strict=True):
        assert math.isclose(float(row["train_loss"]), m["train_loss"], rel_tol=1e-5)
        assert (row["valid_loss"] == "") == ("valid_loss" not in m)


def test_checkpoint_per_epoch_and_only_last_three_kept(model_dir: Path, tmp_path: Path) -> None:
    sink = RecordingSink()
    req = request(model_dir, tmp_path, n_train=4, epochs=5, batch=2)
    outcome = run_training(req, sink)
    assert [c["step"] for c in sink.checkpoints] == [2, 4, 6, 8, 10]
    assert sink.checkpoints[0]["model_name"] == "ft:tiny:local:test:ftjob-test:ckpt-step-2"
    assert sink.checkpoints[-1]["metrics"]["step"] == 10.0
    assert "train_loss" in sink.checkpoints[-1]["metrics"]
    kept = sorted(p.name for p in (req.work_dir / "checkpoints").iterdir())
    assert kept == ["step-0000006", "step-0000008", "step-0000010"]
    for c in sink.checkpoints[2:]:
        assert (c["adapter_dir"] / "adapter_config.json").is_file()
    assert not sink.checkpoints[0]["adapter_dir"].exists()
    messages = [e["message"] for e in sink.events if e["type"] == "message"]
    assert (
        "Checkpoint created at step 4 with Snapshot ID: ft:tiny:local:test:ftjob-test:ckpt-step-4"
        in messages
    )
    assert outcome.adapter_dir is not None
    assert (outcome.adapter_dir / "adapter_model.safetensors").is_file()


def test_same_seed_same_losses_other_seed_other_losses(model_dir: Path, tmp_path: Path) -> None:
    first, second, other = RecordingSink(), RecordingSink(), RecordingSink()
    run_training(request(model_dir, tmp_path / "a", seed=3), first)
    run_training(request(model_dir, tmp_path / "b", seed=3), second)
    run_training(request(model_dir, tmp_path / "c", seed=4), other)
    assert first.train_losses() == second.train_losses()
    assert first.train_losses() != other.train_losses()


def test_trained_tokens_count_every_token_of_every_epoch(model_dir: Path, tmp_path: Path) -> None:
    from tui.local.training.examples import load_examples
    from tui.local.training.hf import load_tokenizer

    req = request(model_dir, tmp_path, n_train=5, epochs=3, batch=2)
    outcome = run_training(req, RecordingSink())
    examples, _ = load_examples(req.training_file, load_tokenizer(model_dir), 512)
    assert outcome.trained_tokens == 3 * sum(len(e.input_ids) for e in examples)


def test_bad_training_file_is_a_training_error(model_dir: Path, tmp_path: Path) -> None:
    req = request(model_dir, tmp_path)
    req.training_file.write_text('{"messages": [{"role": "user", "content": "only a question"}]}\n')
    with pytest.raises(TrainingError) as caught:
        run_training(req, RecordingSink())
    assert caught.value.code == "invalid_training_file"
    assert "line 1" in caught.value.message


def test_directory_without_a_model_is_a_training_error(tmp_path: Path) -> None:
    req = request(tmp_path / "nothing-here", tmp_path)
    with pytest.raises(TrainingError) as caught:
        run_training(req, RecordingSink())
    assert caught.value.code == "invalid_model"
    assert "config.json" in caught.value.message


@pytest.mark.parametrize(
    ("n", "expected_epochs", "expected_batch"),
    [(10, 10, 1), (20, 5, 1), (40, 3, 1), (1000, 3, 2), (10000, 2, 8)],
)
def test_auto_hyperparameters(n: int, expected_epochs: int, expected_batch: int) -> None:
    hp = resolve_auto_hyperparameters(n, "auto", "auto", "auto")
    assert (hp.n_epochs, hp.batch_size) == (expected_epochs, expected_batch)
    assert hp.learning_rate == BASE_LORA_LEARNING_RATE


def test_explicit_hyperparameters_are_kept_and_checked() -> None:
    hp = resolve_auto_hyperparameters(100, 4, 16, 0.5)
    assert (hp.n_epochs, hp.batch_size, hp.learning_rate) == (4, 16, 0.5 * BASE_LORA_LEARNING_RATE)
    bad: list[tuple[Any, Any, Any]] = [
        (0, 1, 1.0),
        (51, 1, 1.0),
        (1, 0, 1.0),
        (1, 1, 0),
        (1.5, 1, 1),
    ]
    for epochs, batch, mult in bad:
        with pytest.raises(TrainingError) as caught:
            resolve_auto_hyperparameters(100, epochs, batch, mult)
        assert caught.value.code == "invalid_hyperparameters"


def test_device_override_and_its_errors(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    from tui.local.training.device import pick_device

    monkeypatch.setenv("FT_TUI_DEVICE", "cpu")
    assert pick_device() == (torch.device("cpu"), torch.float32)
    monkeypatch.setenv("FT_TUI_DEVICE", "quantum")
    with pytest.raises(TrainingError) as caught:
        run_training(request(model_dir, tmp_path), RecordingSink())
    assert caught.value.code == "invalid_device" and "quantum" in caught.value.message
    if not torch.cuda.is_available():
        monkeypatch.setenv("FT_TUI_DEVICE", "cuda")
        with pytest.raises(TrainingError, match="no CUDA device"):
            run_training(request(model_dir, tmp_path), RecordingSink())
