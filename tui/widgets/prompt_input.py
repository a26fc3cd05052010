"""The chat prompt: a growing text area where Enter sends and Alt+Enter (or Shift+Enter, where
the terminal delivers it) inserts a new line. Escape is left to the screen (it cancels a reply)."""

from __future__ import annotations

from textual import events
from textual.message import Message
from textual.widgets import TextArea

NEWLINE_KEYS = frozenset({"alt+enter", "shift+enter"})


class PromptInput(TextArea):
    DEFAULT_CSS = """
    PromptInput { height: auto; min-height: 3; max-height: 10; border: round $primary 60%; }
    PromptInput:focus { border: round $primary; }
    """

    class Submitted(Message):
        def __init__(self, prompt: PromptInput, text: str) -> None:
            super().__init__()
            self.prompt = prompt
            self.text = text

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__("", id=id, soft_wrap=True, show_line_numbers=False, tab_behavior="focus")
        self.border_subtitle = "Enter send · Alt+Enter new line"

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.submit()
            return
        if event.key in NEWLINE_KEYS:
            event.stop()
            event.prevent_default()
            self.insert("\n")
            return
        await super()._on_key(event)

    def submit(self) -> None:
        if self.read_only or not self.text.strip():
            return
        self.post_message(self.Submitted(self, self.text))

    def restore(self, text: str) -> None:
        """Put `text` back (after a cancel or a failure), cursor at the end."""
        self.load_text(text)
        self.move_cursor(self.document.end)
