"""What the job runner sees of the trainer: the request, the sink it reports to, the outcome.

This module is cheap to import (no torch); `run_training` imports the training loop lazily.

Hyperparameter rules (documented here because the job object echoes them):
* `n_epochs` auto: the OpenAI cookbook rule, owned by `tui.core.stats.default_epochs` (the same
  number the linter's estimate shows).
* `batch_size` auto: about 0.2 % of the examples, clamped to 1..8 (`min(8, max(1, n // 500))`).
* `learning_rate_multiplier` auto: 1.0. The learning rate is multiplier x BASE_LORA_LEARNING_RATE
  (2e-4, a common LoRA default); the multiplier is never used as the learning rate itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from tui.core.stats import default_epochs

BASE_LORA_LEARNING_RATE = 2e-4
MAX_EPOCHS = 50
MAX_BATCH_SIZE = 256

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


def auto_batch_size(n_examples: int) -> int:
    return min(8, max(1, n_examples // 500))


def resolve_auto_hyperparameters(
    n_examples: int,
    n_epochs: int | str | None,
    batch_size: int | str | None,
    lr_mult: float | str | None,
) -> Hyperparameters:
    """Replace "auto" (or None) by the documented rules; validate numbers.

    Raises TrainingError("invalid_hyperparameters", …) for values out of OpenAI's ranges."""
    epochs = default_epochs(n_examples) if _is_auto(n_epochs) else _as_int("n_epochs", n_epochs)
    batch = (
        auto_batch_size(n_examples) if _is_auto(batch_size) else _as_int("batch_size", batch_size)
    )
    mult = 1.0 if _is_auto(lr_mult) else _as_float("learning_rate_multiplier", lr_mult)
    if not 1 <= epochs <= MAX_EPOCHS:
        raise TrainingError(
            "invalid_hyperparameters", f"n_epochs must be 1-{MAX_EPOCHS}, got {epochs}"
        )
    if not 1 <= batch <= MAX_BATCH_SIZE:
        raise TrainingError(
            "invalid_hyperparameters", f"batch_size must be 1-{MAX_BATCH_SIZE}, got {batch}"
        )
    if not mult > 0:
        raise TrainingError(
            "invalid_hyperparameters", f"learning_rate_multiplier must be > 0, got {mult}"
        )
    return Hyperparameters(n_epochs=epochs, batch_size=batch, learning_rate_multiplier=mult)


def _is_auto(value: object) -> bool:
    return value is None or value == "auto"


def _as_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TrainingError("invalid_hyperparameters", f"{name} must be an integer or 'auto'")
    try:
        number = float(value)
    except ValueError:
        raise TrainingError(
            "invalid_hyperparameters", f"{name} must be an integer or 'auto', got {value!r}"
        ) from None
    if number != int(number):
        raise TrainingError("invalid_hyperparameters", f"{name} must be an integer, got {value!r}")
    return int(number)


def _as_float(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TrainingError("invalid_hyperparameters", f"{name} must be a number or 'auto'")
    try:
        return float(value)
    except ValueError:
        raise TrainingError(
            "invalid_hyperparameters", f"{name} must be a number or 'auto', got {value!r}"
        ) from None


def run_training(req: TrainingRequest, sink: TrainingSink) -> TrainingOutcome:
    """Fine-tune a LoRA adapter on `req.training_file`; blocks until done, paused or cancelled.

    Raises TrainingError for problems the user must fix (bad data, unusable model)."""
    if req.method == "dpo":
        raise TrainingError("unsupported_method", "DPO training is not available yet")
    from tui.local.training.sft import train_sft

    return train_sft(req, sink)
