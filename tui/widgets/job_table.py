"""The job list: one row per fine-tuning job, status coloured, updated in place as jobs change.

Rows are keyed by job id, so a refresh keeps the cursor on the same job; `days left` comes from the
model list's `shutdown_date` (fine-tuned models follow their base model's schedule).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

from tui.core.model_names import suffix_of

STATUS_STYLES = {
    "validating_files": "yellow",
    "queued": "yellow",
    "running": "bold cyan",
    "paused": "magenta",
    "succeeded": "green",
    "failed": "bold red",
    "cancelled": "dim",
}


def status_text(status: str) -> Text:
    """A status word in its colour; statuses the app does not know are shown as they are."""
    return Text(status or "?", style=STATUS_STYLES.get(status, "italic"))


def format_time(timestamp: int | None) -> str:
    if not timestamp:
        return "—"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp))


def format_when(timestamp: int | None, now: float | None = None) -> str:
    """Compact creation time for narrow tables: `11-22 14:05` this year, else the date."""
    if not timestamp:
        return "—"
    moment = time.localtime(timestamp)
    if moment.tm_year == time.localtime(now).tm_year:
        return time.strftime("%m-%d %H:%M", moment)
    return time.strftime("%Y-%m-%d", moment)


def format_tokens(tokens: int | None) -> str:
    return f"{tokens:,}" if tokens is not None else "—"


def days_left_text(days: int | None) -> Text:
    if days is None:
        return Text("—", style="dim")
    if days < 0:
        return Text("shut down", style="red")
    style = "red" if days <= 14 else "yellow" if days <= 60 else ""
    return Text(f"{days} d", style=style)


def field_of(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    value = getattr(obj, name, default)
    if value is default:
        extra = getattr(obj, "model_extra", None)
        if isinstance(extra, dict):
            return extra.get(name, default)
    return value


@dataclass(frozen=True)
class JobRow:
    """What the list shows about one job, independent of where it came from."""

    id: str
    model: str
    suffix: str
    status: str
    created_at: int
    trained_tokens: int | None
    fine_tuned_model: str | None
    days_left: int | None = None

    @classmethod
    def from_job(cls, job: Any, days_left: int | None = None) -> JobRow:
        """From an SDK `FineTuningJob` (or any object/mapping with the same fields)."""
        suffix = field_of(job, "user_provided_suffix") or field_of(job, "suffix") or ""
        if not suffix:
            suffix = suffix_of(field_of(job, "fine_tuned_model"))
        return cls(
            id=str(field_of(job, "id", "")),
            model=str(field_of(job, "model", "") or ""),
            suffix=str(suffix),
            status=str(field_of(job, "status", "") or ""),
            created_at=int(field_of(job, "created_at", 0) or 0),
            trained_tokens=field_of(job, "trained_tokens"),
            fine_tuned_model=field_of(job, "fine_tuned_model"),
            days_left=days_left,
        )


# The id comes last: it is long, and the screen's status line names the selected one.
COLUMNS = (
    ("status", "Status"),
    ("model", "Model"),
    ("suffix", "Suffix"),
    ("created", "Created"),
    ("tokens", "Tokens"),
    ("left", "Left"),
    ("id", "Job"),
)


class JobTable(DataTable[Text | str]):
    """Jobs, newest first. `selected_job_id` follows the cursor."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="jobs.down"),
        Binding("k", "cursor_up", "Up", show=False, id="jobs.up"),
    ]

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._rows: dict[str, JobRow] = {}
        self._order: list[str] = []

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    @property
    def selected_job_id(self) -> str | None:
        if not self._order or self.cursor_row < 0 or self.cursor_row >= len(self._order):
            return None
        return self._order[self.cursor_row]

    def row(self, job_id: str) -> JobRow | None:
        return self._rows.get(job_id)

    @property
    def jobs(self) -> list[JobRow]:
        return [self._rows[job_id] for job_id in self._order]

    def _cells(self, row: JobRow) -> list[Text | str]:
        return [
            status_text(row.status),
            row.model,
            row.suffix or "—",
            format_when(row.created_at),
            Text(format_tokens(row.trained_tokens), justify="right"),
            days_left_text(row.days_left),
            row.id,
        ]

    def set_jobs(self, rows: Sequence[JobRow]) -> None:
        """Show exactly these jobs (newest first), changing only what changed."""
        ordered = sorted(rows, key=lambda r: (r.created_at, r.id), reverse=True)
        new_order = [r.id for r in ordered]
        if new_order != self._order:
            selected = self.selected_job_id
            self.clear()
            self._rows = {r.id: r for r in ordered}
            self._order = new_order
            for row in ordered:
                self.add_row(*self._cells(row), key=row.id)
            if selected in self._rows:
                self.move_cursor(row=new_order.index(selected), animate=False)
            return
        for row in ordered:
            if self._rows.get(row.id) == row:
                continue
            self._rows[row.id] = row
            for (column, _label), value in zip(COLUMNS, self._cells(row), strict=True):
                self.update_cell(row.id, column, value)
