"""One chat message: who said it, the text as Markdown, and a metrics line under replies.

Replies stream through Textual's `MarkdownStream`: fragments that arrive faster than the screen
repaints are joined into one `Markdown.append()`, which re-parses only the last block, so a long
answer costs no more per token than a short one. `finish()` stops the stream and renders the
whole text once, which also repairs half-parsed blocks such as an open code fence.
"""

from __future__ import annotations

from typing import Literal

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Markdown, Static
from textual.widgets.markdown import MarkdownStream

MessageState = Literal["streaming", "done", "cancelled", "failed"]


class MessageView(Vertical):
    """A message in the chat view. `role` is "user" or "assistant"; `title` names the speaker."""

    DEFAULT_CSS = """
    MessageView { height: auto; padding: 0 1; margin: 0 0 1 0; }
    MessageView.user { background: $boost; border-left: thick $primary; }
    MessageView.assistant { border-left: thick $secondary; }
    MessageView.failed { border-left: thick $error; }
    MessageView > .speaker { color: $text-muted; text-style: bold; height: 1; }
    MessageView > Markdown { margin: 0; padding: 0; }
    MessageView > Markdown > * { margin-bottom: 0; }
    MessageView > .footer { color: $text-muted; height: auto; }
    MessageView > .footer.error { color: $error; }
    """

    def __init__(self, role: str, title: str, text: str = "") -> None:
        super().__init__(classes=role)
        self.role = role
        self.title = title
        self._pieces: list[str] = [text] if text else []
        self._stream: MarkdownStream | None = None
        self.state: MessageState = "streaming" if role == "assistant" and not text else "done"
        self._markdown = Markdown(text)
        self._footer = Static("", classes="footer")
        self._footer.display = False

    def compose(self) -> ComposeResult:
        yield Static(self.title, classes="speaker")
        yield self._markdown
        yield self._footer

    @property
    def text(self) -> str:
        return "".join(self._pieces)

    @property
    def footer_text(self) -> str:
        return str(self._footer.content)

    async def append(self, fragment: str) -> None:
        """Add streamed text; cheap however long the message already is."""
        if not fragment:
            return
        self._pieces.append(fragment)
        if self._stream is None:
            self._stream = Markdown.get_stream(self._markdown)
        await self._stream.write(fragment)

    async def finish(self, state: MessageState = "done", text: str | None = None) -> None:
        """End streaming and render the final text once (`text` replaces it, e.g. after an edit)."""
        if self._stream is not None:
            stream, self._stream = self._stream, None
            await stream.stop()
        if text is not None:
            self._pieces = [text]
        self.state = state
        self.set_class(state == "failed", "failed")
        await self._markdown.update(self.text)

    def set_footer(self, text: str, *, error: bool = False) -> None:
        self._footer.update(text)
        self._footer.set_class(error, "error")
        self._footer.display = bool(text)
