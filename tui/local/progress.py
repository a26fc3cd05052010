"""What a running trainer reports, written to the store: events, checkpoints, the ETA.

Every trainer (the spawned child, rank 0 of a multi-process launch) reports through here, so
this is where divergence is caught whatever engine trains: a metrics event with a non-finite loss,
or a checkpoint whose adapter holds a non-finite weight, raises `TrainingError`
(`training_diverged`, naming the step) before anything is stored; such an adapter is deleted, and
the job fails with that code."""

from __future__ import annotations

import math
import shutil
import time
from pathlib import Path
from typing import Any

from tui.local.store import Store
from tui.local.training.interface import TrainingError
from tui.local.training.state import KEEP_CHECKPOINTS

DIVERGED = "training_diverged"


def diverged(step: object, what: str) -> TrainingError:
    return TrainingError(
        DIVERGED,
        f"Training diverged at step {step}: {what}. No model was kept from this point; lower "
        "learning_rate_multiplier (or check the data) and create a new job.",
    )


def check_finite_metrics(data: dict[str, Any]) -> None:
    """Raise `training_diverged` when a loss in a metrics event is NaN or infinite."""
    for name, value in data.items():
        if name.endswith("loss") and isinstance(value, float) and not math.isfinite(value):
            raise diverged(data.get("step", "?"), f"{name.replace('_', ' ')} is {value}")


def non_finite_tensor(adapter_dir: Path) -> str | None:
    """The name of the first tensor in the adapter's safetensors files holding NaN or Inf."""
    import torch
    from safetensors import safe_open

    for path in sorted(adapter_dir.glob("*.safetensors")):
        with safe_open(str(path), framework="pt") as weights:
            for name in weights.keys():  # noqa: SIM118 - safe_open is not a mapping
                if not bool(torch.isfinite(weights.get_tensor(name)).all()):
                    return str(name)
    return None


class JobProgress:
    def __init__(self, store: Store, job_id: str) -> None:
        self._store = store
        self._job_id = job_id
        job = store.get_job(job_id)
        self._base = str(job["model"]) if job else ""
        self._started = time.monotonic()
        self._first_step: int | None = None

    def event(
        self,
        message: str,
        *,
        level: str = "info",
        type: str = "message",  # noqa: A002 - OpenAI's field name
        data: dict[str, Any] | None = None,
    ) -> None:
        if type == "metrics" and data:
            check_finite_metrics(data)
        self._store.add_event(self._job_id, message, level=level, type=type, data=data)
        if type == "metrics" and data:
            self._update_eta(data)

    def _update_eta(self, data: dict[str, Any]) -> None:
        step, total = data.get("step"), data.get("total_steps")
        if not isinstance(step, int | float) or not isinstance(total, int | float) or step <= 0:
            return
        if self._first_step is None:
            # A resumed run starts mid-way: measure speed from where this process began.
            self._first_step = int(step) - 1
            self._started = time.monotonic()
        done = step - self._first_step
        if done <= 0:
            return
        per_step = (time.monotonic() - self._started) / done
        eta = int(time.time() + per_step * max(0.0, float(total) - float(step)))
        self._store.update_job(self._job_id, estimated_finish=eta)

    def checkpoint(
        self, *, step: int, metrics: dict[str, float], adapter_dir: Path, model_name: str
    ) -> None:
        bad = non_finite_tensor(adapter_dir)
        if bad is not None:
            shutil.rmtree(adapter_dir, ignore_errors=True)
            raise diverged(step, f"the adapter weight {bad} is not finite")
        self._store.add_model(
            model_name,
            base=self._base,
            job_id=self._job_id,
            adapter_dir=str(adapter_dir),
            step=step,
        )
        self._store.add_checkpoint(self._job_id, step=step, metrics=metrics, model=model_name)
        # The trainer keeps only the newest checkpoints on disk; list only those.
        self._store.prune_checkpoints(self._job_id, keep=KEEP_CHECKPOINTS)


class ProgressSink:
    """A trainer's sink that writes through `JobProgress`; subclasses say how stops arrive
    (`stop_requested`): a spawned child by events, a launched rank by a control file."""

    def __init__(self, progress: JobProgress) -> None:
        self._progress = progress

    def event(
        self,
        message: str,
        *,
        level: str = "info",
        type: str = "message",  # noqa: A002 - OpenAI's field name
        data: dict[str, Any] | None = None,
    ) -> None:
        self._progress.event(message, level=level, type=type, data=data)

    def checkpoint(
        self, *, step: int, metrics: dict[str, float], adapter_dir: Path, model_name: str
    ) -> None:
        self._progress.checkpoint(
            step=step, metrics=metrics, adapter_dir=adapter_dir, model_name=model_name
        )
