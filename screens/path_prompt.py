"""Ask for a local path in an editable input: `await app.push_screen_wait(PathPrompt(...))`.

Dismisses with the expanded `Path`, or None on Escape. `must_exist` refuses paths that are not
an existing file, with the reason shown under the input instead of closing the dialog.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class PathPrompt(ModalScreen[Path | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="path_prompt.cancel")]
    DEFAULT_CSS = """
    PathPrompt > .dialog { width: 90; max-width: 95%; }
    PathPrompt #path-help { color: $text-muted; padding: 0 0 1 0; }
    PathPrompt #path-error { color: $error; height: auto; }
    """

    def __init__(
        self,
        title: str,
        initial: Path | str,
        *,
        help_text: str = "",
        must_exist: bool = False,
    ) -> None:
        super().__init__()
        self._title = title
        self._initial = str(initial)
        self._help = help_text or "Enter: accept · Escape: cancel"
        self._must_exist = must_exist

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self._title, classes="title", markup=False)
            yield Static(self._help, id="path-help", markup=False)
            yield Input(self._initial, id="path-input")
            yield Static("", id="path-error", markup=False)

    def on_mount(self) -> None:
        field = self.query_one("#path-input", Input)
        field.focus()
        field.cursor_position = len(field.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        error = self.query_one("#path-error", Static)
        if not text:
            error.update("Type a path, or press Escape to cancel.")
            return
        path = Path(text).expanduser()
        if self._must_exist and not path.is_file():
            reason = "is a directory" if path.is_dir() else "does not exist"
            error.update(f"{path} {reason}; give a file.")
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)
