"""Where an evaluation's rows come from when another mode starts one: a finished job's
validation file (downloaded), or — when the job had none — a held-out split of its training
file made with the split tool (`tui.core.tools.split`). No Textual.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tui import config
from tui.core.tools.split import plan_split, split
from tui.services.eval.types import EvalError

if TYPE_CHECKING:
    from tui.services.job_types import JobInfo
    from tui.services.jobs import JobsService

HELD_OUT_RATIO = 0.2
SPLIT_SEED = 0


@dataclass(frozen=True)
class EvalSource:
    dataset: Path
    models: list[str]  # the fine-tune first, then its base model
    note: str


def eval_data_dir() -> Path:
    return config.data_dir() / "eval-data"


async def job_eval_source(
    service: JobsService, job: JobInfo, folder: Path | None = None
) -> EvalSource:
    """The dataset and models to compare a finished job's fine-tune with its base model.
    Raises `EvalError` (no model yet, no file) or what the backend raises (download refused)."""
    if job.status != "succeeded" or not job.fine_tuned_model:
        raise EvalError(f"Job {job.id} has no fine-tuned model yet ({job.status}).")
    folder = folder or eval_data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    models = [job.fine_tuned_model, job.model]
    if job.validation_file:
        path = folder / f"{job.id}-validation.jsonl"
        path.write_bytes(await service.download_file(job.validation_file))
        return EvalSource(path, models, f"the job's validation file {job.validation_file}")
    if not job.training_file:
        raise EvalError(f"Job {job.id} names no training or validation file.")
    training = folder / f"{job.id}-training.jsonl"
    training.write_bytes(await service.download_file(job.training_file))
    held_out = folder / f"{job.id}-held-out.jsonl"

    def make_split() -> int:
        plan = plan_split(training, ratio=HELD_OUT_RATIO, seed=SPLIT_SEED)
        summary = split(plan, folder / f"{job.id}-rest.jsonl", held_out, force=True)
        return summary.valid

    try:
        rows = await asyncio.to_thread(make_split)
    except Exception as exc:  # ToolError and friends: a message for the user
        raise EvalError(f"Could not split {job.training_file}: {exc}") from None
    note = (
        f"{rows} rows split from the training file {job.training_file} (the job had no "
        "validation file; the fine-tune saw these rows in training, so its scores are optimistic)"
    )
    return EvalSource(held_out, models, note)
