"""The result CSV with OpenAI's columns, written a row per step as training goes."""

from __future__ import annotations

import csv
from pathlib import Path

COLUMNS = ["step", "train_loss", "train_accuracy", "valid_loss", "valid_mean_token_accuracy"]


class ResultCsv:
    def __init__(self, path: Path, *, keep_until_step: int) -> None:
        """Open for appending; rows after `keep_until_step` (left by an interrupted run) go."""
        self.path = path
        rows: list[list[str]] = []
        if keep_until_step > 0 and path.is_file():
            with path.open(newline="", encoding="utf-8") as handle:
                for row in list(csv.reader(handle))[1:]:
                    if row and row[0].isdigit() and int(row[0]) <= keep_until_step:
                        rows.append(row)
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            writer.writerows(rows)

    def append(self, metrics: dict[str, float | int]) -> None:
        def cell(key: str) -> str:
            value = metrics.get(key)
            return (
                "" if value is None else f"{value:.6g}" if isinstance(value, float) else str(value)
            )

        with self.path.open("a", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerow(
                [
                    cell("step"),
                    cell("train_loss"),
                    cell("train_mean_token_accuracy"),
                    cell("valid_loss"),
                    cell("valid_mean_token_accuracy"),
                ]
            )
