"""The entry point of a training run: picks the engine for the job's method (imported lazily, so
importing this module costs no torch)."""

from __future__ import annotations

from tui.local.training.interface import TrainingOutcome, TrainingRequest, TrainingSink


def run_training(req: TrainingRequest, sink: TrainingSink) -> TrainingOutcome:
    """Fine-tune a LoRA adapter on `req.training_file`; blocks until done, paused or cancelled.

    Raises TrainingError for problems the user must fix (bad data, unusable model)."""
    if req.method == "dpo":
        from tui.local.training.dpo import train_dpo

        return train_dpo(req, sink)
    from tui.local.training.sft import train_sft

    return train_sft(req, sink)
