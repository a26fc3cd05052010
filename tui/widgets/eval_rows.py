"""The rows of an eval run as a table: line, reference, then one column per model with ✓/✗
and the start of its answer. Rows are appended as they finish; a filter rebuilds the table."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.text import Text
from textual.widgets import DataTable

from tui.services.eval.types import RowResult
from tui.services.eval_browse import answer_text, passed, row_reference


def _flat(text: str, room: int = 200) -> str:
    """One line, cut to what a cell can show (long answers cost Rich work for nothing)."""
    flat = " ".join(text[: room * 4].split())
    return flat if len(flat) <= room else flat[: room - 1] + "…"


class EvalRowsTable(DataTable[Text]):
    DEFAULT_CSS = """
    EvalRowsTable { height: 1fr; min-height: 4; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.labels: list[str] = []
        self.scorer = "exact"
        self.lines: list[int] = []
        self._share = 30

    def setup(self, labels: Sequence[str], scorer: str) -> None:
        """Columns for these models, judged on `scorer` (✓/✗)."""
        self.clear(columns=True)
        self.labels, self.scorer, self.lines = list(labels), scorer, []
        width = max(80, self.size.width or 80)
        share = self._share = max(10, (width - 10) // (len(self.labels) + 1) - 2)
        self.add_column("line", key="line", width=5)
        self.add_column("reference", key="reference", width=share)
        for label in self.labels:
            self.add_column(label, key=label, width=share)

    def _cells(self, row: RowResult) -> list[Text]:
        room = self._share
        cells = [Text(str(row.line), style="dim"), Text(_flat(row_reference(row), room))]
        for label in self.labels:
            answer = row.answers.get(label)
            verdict = passed(answer, self.scorer)
            mark = Text("✓ " if verdict else "· " if verdict is None else "✗ ")
            mark.stylize("green" if verdict else "dim" if verdict is None else "red")
            text = _flat(answer_text(answer), room)
            mark.append(text, style="red" if answer and answer.error else "")
            cells.append(mark)
        return cells

    def add_result(self, row: RowResult) -> None:
        self.add_row(*self._cells(row), key=str(row.line))
        self.lines.append(row.line)

    def show_rows(self, rows: Iterable[RowResult]) -> None:
        """Replace the rows, keeping the cursor on the same line when it is still shown."""
        keep = self.current_line
        self.clear()
        self.lines = []
        for row in rows:
            self.add_result(row)
        if keep is not None and keep in self.lines:
            self.move_cursor(row=self.lines.index(keep))

    @property
    def current_line(self) -> int | None:
        if not self.lines or not (0 <= self.cursor_row < len(self.lines)):
            return None
        return self.lines[self.cursor_row]
