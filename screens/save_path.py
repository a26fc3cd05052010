"""Ask where to save a file: an editable path, checked before it is accepted. An existing file is
only replaced after an explicit "Overwrite" confirmation. Dismisses with a `SaveTarget` or None."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from screens.confirm import ConfirmScreen


@dataclass(frozen=True)
class SaveTarget:
    path: Path
    overwrite: bool


def check_target(text: str) -> tuple[Path | None, str]:
    """(resolved path, problem); problem is empty when the path can be written."""
    if not text.strip():
        return None, "Enter a file path."
    path = Path(text.strip()).expanduser()
    if not path.is_absolute():
        path = Path.cwd() / path
    if path.is_dir():
        return None, f"{path} is a directory; add a file name."
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return None, f"{parent} is not a directory."
    return path, ""


class SavePathScreen(ModalScreen[SaveTarget | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="save.cancel")]
    DEFAULT_CSS = """
    SavePathScreen #save-problem { height: auto; color: $error; }
    SavePathScreen .dialog-buttons Button { margin-left: 1; }
    """

    def __init__(self, default: Path, title: str = "Save result file") -> None:
        super().__init__()
        self._default = default
        self._title = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self._title, classes="title", markup=False)
            yield Static("Path (Enter saves, Esc cancels):", classes="muted")
            yield Input(str(self._default), id="save-path")
            yield Static("", id="save-problem", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", variant="primary", id="save-ok")
                yield Button("Cancel", id="save-cancel")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save-ok":
            self._submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _submit(self) -> None:
        path, problem = check_target(self.query_one(Input).value)
        self.query_one("#save-problem", Static).update(problem)
        if path is None:
            return
        if not path.exists():
            self.dismiss(SaveTarget(path, overwrite=False))
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.dismiss(SaveTarget(path, overwrite=True))
            else:
                self.query_one("#save-problem", Static).update(
                    f"{path.name} exists: choose another name."
                )

        self.app.push_screen(
            ConfirmScreen(
                "File exists",
                f"{path} already exists. Replace it?",
                confirm_label="Overwrite",
                cancel_label="Keep",
                danger=True,
            ),
            answered,
        )
