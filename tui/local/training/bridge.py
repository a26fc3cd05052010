"""The `TrainerCallback` that turns a TRL/transformers run into ft-tui's job semantics.

* Each optimizer step's log becomes one OpenAI-shaped metrics event and one result-CSV row.
* `valid_*` every `validation_interval(total_steps)` steps (and at the last one) on one
  validation batch, `full_valid_*` over the whole validation file at each epoch end: both through
  `Trainer.evaluate`, so every process takes part (DDP/FSDP) and the numbers are the engine's.
* At each epoch end the adapter is saved with `Trainer.save_model` (collective under
  FSDP/DeepSpeed, written by rank 0) and reported as a checkpoint; the newest three are kept.
* Stop requests: cancel raises `RunStopped` between micro-batches (one process) or after a step
  (several); pause sets `should_save` + `should_training_stop`, so the Trainer writes its own
  resumable checkpoint. With several processes rank 0 decides and broadcasts the decision, so all
  ranks stop at the same step. Only rank 0 reports events, rows and checkpoints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from tui.local.training import state as disk
from tui.local.training.interface import StopKind, TrainingSink
from tui.local.training.results import ResultCsv

# Trainer logs -> OpenAI metric names (train side), and the evaluated names per prefix.
TrainMetrics = Callable[[dict[str, float]], dict[str, float]]
EvalMetrics = Callable[[dict[str, float], str], dict[str, float]]


class RunStopped(Exception):
    """Raised inside the Trainer to abandon a cancelled run at once."""


def validation_interval(total_steps: int) -> int:
    """Steps between `valid_*` metrics: every 10 steps, more often for short jobs."""
    return max(1, min(10, total_steps // 5))


@dataclass
class BridgeConfig:
    sink: TrainingSink
    fine_tuned_model: str
    work_dir: Path
    steps_per_epoch: int
    batch_size: int
    train_metrics: TrainMetrics
    eval_metrics: EvalMetrics
    valid_dataset: Any = None  # a datasets.Dataset ready for Trainer.evaluate, or None
    is_main: bool = True
    world_size: int = 1
    csv: ResultCsv | None = None
    metric_label: str = "training loss"


@dataclass
class _Pending:
    metrics: dict[str, float] = field(default_factory=dict)
    checkpoint: Path | None = None


class SinkBridge(TrainerCallback):
    def __init__(self, config: BridgeConfig) -> None:
        self.config = config
        self.trainer: Any = None  # set once the trainer exists (evaluate / save_model)
        self.total_steps = 0
        self.paused = False
        self._pending = _Pending()

    # ---- stop requests ---------------------------------------------------------------------

    def _decide(self, allow_pause: bool) -> StopKind | None:
        kind = self.config.sink.stop_requested() if self.config.is_main else None
        if self.config.world_size > 1:
            from accelerate.utils import broadcast_object_list

            box: list[Any] = [kind]
            broadcast_object_list(box, from_process=0)
            kind = box[0]
        if kind == "pause" and not allow_pause:
            return None
        return kind

    def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        if self.config.world_size == 1 and self._decide(allow_pause=False) == "cancel":
            raise RunStopped("cancel")
        return control

    def on_substep_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        return self.on_step_begin(args, state, control)

    # ---- per step ------------------------------------------------------------------------

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        self.total_steps = int(state.max_steps)
        return control

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        step = int(state.global_step)
        pending = _Pending()
        valid = self.config.valid_dataset
        if valid is not None and len(valid):
            if step % validation_interval(self.total_steps) == 0 or step == self.total_steps:
                pending.metrics.update(self._evaluate(self._validation_batch(step), "valid"))
            if step % self.config.steps_per_epoch == 0:
                pending.metrics.update(self._evaluate(valid, "full_valid"))
        if step % self.config.steps_per_epoch == 0 or step == self.total_steps:
            directory = disk.checkpoint_dir(self.config.work_dir, step)
            self.trainer.save_model(str(directory))
            pending.checkpoint = directory
        self._pending = pending
        return control

    def on_log(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        logs: dict[str, float] | None = kwargs.get("logs")
        if not logs or "loss" not in logs:
            return control  # evaluation logs: already merged at on_step_end
        step = int(state.global_step)
        metrics: dict[str, Any] = {"step": step, "total_steps": self.total_steps}
        metrics.update(self.config.train_metrics(logs))
        metrics.update(self._pending.metrics)
        if self.config.is_main:
            sink = self.config.sink
            sink.event(self._message(metrics), type="metrics", data=dict(metrics))
            if self.config.csv is not None:
                self.config.csv.append(metrics)
            if self._pending.checkpoint is not None:
                self._report_checkpoint(step, metrics, self._pending.checkpoint)
        self._pending = _Pending()
        if step >= self.total_steps:
            return control
        kind = self._decide(allow_pause=True)
        if kind == "cancel":
            raise RunStopped("cancel")
        if kind == "pause":
            self.paused = True
            control.should_save = True
            control.should_training_stop = True
        return control

    # ---- helpers ---------------------------------------------------------------------------

    def _validation_batch(self, step: int) -> Any:
        valid = self.config.valid_dataset
        size = min(self.config.batch_size, len(valid))
        start = (step // validation_interval(self.total_steps) - 1) * size
        return valid.select([(start + i) % len(valid) for i in range(size)])

    def _evaluate(self, dataset: Any, prefix: str) -> dict[str, float]:
        # `evaluate` logs its result, and the callback handler clears `should_log` /
        # `should_save` / `should_evaluate` on the way: keep the step's own decisions.
        control = self.trainer.control
        flags = (control.should_log, control.should_save, control.should_evaluate)
        training = self.trainer.model.training
        result = self.trainer.evaluate(eval_dataset=dataset, metric_key_prefix=prefix)
        if training:  # the step's own log (TRL picks train/eval metrics by the mode) follows
            self.trainer.model.train()
        control = self.trainer.control
        control.should_log, control.should_save, control.should_evaluate = flags
        return self.config.eval_metrics(result, prefix)

    def _message(self, metrics: dict[str, Any]) -> str:
        text = f"Step {metrics['step']}/{metrics['total_steps']}: "
        text += f"{self.config.metric_label}={metrics['train_loss']:.2f}"
        if "valid_loss" in metrics:
            text += f", validation loss={metrics['valid_loss']:.2f}"
        if "full_valid_loss" in metrics:
            text += f", full validation loss={metrics['full_valid_loss']:.2f}"
        return text

    def _report_checkpoint(self, step: int, metrics: dict[str, Any], directory: Path) -> None:
        name = f"{self.config.fine_tuned_model}:ckpt-step-{step}"
        values = {k: float(v) for k, v in metrics.items() if k != "total_steps"}
        self.config.sink.checkpoint(
            step=step, metrics=values, adapter_dir=directory, model_name=name
        )
        self.config.sink.event(f"Checkpoint created at step {step} with Snapshot ID: {name}")
        disk.prune_checkpoints(self.config.work_dir)
