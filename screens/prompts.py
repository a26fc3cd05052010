"""Small modal prompts used across screens: a line number, a model name."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from screens.model_picker import ModelPickerScreen, PickerItem
from tui.core.models_catalog import known_models


class LineNumberPrompt(ModalScreen[int | None]):
    """Asks for a 1-based line number."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt.cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Go to line (1-based), Enter to jump, Esc to cancel")
            yield Input(placeholder="line number", type="integer", id="line-input")
            yield Label("", id="line-error", classes="error-text")

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        try:
            line = int(event.value)
        except ValueError:
            self.query_one("#line-error", Label).update("Type a whole number, e.g. 120.")
            return
        if line < 1:
            self.query_one("#line-error", Label).update("Lines start at 1.")
            return
        self.dismiss(line)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ModelPrompt(ModelPickerScreen):
    """Pick the model lint counts tokens and prices for: the catalog's models, filtered as you
    type; Enter takes the highlighted match, or the typed name when nothing matches (an `ft:`
    model, a local one)."""

    def __init__(self, current: str, choices: list[str] | None = None) -> None:
        names = choices if choices is not None else known_models()

        async def load() -> list[PickerItem]:
            return [PickerItem(name, name) for name in names]

        super().__init__(
            load, current=current, title=f"Model for token limits and prices · now {current}"
        )
