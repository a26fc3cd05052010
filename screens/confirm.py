"""A reusable yes/no dialog: `await app.push_screen_wait(ConfirmScreen(...))` or push it with a
callback. It dismisses with True only on an explicit yes (`y`, or the confirm button)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmScreen(ModalScreen[bool]):
    """Ask one question. `danger=True` paints the confirm button red (destructive actions)."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]
    DEFAULT_CSS = """
    ConfirmScreen > .dialog { width: 64; max-width: 95%; }
    ConfirmScreen #confirm-message { padding: 1 0; height: auto; }
    ConfirmScreen .dialog-buttons Button { margin-left: 1; min-width: 10; }
    """

    def __init__(
        self,
        title: str,
        message: str,
        *,
        confirm_label: str = "Yes",
        cancel_label: str = "No",
        danger: bool = False,
    ) -> None:
        super().__init__()
        self._title = title
        self._message = message
        self._confirm_label = confirm_label
        self._cancel_label = cancel_label
        self._danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self._title, classes="title", id="confirm-title", markup=False)
            yield Static(self._message, id="confirm-message", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(
                    f"{self._confirm_label} (y)",
                    variant="error" if self._danger else "primary",
                    id="confirm-yes",
                )
                yield Button(f"{self._cancel_label} (n)", id="confirm-no")

    def on_mount(self) -> None:
        # Focus the safe choice: Enter on a destructive dialog must not destroy anything.
        self.query_one("#confirm-no" if self._danger else "#confirm-yes", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
