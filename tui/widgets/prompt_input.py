"""The chat prompt: a growing text area where Enter sends and Ctrl+N inserts a new line (so do
Alt+Enter and Shift+Enter where the terminal delivers them). Pasting keeps new lines. Escape is
left to the screen (it cancels a reply)."""

from __future__ import annotations

from textual import events
from textual.message import Message
from textual.widgets import TextArea

# Over tmux and most terminals Alt+Enter and Shift+Enter reach the app as a plain Enter, so
# Ctrl+N is the newline key that always arrives; the others work where the terminal sends them.
NEWLINE_KEYS = frozenset({"ctrl+n", "alt+enter", "shift+enter"})


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
        self.border_subtitle = "Enter send · Ctrl+N new line"

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
        """Hand the text over and empty the prompt at once, so keys typed right after Enter
        land in a fresh prompt; a receiver that cannot send it calls `restore()`."""
        text = self.text
        if self.read_only or not text.strip():
            return
        self.clear()
        self.post_message(self.Submitted(self, text))

    def restore(self, text: str) -> None:
        """Put `text` back (after a cancel or a failure) before anything typed since, cursor at
        the end."""
        current = self.text
        self.load_text(text if not current.strip() else f"{text}\n{current}")
        self.move_cursor(self.document.end)
