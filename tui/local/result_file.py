"""The `fine-tune-results` CSV, built from a job's metrics events when the trainer wrote none.

Columns as OpenAI documents them: step, train_loss, train_accuracy, valid_loss,
valid_mean_token_accuracy (validation cells empty on steps without validation)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import Any

COLUMNS = ("step", "train_loss", "train_accuracy", "valid_loss", "valid_mean_token_accuracy")
_SOURCES = (
    "step",
    "train_loss",
    "train_mean_token_accuracy",
    "valid_loss",
    "valid_mean_token_accuracy",
)


def write_result_csv(path: Path, metrics: Iterable[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for data in metrics:
            writer.writerow(["" if data.get(key) is None else data[key] for key in _SOURCES])
