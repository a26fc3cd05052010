"""Models of the backend: id, days left before the shutdown date (red when 30 days or fewer,
yellow within 90; `*` = inherited from the base model), kind, the job that made it, owner and
creation date. Long `ft:` ids are shortened in the middle to fit the terminal; the detail line
under the table shows the selected model in full."""

from __future__ import annotations

from datetime import UTC, date, datetime

from rich.text import Text
from textual import events
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from tui.core.model_names import CHECKPOINT, today_utc
from tui.services.model_inventory import ModelEntry

CLOSE_DAYS = 30
SOON_DAYS = 90
OTHER_COLUMNS_WIDTH = 62  # Shutdown, Kind, Job, Owner, Created and the cell padding


def days_left_text(entry: ModelEntry, today: date) -> Text:
    days = entry.days_left(today)
    if days is None:
        return Text("—", style="dim")
    mark = "*" if entry.inherited_date else ""
    if days < 0:
        return Text(f"shut down{mark}", style="bold red")
    style = "bold red" if days <= CLOSE_DAYS else "yellow" if days <= SOON_DAYS else ""
    return Text(f"{days} d{mark}", style=style, justify="right")


def shorten_middle(text: str, width: int) -> str:
    """Keep the start (the base model) and the last `:` segments (the id); drop the middle."""
    if len(text) <= width or width < 8:
        return text
    segments = text.split(":")
    tail = segments[-1]
    for segment in reversed(segments[:-1]):
        if len(tail) + len(segment) + 1 > (width - 1) // 2:
            break
        tail = f"{segment}:{tail}"
    tail = (":" + tail if len(segments) > 1 else tail)[-((width - 1) // 2) :]
    head = text[: width - 1 - len(tail)]
    return f"{head}…{tail}"


def describe_model(entry: ModelEntry, today: date) -> str:
    parts = [entry.id]
    if entry.base:
        parts.append(f"base {entry.base}")
    if entry.job_id:
        parts.append(f"job {entry.job_id}")
    if entry.owned_by:
        parts.append(f"owner {entry.owned_by}")
    if entry.shutdown_date is not None:
        days = entry.days_left(today)
        source = " (base model's date)" if entry.inherited_date else ""
        parts.append(f"shuts down {entry.shutdown_date.isoformat()}{source}, {days} days left")
    else:
        parts.append("no shutdown date announced")
    return " · ".join(parts)


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
        self._today = today_utc()
        self._name_width = 0

    def _columns(self) -> None:
        self.add_column("Model", key="model", width=self._name_width or None)
        for key, label in (
            ("left", "Shutdown"),
            ("kind", "Kind"),
            ("job", "Job"),
            ("owner", "Owner"),
            ("created", "Created"),
        ):
            self.add_column(label, key=key)

    def _fit_width(self) -> int:
        longest = max((len(e.id) + 4 for e in self._entries.values()), default=20)
        room = (self.size.width or 100) - OTHER_COLUMNS_WIDTH
        return max(28, min(longest, room))

    def show(self, entries: list[ModelEntry], today: date) -> None:
        selected = self.selected_model
        self._today = today
        self._entries = {}
        for entry in entries:
            self._entries.setdefault(entry.id, entry)
        self._rebuild(selected.id if selected else None)

    def _rebuild(self, keep: str | None) -> None:
        self.clear(columns=True)
        self._name_width = self._fit_width()
        self._columns()
        for entry in self._entries.values():
            self.add_row(*self._cells(entry), key=entry.id)
        if keep is not None and keep in self._entries:
            self.move_cursor(row=self.get_row_index(keep))

    def on_resize(self, _event: events.Resize) -> None:
        if self._entries and self._fit_width() != self._name_width:
            selected = self.selected_model
            self._rebuild(selected.id if selected else None)

    def _cells(self, entry: ModelEntry) -> tuple[str | Text, ...]:
        indent = "  ↳ " if entry.kind == CHECKPOINT else ""
        name = Text(indent, style="dim") + shorten_middle(entry.id, self._name_width - len(indent))
        kind = Text(entry.kind if entry.step is None else f"ckpt {entry.step}")
        if not entry.served:
            kind = Text("not served yet", style="yellow")
        return (
            name,
            days_left_text(entry, self._today),
            kind,
            entry.job_id or "—",
            entry.owned_by or "—",
            _created(entry.created),
        )

    def remove_model(self, model_id: str) -> None:
        if self._entries.pop(model_id, None) is not None:
            self.remove_row(model_id)

    @property
    def models(self) -> list[ModelEntry]:
        """The models shown, in table order."""
        return list(self._entries.values())

    @property
    def selected_model(self) -> ModelEntry | None:
        if not self._entries or self.cursor_row < 0 or self.cursor_row >= self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0))
        return self._entries.get(str(row_key.value))

    def row_text(self, row: int) -> list[str]:
        """The plain text of one row, as shown."""
        return [str(cell) for cell in self.get_row_at(row)]
