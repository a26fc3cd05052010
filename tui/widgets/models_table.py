"""Models of the backend: id, kind, owner, created, the job that made it, and days left before
the shutdown date (red when 30 days or fewer, yellow within 90; `*` = inherited from the base)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from tui.services.model_inventory import ModelEntry

COLUMNS = (
    ("model", "Model"),
    ("kind", "Kind"),
    ("owner", "Owner"),
    ("created", "Created"),
    ("job", "Job"),
    ("left", "Shutdown"),
)
CLOSE_DAYS = 30
SOON_DAYS = 90


def days_left_cell(entry: ModelEntry, today: date) -> Text:
    days = entry.days_left(today)
    if days is None:
        return Text("—", style="dim")
    mark = "*" if entry.inherited_date else ""
    if days < 0:
        return Text(f"shut down{mark}", style="bold red")
    style = "bold red" if days <= CLOSE_DAYS else "yellow" if days <= SOON_DAYS else ""
    return Text(f"{days} d{mark}", style=style, justify="right")


def _created(timestamp: int) -> str:
    if timestamp <= 0:
        return "—"
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d")


class ModelsTable(DataTable[str | Text]):
    """One row per model or checkpoint; rows keyed by model id."""

    DEFAULT_CSS = """
    ModelsTable { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._entries: dict[str, ModelEntry] = {}

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    def show(self, entries: list[ModelEntry], today: date) -> None:
        selected = self.selected_model
        self.clear()
        self._entries = {}
        for entry in entries:
            if entry.id in self._entries:
                continue
            self._entries[entry.id] = entry
            self.add_row(*self._cells(entry, today), key=entry.id)
        if selected is not None and selected.id in self._entries:
            self.move_cursor(row=self.get_row_index(selected.id))

    def _cells(self, entry: ModelEntry, today: date) -> tuple[str | Text, ...]:
        name = Text(entry.id, overflow="ellipsis", no_wrap=True)
        if entry.kind == "checkpoint":
            name = Text("  ↳ ", style="dim") + name
        kind = entry.kind if entry.step is None else f"ckpt {entry.step}"
        return (
            name,
            kind,
            entry.owned_by or "—",
            _created(entry.created),
            entry.job_id or "—",
            days_left_cell(entry, today),
        )

    def remove_model(self, model_id: str) -> None:
        if self._entries.pop(model_id, None) is not None:
            self.remove_row(model_id)

    @property
    def selected_model(self) -> ModelEntry | None:
        if not self._entries or self.cursor_row < 0 or self.cursor_row >= self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0))
        return self._entries.get(str(row_key.value))
