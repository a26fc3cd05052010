"""DPO on the tiny model: OpenAI preference lines train a LoRA adapter with the DPO loss."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from tests.local.tiny_model import RecordingSink, build_tiny_model, write_jsonl
from tui.local.training import Hyperparameters, TrainingError, TrainingRequest, run_training

DPO_KEYS = {"step", "total_steps", "train_loss", "train_reward_margin", "train_reward_accuracy"}


def preference_examples(n: int, *, start: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "input": {"messages": [{"role": "user", "content": f"colour {i}?"}]},
            "preferred_output": [{"role": "assistant", "content": "blue blue"}],
            "non_preferred_output": [{"role": "assistant", "content": f"red {i}"}],
        }
        for i in range(start, start + n)
    ]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


def dpo_request(model_dir: Path, root: Path, *, n_valid: int = 0, **hp: Any) -> TrainingRequest:
    train = write_jsonl(root / "train.jsonl", preference_examples(8))
    valid = write_jsonl(root / "valid.jsonl", preference_examples(n_valid, start=40))
    values = {"n_epochs": 2, "batch_size": 4, "learning_rate_multiplier": 10.0} | hp
    return TrainingRequest(
        job_id="ftjob-dpo",
        model_dir=model_dir,
        training_file=train,
        validation_file=valid if n_valid else None,
        hyperparameters=Hyperparameters(**values),
        seed=3,
        work_dir=root / "work",
        fine_tuned_model="ft:tiny:local:dpo:ftjob-dpo",
        method="dpo",
    )


def test_dpo_trains_with_reward_metrics_and_the_base_as_reference(
    model_dir: Path, tmp_path: Path
) -> None:
    sink = RecordingSink()
    outcome = run_training(dpo_request(model_dir, tmp_path, n_valid=4, beta=0.5), sink)
    assert outcome.status == "succeeded"
    metrics = sink.metrics()
    assert [m["step"] for m in metrics] == [1, 2, 3, 4]
    assert all(set(m) >= DPO_KEYS for m in metrics)
    # LoRA starts as the identity and the reference is the base with the adapter disabled, so
    # the first step's policy equals the reference: loss = -log(sigmoid(0)) = ln 2, margin 0.
    assert metrics[0]["train_loss"] == pytest.approx(math.log(2), abs=1e-4)
    assert metrics[0]["train_reward_margin"] == pytest.approx(0.0, abs=1e-4)
    assert metrics[-1]["train_reward_margin"] > 0  # it learns to prefer "blue blue"
    assert metrics[-1]["train_loss"] < metrics[0]["train_loss"]
    assert all(0.0 <= m["train_reward_accuracy"] <= 1.0 for m in metrics)
    assert {"valid_loss", "valid_reward_margin", "valid_reward_accuracy"} <= set(metrics[-1])
    assert {"full_valid_loss", "full_valid_reward_accuracy"} <= set(metrics[1])
    assert [c["step"] for c in sink.checkpoints] == [2, 4]
    assert outcome.adapter_dir is not None
    assert (outcome.adapter_dir / "adapter_model.safetensors").is_file()
    first = next(e["message"] for e in sink.events if e["type"] == "metrics")
    assert first.startswith("Step 1/4: DPO loss=0.69")


def test_chat_file_given_to_dpo_fails_naming_the_line(model_dir: Path, tmp_path: Path) -> None:
    req = dpo_request(model_dir, tmp_path)
    req.training_file.write_text(
        '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "x"}]}\n'
    )
    with pytest.raises(TrainingError) as caught:
        run_training(req, RecordingSink())
    assert caught.value.code == "invalid_training_file"
    assert "line 1" in caught.value.message and "preferred_output" in caught.value.message
