"""A scrolling column of chat messages that follows new text only while the user is at the
bottom: scrolling up to read stops the follow, scrolling back to the end resumes it."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widgets import Static

from tui.widgets.chat_message import MessageView


class ChatView(VerticalScroll):
    DEFAULT_CSS = """
    ChatView { height: 1fr; padding: 0 1 0 0; }
    ChatView > .model-title { height: 1; color: $text-muted; background: $panel; padding: 0 1; }
    ChatView > .placeholder { color: $text-muted; padding: 1 2; }
    """

    def __init__(self, model: str = "", *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self._title = Static(model or "(no model)", classes="model-title")
        self._placeholder = Static(
            "Type below and press Enter. Alt+Enter adds a line; Escape stops a reply.",
            classes="placeholder",
        )

    def on_mount(self) -> None:
        self.mount(self._title, self._placeholder)
        self.anchor()

    def set_model(self, model: str) -> None:
        self._title.update(model or "(no model)")

    @property
    def messages(self) -> list[MessageView]:
        return list(self.query_children(MessageView))

    async def add_message(self, role: str, title: str, text: str = "") -> MessageView:
        self._placeholder.display = False
        message = MessageView(role, title, text)
        await self.mount(message)
        return message

    async def clear_messages(self) -> None:
        await self.query_children(MessageView).remove()
        self._placeholder.display = True

    async def remove_message(self, message: MessageView) -> None:
        await message.remove()
        if not self.messages:
            self._placeholder.display = True
