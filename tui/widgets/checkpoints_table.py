"""A job's checkpoints with their metrics; the row under the cursor names a model to chat with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from tui.widgets.job_table import field_of, format_time
from tui.widgets.loss_chart import format_value


@dataclass(frozen=True)
class CheckpointRow:
    id: str
    step: int
    model: str
    created_at: int
    train_loss: float | None = None
    valid_loss: float | None = None
    full_valid_loss: float | None = None
    train_accuracy: float | None = None
    valid_accuracy: float | None = None

    @classmethod
    def from_checkpoint(cls, checkpoint: Any) -> CheckpointRow:
        """From a `CheckpointInfo`, an SDK `FineTuningJobCheckpoint` or a mapping."""
        metrics = field_of(checkpoint, "metrics") or {}

        def metric(name: str) -> float | None:
            value = field_of(metrics, name)
            return float(value) if isinstance(value, int | float) else None

        return cls(
            id=str(field_of(checkpoint, "id", "")),
            step=int(field_of(checkpoint, "step_number", 0) or 0),
            model=str(
                field_of(checkpoint, "fine_tuned_model_checkpoint")
                or field_of(checkpoint, "model")
                or ""
            ),
            created_at=int(field_of(checkpoint, "created_at", 0) or 0),
            train_loss=metric("train_loss"),
            valid_loss=metric("valid_loss"),
            full_valid_loss=metric("full_valid_loss"),
            train_accuracy=metric("train_mean_token_accuracy"),
            valid_accuracy=metric("full_valid_mean_token_accuracy")
            or metric("valid_mean_token_accuracy"),
        )


def _number(value: float | None) -> Text:
    return Text(format_value(value) if value is not None else "—", justify="right")


def _percent(value: float | None) -> Text:
    return Text(f"{value:.1%}" if value is not None else "—", justify="right")


COLUMNS = (
    ("step", "Step"),
    ("train_loss", "Train loss"),
    ("valid_loss", "Valid loss"),
    ("full_valid_loss", "Full valid"),
    ("accuracy", "Accuracy"),
    ("created", "Created"),
    ("model", "Model"),
)


class CheckpointsTable(DataTable[Text | str]):
    """Checkpoints, latest step first."""

    DEFAULT_CSS = """
    CheckpointsTable { height: auto; max-height: 8; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._rows: list[CheckpointRow] = []

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    @property
    def checkpoints(self) -> list[CheckpointRow]:
        return list(self._rows)

    @property
    def selected(self) -> CheckpointRow | None:
        if not self._rows or not 0 <= self.cursor_row < len(self._rows):
            return None
        return self._rows[self.cursor_row]

    def set_checkpoints(self, rows: Sequence[CheckpointRow]) -> None:
        ordered = sorted(rows, key=lambda r: r.step, reverse=True)
        if ordered == self._rows:
            return
        selected = self.selected
        self.clear()
        self._rows = ordered
        for row in ordered:
            self.add_row(
                Text(str(row.step), justify="right"),
                _number(row.train_loss),
                _number(row.valid_loss),
                _number(row.full_valid_loss),
                _percent(row.train_accuracy),
                format_time(row.created_at),
                row.model,
                key=row.id,
            )
        if selected is not None:
            for index, row in enumerate(ordered):
                if row.id == selected.id:
                    self.move_cursor(row=index, animate=False)
