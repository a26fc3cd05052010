"""The in-app log: recent messages and errors, since the devtools console is not there over SSH."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Footer, RichLog, Static

from tui.core.log_buffer import LogBuffer, LogLine


def _noop() -> None:
    return None


class LogScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f12", "dismiss", "Close", id="log.close")]
    DEFAULT_CSS = """
    LogScreen { align: center middle; }
    LogScreen > #log-box { width: 95%; height: 90%; border: round $accent;
                           scrollbar-gutter: stable; }
    """

    def __init__(self, buffer: LogBuffer) -> None:
        super().__init__()
        self._buffer = buffer
        self._unsubscribe: Callable[[], None] = _noop

    def compose(self) -> ComposeResult:
        yield Static("Log (Esc closes)", classes="title")
        yield RichLog(id="log-box", highlight=False, markup=False, wrap=True, min_width=20)
        yield Footer()

    def on_mount(self) -> None:
        view = self.query_one(RichLog)
        lines = self._buffer.lines()
        for line in lines:
            view.write(line.format())
        if not lines:
            view.write("Nothing logged yet.")
        self._unsubscribe = self._buffer.subscribe(self._on_line)

    def _on_line(self, line: LogLine) -> None:
        try:  # records arrive from worker threads and from the UI thread alike
            self.app.call_from_thread(self._write, line)
        except RuntimeError:
            self._write(line)

    def _write(self, line: LogLine) -> None:
        self.query_one(RichLog).write(line.format())

    def on_unmount(self) -> None:
        self._unsubscribe()
