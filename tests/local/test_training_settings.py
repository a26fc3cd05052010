"""Local-only settings reach the engine: packing, LoRA shape, sequence length, bad modules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.local.tiny_model import RecordingSink, build_tiny_model, pattern_examples, write_jsonl
from tui.local.training import Hyperparameters, TrainingError, TrainingRequest, run_training


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


def request(model_dir: Path, root: Path, **settings: Any) -> TrainingRequest:
    return TrainingRequest(
        job_id="ftjob-s",
        model_dir=model_dir,
        training_file=write_jsonl(root / "train.jsonl", pattern_examples(12)),
        validation_file=None,
        hyperparameters=Hyperparameters(1, 4, 10.0, **settings),
        seed=2,
        work_dir=root / "work",
        fine_tuned_model="ft:tiny:local:s:ftjob-s",
    )


def test_packing_packs_examples_into_fewer_rows(model_dir: Path, tmp_path: Path) -> None:
    plain, packed = RecordingSink(), RecordingSink()
    run_training(request(model_dir, tmp_path / "plain"), plain)
    outcome = run_training(
        request(model_dir, tmp_path / "packed", packing=True, max_seq_length=256), packed
    )
    assert outcome.status == "succeeded"
    assert len(plain.metrics()) == 3  # 12 examples / 4
    assert len(packed.metrics()) < len(plain.metrics())  # rows of up to 256 tokens


def test_lora_shape_and_modules_reach_the_adapter(model_dir: Path, tmp_path: Path) -> None:
    outcome = run_training(
        request(
            model_dir,
            tmp_path,
            lora_r=4,
            lora_alpha=4,
            lora_target_modules=("q_proj", "v_proj"),
            warmup_ratio=0.3,
            weight_decay=0.1,
        ),
        RecordingSink(),
    )
    assert outcome.adapter_dir is not None
    config = json.loads((outcome.adapter_dir / "adapter_config.json").read_text())
    assert config["r"] == 4 and config["lora_alpha"] == 4
    assert sorted(config["target_modules"]) == ["q_proj", "v_proj"]


def test_unknown_target_modules_are_a_hyperparameter_error(model_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(TrainingError) as caught:
        run_training(
            request(model_dir, tmp_path, lora_target_modules=("no_such_proj",)), RecordingSink()
        )
    assert caught.value.code == "invalid_hyperparameters"
    assert "lora_target_modules" in caught.value.message
