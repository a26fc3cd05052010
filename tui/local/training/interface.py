"""What the job runner sees of the trainer: the request, the sink it reports to, the outcome.

This module is cheap to import (no torch) and imports no other training module: `run.py`
starts the engines, `hyperparameters.py` resolves "auto".

Hyperparameter names, ranges, defaults and "auto" rules: `hyperparameters.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

BASE_LORA_LEARNING_RATE = 2e-4

StopKind = Literal["cancel", "pause"]


class TrainingError(Exception):
    """A failure the runner reports as a failed job: `code` and a message for the user."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Hyperparameters:
    """Resolved hyperparameters (no "auto"); ranges and defaults live in `hyperparameters.py`."""

    n_epochs: int
    batch_size: int
    learning_rate_multiplier: float
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    lora_target_modules: tuple[str, ...] = ()  # empty: every linear layer ("all-linear")
    max_seq_length: int | None = None  # None: the model's context, at most 4096
    warmup_ratio: float = 0.0
    weight_decay: float = 0.0
    packing: bool = False
    gradient_checkpointing: bool | None = None  # None: on for CUDA, off for CPU
    quantization: str | None = None  # "4bit" / "8bit" (CUDA, bitsandbytes) or None
    beta: float = 0.1  # DPO only

    @property
    def learning_rate(self) -> float:
        return BASE_LORA_LEARNING_RATE * self.learning_rate_multiplier


@dataclass(frozen=True)
class TrainingRequest:
    job_id: str
    model_dir: Path  # resolved HF model directory of the base model
    training_file: Path  # validated chat JSONL
    validation_file: Path | None
    hyperparameters: Hyperparameters  # already resolved, no "auto"
    seed: int
    work_dir: Path  # job-private dir: checkpoints, resume state, result CSV
    fine_tuned_model: str  # final model name "ft:<base>:local:<suffix>:<id>"
    resume: bool = False  # continue from the pause state in work_dir
    method: Literal["supervised", "dpo"] = "supervised"
    init_adapter: Path | None = None  # continued training: start from this fine-tune's adapter
    # tokens per forward pass as the server was configured (FT_TUI_TRAIN_TOKEN_BUDGET), so every
    # rank of a multi-node run sizes its micro-batches alike; None: the device's default
    token_budget: int | None = None


class TrainingSink(Protocol):
    def event(
        self,
        message: str,
        *,
        level: str = "info",
        type: str = "message",  # noqa: A002 - OpenAI's field name
        data: dict[str, Any] | None = None,
    ) -> None: ...

    def checkpoint(
        self, *, step: int, metrics: dict[str, float], adapter_dir: Path, model_name: str
    ) -> None: ...

    def stop_requested(self) -> StopKind | None: ...


@dataclass(frozen=True)
class TrainingOutcome:
    status: Literal["succeeded", "paused", "cancelled"]
    # Every token of every trained example (context and supervised, padding excluded), once per
    # epoch it was trained in: what OpenAI bills as trained tokens.
    trained_tokens: int
    adapter_dir: Path | None
    result_csv: Path | None
