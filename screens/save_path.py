"""Ask where to save a file: an editable path, checked by the one save-path rule
(`tui.core.save_paths`): a path ending in `/` or an existing folder keeps the file's own name,
relative paths start at the dataset root, a missing folder is created after asking, and an
existing file is only replaced after an explicit "Overwrite". Dismisses with a `SaveTarget` or
None. Every "save to…" dialog of the app is this one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from screens.confirm import ConfirmScreen
from tui.core.save_paths import SavePathError, SavePlan, create_folder, plan_save

HELP = "A path ending in / or an existing folder keeps the name {name}. Enter saves, Esc cancels."


@dataclass(frozen=True)
class SaveTarget:
    path: Path
    overwrite: bool


class SavePathScreen(ModalScreen[SaveTarget | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="save.cancel")]
    DEFAULT_CSS = """
    SavePathScreen #save-problem { height: auto; color: $error; }
    SavePathScreen .dialog-buttons Button { margin-left: 1; }
    """

    def __init__(
        self,
        default: Path,
        title: str = "Save result file",
        *,
        file_name: str | None = None,
        base: Path | None = None,
    ) -> None:
        super().__init__()
        self._default = default
        self._title = title
        self._file_name = file_name or default.name
        self._base = base or default.parent

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self._title, classes="title", markup=False)
            yield Static(HELP.format(name=self._file_name), classes="muted", markup=False)
            yield Input(str(self._default), id="save-path", placeholder=f"relative to {self._base}")
            yield Static("", id="save-problem", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", variant="primary", id="save-ok")
                yield Button("Cancel", id="save-cancel")

    def on_mount(self) -> None:
        field = self.query_one(Input)
        field.focus()
        field.cursor_position = len(field.value)

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

    def _problem(self, text: str) -> None:
        self.query_one("#save-problem", Static).update(text)

    def _submit(self) -> None:
        try:
            plan = plan_save(self.query_one(Input).value, self._file_name, self._base)
        except SavePathError as exc:
            self._problem(str(exc))
            return
        self._problem("")
        if plan.missing_folder is not None:
            self._ask_folder(plan)
        else:
            self._check_exists(plan)

    def _ask_folder(self, plan: SavePlan) -> None:
        folder = plan.missing_folder
        assert folder is not None

        def answered(yes: bool | None) -> None:
            if not yes:
                self._problem(f"{folder} does not exist: choose another folder.")
                return
            try:
                create_folder(folder)
            except SavePathError as exc:
                self._problem(str(exc))
                return
            self._check_exists(plan)

        self.app.push_screen(
            ConfirmScreen(
                "Create folder?",
                f"{folder} does not exist. Create it and save {plan.path.name} there?",
                confirm_label="Create",
                cancel_label="Back",
            ),
            answered,
        )

    def _check_exists(self, plan: SavePlan) -> None:
        path = plan.path
        if not path.exists():
            self.dismiss(SaveTarget(path, overwrite=False))
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.dismiss(SaveTarget(path, overwrite=True))
            else:
                self._problem(f"{path.name} exists: choose another name.")

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
