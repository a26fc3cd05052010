"""DPO on TRL's `DPOTrainer`: LoRA trained with the DPO loss, reference = base, adapter off.

OpenAI's preference lines (`input.messages`, `preferred_output`, `non_preferred_output`) become
TRL's conversational `prompt` / `chosen` / `rejected`; TRL applies the chat template and
computes the loss. Given a peft model and no `ref_model`, TRL scores the reference with the
adapter disabled, so no second copy of the model is held.

Metrics events (documented keys): `train_loss` (DPO loss of the step), `train_reward_margin`
(mean beta x (chosen - rejected) log-ratio margin), `train_reward_accuracy` (share of pairs whose
chosen reward beats the rejected one); with a validation file `valid_loss`,
`valid_reward_margin`, `valid_reward_accuracy` on one validation batch every few steps and
`full_valid_*` over the whole validation file at each epoch end.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tui.local.training import engine
from tui.local.training.bridge import BridgeConfig, SinkBridge
from tui.local.training.chat_messages import template_message
from tui.local.training.hf import quiet_transformers
from tui.local.training.interface import (
    TrainingError,
    TrainingOutcome,
    TrainingRequest,
    TrainingSink,
)


def load_pairs(path: Path, *, what: str = "training file") -> list[dict[str, Any]]:
    """Preference lines as TRL conversational rows. Raises TrainingError naming the line."""
    code = "invalid_validation_file" if what == "validation file" else "invalid_training_file"
    rows: list[dict[str, Any]] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise TrainingError(code, f"cannot read the {what}: {exc}") from exc
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            rows.append(_pair(json.loads(raw)))
        except json.JSONDecodeError as exc:
            raise TrainingError(code, f"{what}, line {number}: invalid JSON ({exc})") from exc
        except (ValueError, TypeError, KeyError) as exc:
            raise TrainingError(code, f"{what}, line {number}: {exc}") from exc
    if not rows:
        raise TrainingError(code, f"the {what} has no examples")
    return rows


def _pair(example: Any) -> dict[str, Any]:
    if not isinstance(example, dict) or "preferred_output" not in example:
        raise ValueError(
            "each line must be a preference example with input, preferred_output and "
            "non_preferred_output"
        )
    messages = (example.get("input") or {}).get("messages")
    if not isinstance(messages, list) or not messages:
        raise ValueError("input.messages must be a non-empty list")

    def reply(key: str) -> list[dict[str, Any]]:
        value = example.get(key)
        if not isinstance(value, list) or not value:
            raise ValueError(f"{key} must be a non-empty list of assistant messages")
        return [template_message(m) for m in value]

    return {
        "prompt": [template_message(m) for m in messages],
        "chosen": reply("preferred_output"),
        "rejected": reply("non_preferred_output"),
    }


def _dataset(rows: list[dict[str, Any]]) -> Any:
    from datasets import Dataset

    return Dataset.from_list(rows)


def _train_metrics(logs: dict[str, float]) -> dict[str, float]:
    return {
        "train_loss": float(logs["loss"]),
        "train_reward_margin": float(logs.get("rewards/margins", 0.0)),
        "train_reward_accuracy": float(logs.get("rewards/accuracies", 0.0)),
    }


def _eval_metrics(result: dict[str, float], prefix: str) -> dict[str, float]:
    return {
        f"{prefix}_loss": float(result[f"{prefix}_loss"]),
        f"{prefix}_reward_margin": float(result.get("eval_rewards/margins", 0.0)),
        f"{prefix}_reward_accuracy": float(result.get("eval_rewards/accuracies", 0.0)),
    }


def train_dpo(req: TrainingRequest, sink: TrainingSink) -> TrainingOutcome:
    quiet_transformers()
    from trl.trainer.dpo_config import DPOConfig
    from trl.trainer.dpo_trainer import DPOTrainer

    base = engine.load_base(req)
    hp = req.hyperparameters
    max_length = min(hp.max_seq_length or base.max_length, base.max_length)
    train_rows = load_pairs(req.training_file)
    valid_rows = (
        load_pairs(req.validation_file, what="validation file") if req.validation_file else []
    )
    engine.prepare_work_dir(req)
    args = engine.common_args(req, base, max_length)
    config = DPOConfig(**args, beta=hp.beta, max_length=max_length, truncation_mode="keep_start")
    bridge = SinkBridge(
        BridgeConfig(
            sink=sink,
            fine_tuned_model=req.fine_tuned_model,
            work_dir=req.work_dir,
            steps_per_epoch=engine.steps_per_epoch(len(train_rows), hp.batch_size),
            batch_size=hp.batch_size,
            train_metrics=_train_metrics,
            eval_metrics=_eval_metrics,
            valid_dataset=_dataset(valid_rows) if valid_rows else None,
            is_main=engine.is_main_process(),
            world_size=engine.world_size(),
            metric_label="DPO loss",
        )
    )
    try:
        with engine.out_of_memory_as_error():
            trainer = DPOTrainer(
                model=base.model,
                args=config,
                train_dataset=_dataset(train_rows),
                processing_class=base.tokenizer,
                callbacks=[bridge],
            )
    except ValueError as exc:  # TRL's checks of the data (e.g. a template it cannot apply)
        raise TrainingError("invalid_training_file", f"cannot prepare the DPO data: {exc}") from exc
    engine.attach(trainer, bridge)
    return engine.train_and_finish(trainer, bridge, req, len(train_rows))
