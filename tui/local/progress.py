"""What a running trainer reports, written to the store: events, checkpoints, the ETA."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tui.local.store import Store
from tui.local.training.state import KEEP_CHECKPOINTS


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
