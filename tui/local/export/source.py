"""What an export is made from: the model's adapter, its base model and the facts of its job.

`lookup` is cheap (store reads only) and runs in the request, so an unknown or deleted model is
answered at once; `gather` reads files (sha256 of the datasets) and runs in the export thread.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui.local.export import ExportError
from tui.local.store import Store


@dataclass(frozen=True)
class DataFile:
    file_id: str
    name: str
    path: Path
    sha256: str | None  # None when the file was deleted from the server since


@dataclass(frozen=True)
class ExportSource:
    model: str
    base: str
    adapter_dir: Path
    job_id: str
    step: int | None
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    method: str = "supervised"
    seed: int | None = None
    training: DataFile | None = None
    validation: DataFile | None = None
    train_loss: float | None = None
    valid_loss: float | None = None


def lookup(store: Store, base_names: list[str], model: str) -> dict[str, Any]:
    """The store's row of a fine-tuned model or checkpoint; ExportError when there is none."""
    if model in base_names:
        raise ExportError(
            "model_not_exportable",
            f"{model} is a base model: export takes a fine-tuned model (ft:…) or a checkpoint.",
        )
    row = store.get_model(model)
    if row is None:
        raise ExportError(
            "model_not_found",
            f"The model `{model}` does not exist on this server (deleted, or never created).",
        )
    if not (Path(row["adapter_dir"]) / "adapter_config.json").is_file():
        raise ExportError(
            "model_not_found",
            f"The adapter of `{model}` is no longer on this server's disk ({row['adapter_dir']}).",
        )
    return row


def gather(store: Store, files_dir: Path, row: dict[str, Any]) -> ExportSource:
    job = store.get_job(str(row["job_id"])) or {}
    method = (job.get("method") or {}).get("type") or "supervised"
    section = (job.get("method") or {}).get(method) or {}
    hyperparameters = dict(section.get("hyperparameters") or job.get("hyperparameters") or {})
    step = row["step"]
    train_loss, valid_loss = _final_losses(store, str(row["job_id"]), str(row["id"]), step)
    return ExportSource(
        model=str(row["id"]),
        base=str(row["base"]),
        adapter_dir=Path(row["adapter_dir"]),
        job_id=str(row["job_id"]),
        step=step,
        hyperparameters=hyperparameters,
        method=str(method),
        seed=job.get("seed"),
        training=_data_file(store, files_dir, job.get("training_file")),
        validation=_data_file(store, files_dir, job.get("validation_file")),
        train_loss=train_loss,
        valid_loss=valid_loss,
    )


def _data_file(store: Store, files_dir: Path, file_id: Any) -> DataFile | None:
    if not file_id:
        return None
    record = store.get_file(str(file_id))
    path = files_dir / str(file_id)
    name = str(record["filename"]) if record else "(deleted from the server)"
    return DataFile(str(file_id), name, path, sha256_of(path) if path.is_file() else None)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _final_losses(
    store: Store, job_id: str, model: str, step: int | None
) -> tuple[float | None, float | None]:
    """A checkpoint's own metrics; for the final model, the last reported values."""
    if step is not None:
        row = store.query_one("SELECT metrics FROM checkpoints WHERE model = ?", (model,))
        if row is not None:
            metrics = json.loads(row["metrics"] or "{}")
            checkpoint_valid = metrics.get("full_valid_loss", metrics.get("valid_loss"))
            return _number(metrics.get("train_loss")), _number(checkpoint_valid)
    train: float | None = None
    valid: float | None = None
    for data in store.metrics_data(job_id):
        if step is not None and isinstance(data.get("step"), int) and data["step"] > step:
            break
        train = _number(data.get("train_loss")) if "train_loss" in data else train
        for key in ("full_valid_loss", "valid_loss"):
            if key in data and _number(data[key]) is not None:
                valid = _number(data[key])
                break
    return train, valid
