"""What survives between runs on disk: epoch checkpoints (last three kept) and pause state.

The pause state is a checkpoint written by transformers' `Trainer` (adapter, optimizer,
scheduler, RNG states, trainer state with the step and the tokens seen) in `pause_state/`, plus
`state.json`: the job's fingerprint, so a resume refuses a job whose data or settings changed.
`Trainer.train(resume_from_checkpoint=…)` restores it and skips the batches already trained."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from tui.local.training.interface import TrainingError

KEEP_CHECKPOINTS = 3
CHECKPOINTS_DIR = "checkpoints"
PAUSE_DIR = "pause_state"
FINAL_ADAPTER_DIR = "adapter"
RESULT_CSV = "results.csv"
_META = "state.json"


def checkpoint_dir(work_dir: Path, step: int) -> Path:
    return work_dir / CHECKPOINTS_DIR / f"step-{step:07d}"


def prune_checkpoints(work_dir: Path, keep: int = KEEP_CHECKPOINTS) -> list[Path]:
    """Delete all but the newest `keep` checkpoint dirs; return the deleted ones."""
    root = work_dir / CHECKPOINTS_DIR
    if not root.is_dir():
        return []
    dirs = sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith("step-"))
    doomed = dirs[:-keep] if keep > 0 else dirs
    for path in doomed:
        shutil.rmtree(path, ignore_errors=True)
    return doomed


def clear_previous_run(work_dir: Path) -> None:
    """A fresh (not resumed) run starts from an empty work dir of its own artifacts."""
    for name in (CHECKPOINTS_DIR, PAUSE_DIR, FINAL_ADAPTER_DIR):
        shutil.rmtree(work_dir / name, ignore_errors=True)
    (work_dir / RESULT_CSV).unlink(missing_ok=True)


def pause_dir(work_dir: Path) -> Path:
    return work_dir / PAUSE_DIR


def latest_trainer_checkpoint(work_dir: Path) -> Path | None:
    """The newest `checkpoint-N` folder the Trainer wrote into the pause dir."""
    root = pause_dir(work_dir)
    if not root.is_dir():
        return None
    found = [
        p
        for p in root.iterdir()
        if p.is_dir() and p.name.startswith("checkpoint-") and p.name[11:].isdigit()
    ]
    return max(found, key=lambda p: int(p.name[11:])) if found else None


def write_pause_meta(work_dir: Path, fingerprint: dict[str, Any], finished_steps: int) -> None:
    meta = {"finished_steps": finished_steps, **fingerprint}
    target = pause_dir(work_dir) / _META
    target.write_text(json.dumps(meta, indent=1), encoding="utf-8")


def checked_resume_checkpoint(work_dir: Path, fingerprint: dict[str, Any]) -> Path:
    """The Trainer checkpoint to resume from, after checking the job did not change."""
    source = pause_dir(work_dir)
    try:
        meta = json.loads((source / _META).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise TrainingError("resume_failed", f"no usable pause state in {source}: {exc}") from exc
    changed = [k for k, v in fingerprint.items() if meta.get(k) != v]
    if changed:
        raise TrainingError(
            "resume_failed", f"the job changed since it was paused ({', '.join(changed)})"
        )
    checkpoint = latest_trainer_checkpoint(work_dir)
    if checkpoint is None:
        raise TrainingError("resume_failed", f"no trainer checkpoint in {source}")
    return checkpoint


def drop_pause_state(work_dir: Path) -> None:
    shutil.rmtree(pause_dir(work_dir), ignore_errors=True)
