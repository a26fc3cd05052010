"""LoRA fine-tuning of local causal LMs (see `interface` for what the job runner uses)."""

from tui.local.training.interface import (
    BASE_LORA_LEARNING_RATE,
    Hyperparameters,
    TrainingError,
    TrainingOutcome,
    TrainingRequest,
    TrainingSink,
    resolve_auto_hyperparameters,
    run_training,
)

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
