"""The frame the dataset tool dialogs share (Convert, Split, Fix; see `dataset_tools`).

A form on top, a live preview of what will be written, a progress bar and a status line. The
preview refreshes shortly after any field changes. Ctrl+R (or Enter in a text field) writes;
Escape cancels a running job or closes the dialog. All file work runs in thread workers; bad
input shows in the status line and never closes the dialog. The dialog dismisses with a typed
result once something was written, or None.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Button, Checkbox, Input, ProgressBar, Select, Static
from textual.worker import Worker, WorkerState, get_current_worker

from tui.core.tools.errors import Cancelled, ToolError
from tui.core.tools.progress import ProgressCallback

log = logging.getLogger("ft-tui.tools")


# The tools' messages name command-line options; a dialog names its own fields instead.
_DIALOG_TERMS = (
    (re.compile(r"allow overwriting \(--force\)"), "tick 'Overwrite'"),
    (re.compile(r"\s*\(--force\)"), " (tick 'Overwrite')"),
    (re.compile(r"\(--map (\w+)=COLUMN\)"), r"(pick the \1 column above)"),
    (re.compile(r"--map (\w+)=([^:]+):"), r"\1 column \2:"),
    (re.compile(r"\(--system\)"), "(the System prompt field)"),
    (re.compile(r"--(sheet|encoding)\b"), lambda m: f"the {m.group(1).capitalize()} field"),
)


def dialog_terms(text: str) -> str:
    """A tool message reworded for the dialog: "(--force)" → "(tick 'Overwrite')"…"""
    for pattern, replacement in _DIALOG_TERMS:
        text = pattern.sub(replacement, text)
    return text


def _written(result: object) -> str:
    """`wrote a.jsonl, b.jsonl (from src.csv)`: the paths a tool's result names."""
    if not dataclasses.is_dataclass(result) or isinstance(result, type):
        return "done"
    values = {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    source = values.pop("source", None)
    paths = [str(v) for v in values.values() if isinstance(v, Path)]
    return f"wrote {', '.join(paths) or 'nothing'}" + (f" (from {source})" if source else "")


R = TypeVar("R")
T = TypeVar("T")
HELP = "Ctrl+R or Enter in a text field: write · F5: refresh preview · Esc: cancel"
PREVIEW_DELAY = 0.25  # seconds of quiet typing before the preview is recomputed


class ToolDialog(ModalScreen[R | None], Generic[R]):
    """Subclasses compose `compose_form`, and implement `make_preview` and `make_job`."""

    TITLE_TEXT = ""
    BINDINGS = [
        Binding("ctrl+r", "write", "Write", id="tools.write", priority=True),
        Binding("escape", "close", "Cancel / close", id="tools.close"),
        Binding("f5", "preview", "Refresh preview", id="tools.preview"),
    ]
    DEFAULT_CSS = """
    ToolDialog > .dialog { width: 100; max-width: 98%; max-height: 98%; }
    ToolDialog .form { height: auto; max-height: 14; overflow-y: auto; }
    ToolDialog .row { height: 1; margin-bottom: 0; }
    ToolDialog .row > .label { width: 16; padding: 0 1 0 0; color: $text-muted; }
    ToolDialog .row > Input, ToolDialog .row > Select { width: 1fr; }
    ToolDialog .row > Select > SelectOverlay.-textual-compact {
        border: round $accent !important; background: $surface;
    }
    ToolDialog .row > Checkbox { width: 1fr; height: 1; border: none; padding: 0; }
    ToolDialog .row > Checkbox:focus { background: $boost; }
    ToolDialog #tool-preview-box { height: 1fr; min-height: 5; border: round $panel; }
    ToolDialog #tool-progress { width: 100%; height: 1; }
    ToolDialog #tool-status { height: auto; padding: 0 1; }
    ToolDialog #tool-status.error { color: $error; }
    ToolDialog .dialog-buttons { height: 1; }
    ToolDialog .dialog-buttons Button { margin-left: 2; min-width: 14; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.result: R | None = None
        self.running = False
        self._timer: Timer | None = None
        self._dismissed = False

    # -- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.TITLE_TEXT, classes="title", markup=False)
            with Vertical(classes="form"):
                yield from self.compose_form()
            with VerticalScroll(id="tool-preview-box"):
                yield Static("", id="tool-preview", markup=False)
            yield ProgressBar(id="tool-progress", show_eta=True)
            yield Static(
                HELP,
                id="tool-status",
                markup=False,
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Write (ctrl+r)", variant="primary", id="tool-write", compact=True)
                yield Button("Cancel (esc)", id="tool-cancel", compact=True)

    def compose_form(self) -> ComposeResult:
        yield from ()

    @staticmethod
    def row(label: str, *widgets: Any) -> Horizontal:
        """A labelled form row; inputs and selects are compact (one line) to fit small terminals."""
        for widget in widgets:
            if hasattr(widget, "compact"):
                widget.compact = True
        return Horizontal(Static(label, classes="label", markup=False), *widgets, classes="row")

    def on_mount(self) -> None:
        self.query_one("#tool-progress", ProgressBar).display = False
        self.focus_first()
        self.action_preview()

    def focus_first(self) -> None:
        first = next(iter(self.query("Input, Select, Checkbox")), None)
        if first is not None:
            first.focus()

    # -- what subclasses provide ---------------------------------------------------------------

    def make_preview(self) -> Callable[[ProgressCallback], list[str]]:
        """Read the form (on the UI thread) and return the work that computes the preview."""
        raise TypeError(f"{type(self).__name__} must define make_preview()")

    def preview_shown(self) -> None:
        """Hook: the preview succeeded and is on screen."""

    def make_job(self) -> Callable[[ProgressCallback], tuple[R, list[str]]]:
        """Read the form and return the work that writes the files: (result, summary lines)."""
        raise TypeError(f"{type(self).__name__} must define make_job()")

    # -- status and preview --------------------------------------------------------------------

    def set_status(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#tool-status", Static)
        status.update(dialog_terms(text))
        status.set_class(error, "error")

    def show_preview(self, lines: list[str]) -> None:
        self.query_one("#tool-preview", Static).update(dialog_terms("\n".join(lines)))

    def _show_progress(self, done: int, total: int) -> None:
        bar = self.query_one("#tool-progress", ProgressBar)
        bar.display = True
        bar.update(total=max(total, 1), progress=done)

    def _hide_progress(self) -> None:
        self.query_one("#tool-progress", ProgressBar).display = False

    def schedule_preview(self) -> None:
        if self.running or self.result is not None:
            return
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(PREVIEW_DELAY, self.action_preview)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.schedule_preview()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        self.schedule_preview()

    def on_select_changed(self, event: Select.Changed) -> None:
        self.schedule_preview()

    def action_preview(self) -> None:
        if self.running or self.result is not None:
            return
        try:
            work = self.make_preview()
        except ToolError as exc:
            self._failed(str(exc), preview=True)
            return
        self.set_status("Computing preview…")

        def shown(lines: list[str]) -> None:
            self._hide_progress()
            self.show_preview(lines)
            self.set_status(HELP)
            self.preview_shown()

        self._run(work, shown, group="tool-preview")

    # -- running -------------------------------------------------------------------------------

    def _run(
        self, work: Callable[[ProgressCallback], T], done: Callable[[T], None], group: str
    ) -> None:
        def body() -> None:
            worker = get_current_worker()

            def ui(callback: Callable[..., None], *args: Any) -> None:
                if not worker.is_cancelled and not self._dismissed:
                    self.app.call_from_thread(callback, *args)

            def progress(current: int, total: int) -> None:
                if worker.is_cancelled:
                    raise Cancelled
                ui(self._show_progress, current, total)

            try:
                value = work(progress)
            except Cancelled:
                return
            except ToolError as exc:
                ui(self._failed, str(exc), group == "tool-preview")
                return
            except OSError as exc:
                where = f"{exc.filename}: " if exc.filename else ""
                ui(self._failed, f"{where}{exc.strerror or exc}", group == "tool-preview")
                return
            ui(done, value)

        self.run_worker(body, thread=True, exclusive=True, group=group, exit_on_error=False)

    def _failed(self, message: str, preview: bool = False) -> None:
        self.running = False
        self._hide_progress()
        self.set_status(message, error=True)
        if preview:  # never leave an older preview on screen as if it were this form's
            self.show_preview([f"No preview: {message}"])

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            self._failed(f"unexpected error: {type(error).__name__}: {error}")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_write()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "tool-write":
            self.action_write()
        else:
            self.action_close()

    def action_write(self) -> None:
        if self.result is not None:
            self._dismiss()
            return
        if self.running:
            return
        try:
            work = self.make_job()
        except ToolError as exc:
            self.set_status(str(exc), error=True)
            return
        if self._timer is not None:
            self._timer.stop()
        self.workers.cancel_group(self, "tool-preview")
        self.running = True
        self.set_status("Writing… (Escape cancels; nothing is written until the end)")
        self._run(work, self._finished, group="tool-run")

    def _finished(self, outcome: tuple[R, list[str]]) -> None:
        self.running = False
        self.result, lines = outcome
        log.info("%s: %s", self.TITLE_TEXT or type(self).__name__, _written(self.result))
        for line in lines:
            log.info("  %s", line)
        self._hide_progress()
        self.show_preview(lines)
        self.set_status("Done. Enter or Escape closes.")
        self.query_one("#tool-write", Button).label = "Close (enter)"
        self.query_one("#tool-write", Button).focus()

    def action_close(self) -> None:
        if self.running:
            self.workers.cancel_group(self, "tool-run")
            self.running = False
            self._hide_progress()
            self.set_status("Cancelled; nothing was written.")
            return
        self._dismiss()

    def _dismiss(self) -> None:
        self._dismissed = True
        self.workers.cancel_node(self)
        self.dismiss(self.result)
