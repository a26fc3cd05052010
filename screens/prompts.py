"""Small modal prompts used across screens: a line number, a model name."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option


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


def known_models() -> list[str]:
    """Fine-tunable models from the dated catalog, newest families first."""
    try:
        from tui.core.models_catalog import known_models as catalog_models

        return list(catalog_models())
    except ImportError:
        return []


class ModelPrompt(ModalScreen[str | None]):
    """Pick a model from the known list or type any name (e.g. an `ft:` model or a local one)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt.cancel")]

    def __init__(self, current: str, choices: list[str] | None = None) -> None:
        super().__init__()
        self.current = current
        self.choices = choices if choices is not None else known_models()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Model for token limits and prices (now: {self.current})")
            yield Input(placeholder="type a model name, or pick below", id="model-input")
            yield OptionList(*[Option(m, id=m) for m in self.choices], id="model-list")

    @on(Input.Changed)
    def _filter(self, event: Input.Changed) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        needle = event.value.strip().lower()
        options.add_options([Option(m, id=m) for m in self.choices if needle in m.lower()])

    @on(Input.Submitted)
    def _typed(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        options = self.query_one(OptionList)
        if not value and options.option_count:
            options.focus()
            return
        self.dismiss(value or None)

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
