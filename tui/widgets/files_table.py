"""The remote files table: name, purpose, size, created, status, id; rows keyed by file id."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable

from tui.core.byte_sizes import human_size
from tui.services.files import RemoteFile

COLUMNS = (
    ("name", "Name", 20),
    ("purpose", "Purpose", None),
    ("size", "Size", None),
    ("created", "Created", None),
    ("status", "Status", None),
    ("id", "ID", None),  # last: long on OpenAI; the status line and `y` give it in full
)


def format_time(timestamp: int) -> str:
    if timestamp <= 0:
        return "—"
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d %H:%M")


def _status_cell(file: RemoteFile) -> Text:
    style = {"error": "bold red", "uploaded": "yellow", "processed": "green"}.get(file.status, "")
    return Text(file.status or "—", style=style)


def describe_file(file: RemoteFile, now: float) -> str:
    """The selected file in one line: its full id, expiry and any processing error."""
    parts = [file.id]
    if file.expires_at:
        days = (file.expires_at - now) / 86400
        parts.append("expired" if days < 0 else f"expires in {days:.0f} d")
    if file.status_details:
        parts.append(f"{file.status}: {file.status_details}")
    return " · ".join(parts)


class FilesTable(DataTable[str | Text]):
    """Files loaded so far; `add_files` appends a page without disturbing the cursor."""

    DEFAULT_CSS = """
    FilesTable { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._files: dict[str, RemoteFile] = {}

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width)

    @property
    def files(self) -> list[RemoteFile]:
        return list(self._files.values())

    def clear_files(self) -> None:
        self._files.clear()
        self.clear()

    def add_files(
        self, files: list[RemoteFile], *, at_top: bool = False, select: bool = True
    ) -> None:
        """Append files not shown yet. `at_top` puts them first; `select` then moves the cursor
        to the first of them, otherwise the selected file stays selected."""
        if at_top:
            fresh = {f.id: f for f in files if f.id not in self._files}
            if not fresh:
                return
            keep = self.selected_file
            ordered = list(fresh.values()) + list(self._files.values())
            self.clear_files()
            self.add_files(ordered)
            if select:
                self.move_cursor(row=0)
            elif keep is not None:
                self.move_cursor(row=self.get_row_index(keep.id))
            return
        for file in files:
            if file.id in self._files:
                continue
            self._files[file.id] = file
            self.add_row(*self._cells(file), key=file.id)

    def _cells(self, file: RemoteFile) -> tuple[str | Text, ...]:
        return (
            Text(file.filename or "(no name)", overflow="ellipsis", no_wrap=True),
            file.purpose or "—",
            Text(human_size(file.bytes), justify="right"),
            format_time(file.created_at),
            _status_cell(file),
            file.id,
        )

    def remove_file(self, file_id: str) -> None:
        if self._files.pop(file_id, None) is not None:
            self.remove_row(file_id)

    @property
    def selected_file(self) -> RemoteFile | None:
        if not self._files or self.cursor_row < 0 or self.cursor_row >= self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(Coordinate(self.cursor_row, 0))
        return self._files.get(str(row_key.value))
