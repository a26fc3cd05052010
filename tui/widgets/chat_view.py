"""A scrolling column of chat messages that follows new text only while the user is at the
bottom: scrolling up to read stops the follow, scrolling back to the end resumes it."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widgets import Static

from tui.core.model_labels import distinguishing_label
from tui.services.chat import ChatMessage
from tui.widgets.chat_message import MessageView


class ChatView(VerticalScroll):
    """One model's side of the chat: its messages, the model, the turns sent so far (`history`,
    only completed turns) and the kept conversation they belong to."""

    DEFAULT_CSS = """
    ChatView { height: 1fr; padding: 0 1 0 0; }
    ChatView > .model-title {
        dock: top; height: 1; color: $text-muted; background: $panel; padding: 0 1;
        text-wrap: nowrap; text-overflow: ellipsis;
    }
    ChatView > .placeholder { color: $text-muted; padding: 1 2; }
    """

    def __init__(self, model: str = "", *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.model = model
        self.history: list[ChatMessage] = []
        self.conversation_id: int | None = None
        self._title = Static(
            distinguishing_label(model) or "(no model yet)", classes="model-title", markup=False
        )
        self._placeholder = Static(
            "Type below and press Enter. Ctrl+N adds a line; Escape stops a reply.",
            classes="placeholder",
        )

    def on_mount(self) -> None:
        self.mount(self._title, self._placeholder)
        self.anchor()

    def set_model(self, model: str) -> None:
        self.model = model
        self._title.update(distinguishing_label(model) or "(no model: press F2 to pick one)")

    @property
    def last_reply(self) -> str:
        return next((m.content for m in reversed(self.history) if m.role == "assistant"), "")

    @property
    def messages(self) -> list[MessageView]:
        return list(self.query_children(MessageView))

    async def add_message(self, role: str, title: str, text: str = "") -> MessageView:
        self._placeholder.display = False
        message = MessageView(role, title, text)
        await self.mount(message)
        return message

    async def clear_messages(self) -> None:
        """Start afresh: no messages, no history, a new conversation on the next turn."""
        await self.query_children(MessageView).remove()
        self.history = []
        self.conversation_id = None
        self._placeholder.display = True

    async def show_history(self, history: list[ChatMessage], model_title: str) -> None:
        """Replace the messages with `history` (completed turns), e.g. a kept conversation."""
        await self.query_children(MessageView).remove()
        self.history = list(history)
        views = [
            MessageView(m.role, "You" if m.role == "user" else model_title, m.content)
            for m in history
            if m.role != "system"
        ]
        self._placeholder.display = not views
        if views:
            await self.mount_all(views)
        self.scroll_end(animate=False)

    async def remove_message(self, message: MessageView) -> None:
        await message.remove()
        if not self.messages:
            self._placeholder.display = True
