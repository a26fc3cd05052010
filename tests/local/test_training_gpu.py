"""QLoRA and mixed precision: refused clearly without CUDA, trained for real with it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tests.local.tiny_model import RecordingSink, build_tiny_model, pattern_examples, write_jsonl
from tui.local.training import Hyperparameters, TrainingError, TrainingRequest, run_training


def _cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


def request(model_dir: Path, root: Path, quantization: str | None) -> TrainingRequest:
    return TrainingRequest(
        job_id="ftjob-q",
        model_dir=model_dir,
        training_file=write_jsonl(root / "train.jsonl", pattern_examples(8)),
        validation_file=None,
        hyperparameters=Hyperparameters(2, 4, 10.0, quantization=quantization),
        seed=1,
        work_dir=root / "work",
        fine_tuned_model="ft:tiny:local:q:ftjob-q",
    )


@pytest.mark.parametrize("quantization", ["4bit", "8bit"])
def test_quantization_without_cuda_is_a_clear_error(
    model_dir: Path, tmp_path: Path, quantization: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FT_TUI_DEVICE", "cpu")
    with pytest.raises(TrainingError) as caught:
        run_training(request(model_dir, tmp_path, quantization), RecordingSink())
    assert caught.value.code == "quantization_unavailable"
    assert quantization in caught.value.message and "CUDA" in caught.value.message


@pytest.mark.cuda
@pytest.mark.skipif(not _cuda(), reason="needs a CUDA GPU")
@pytest.mark.skipif(
    importlib.util.find_spec("bitsandbytes") is None, reason="needs the gpu extra (bitsandbytes)"
)
@pytest.mark.parametrize("quantization", ["4bit", "8bit", None])
def test_cuda_training_in_bf16_and_qlora(
    model_dir: Path, tmp_path: Path, quantization: str | None
) -> None:
    sink = RecordingSink()
    outcome = run_training(request(model_dir, tmp_path, quantization), sink)
    assert outcome.status == "succeeded"
    first = next(e["message"] for e in sink.events)
    assert first.startswith("Training on 1 process (cuda, ")
    losses = sink.train_losses()
    assert len(losses) == 4 and losses[-1] < losses[0]
