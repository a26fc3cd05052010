"""What survives between steps on disk: epoch checkpoints (last three kept) and pause state.

Pause state holds the trainable weights, optimizer, scheduler, RNG states and the number of
finished steps, so a resumed run continues exactly where the paused one stopped (the data order
is a pure function of seed and epoch)."""

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


def save_pause_state(
    work_dir: Path,
    *,
    model: Any,
    optimizer: Any,
    scheduler: Any,
    finished_steps: int,
    trained_tokens: int,
    fingerprint: dict[str, Any],
) -> Path:
    """Write the pause state atomically; returns the adapter dir saved with it (usable in chat)."""
    import torch

    target = work_dir / PAUSE_DIR
    staging = work_dir / (PAUSE_DIR + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    trainable = {n: p.detach().cpu() for n, p in model.named_parameters() if p.requires_grad}
    torch.save(trainable, staging / "trainable.pt")
    torch.save(
        {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()},
        staging / "optimizer.pt",
    )
    rng: dict[str, Any] = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    torch.save(rng, staging / "rng.pt")
    model.save_pretrained(str(staging / FINAL_ADAPTER_DIR))
    meta = {"finished_steps": finished_steps, "trained_tokens": trained_tokens, **fingerprint}
    (staging / "state.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target / FINAL_ADAPTER_DIR


def load_pause_state(
    work_dir: Path, *, model: Any, optimizer: Any, scheduler: Any, fingerprint: dict[str, Any]
) -> tuple[int, int]:
    """Restore a paused run into fresh objects. Returns (finished_steps, trained_tokens)."""
    import torch

    source = work_dir / PAUSE_DIR
    try:
        meta = json.loads((source / "state.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise TrainingError("resume_failed", f"no usable pause state in {source}: {exc}") from exc
    changed = [k for k, v in fingerprint.items() if meta.get(k) != v]
    if changed:
        raise TrainingError(
            "resume_failed", f"the job changed since it was paused ({', '.join(changed)})"
        )
    device = next(model.parameters()).device
    trainable = torch.load(source / "trainable.pt", map_location=device, weights_only=True)
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, tensor in trainable.items():
            params[name].copy_(tensor)
    opt = torch.load(source / "optimizer.pt", map_location=device, weights_only=True)
    optimizer.load_state_dict(opt["optimizer"])
    scheduler.load_state_dict(opt["scheduler"])
    rng = torch.load(source / "rng.pt", weights_only=False)
    torch.set_rng_state(rng["cpu"])
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    return int(meta["finished_steps"]), int(meta["trained_tokens"])


def drop_pause_state(work_dir: Path) -> None:
    shutil.rmtree(work_dir / PAUSE_DIR, ignore_errors=True)
