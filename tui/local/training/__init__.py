"""LoRA fine-tuning of local causal LMs (see `interface` for what the job runner uses)."""

from tui.local.training.hyperparameters import resolve_auto_hyperparameters
from tui.local.training.interface import (
    BASE_LORA_LEARNING_RATE,
    Hyperparameters,
    TrainingError,
    TrainingOutcome,
    TrainingRequest,
    TrainingSink,
)
from tui.local.training.run import run_training

__all__ = [
    "BASE_LORA_LEARNING_RATE",
    "Hyperparameters",
    "TrainingError",
    "TrainingOutcome",
    "TrainingRequest",
    "TrainingSink",
    "resolve_auto_hyperparameters",
    "run_training",
]
