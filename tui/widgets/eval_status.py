"""A one-line status (run title, filter line) that repaints without a layout pass: a Static's
update() asks the whole screen for a new layout, which costs a frame per streamed row."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget


class StatusLine(Widget):
    DEFAULT_CSS = """
    StatusLine { height: 1; width: 1fr; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self._text = Text()

    def set(self, text: str | Text) -> None:
        new = text if isinstance(text, Text) else Text(text)
        if new != self._text:
            self._text = new
            self.refresh()

    @property
    def plain(self) -> str:
        return self._text.plain

    def render(self) -> Text:
        shown = self._text.copy()
        shown.no_wrap, shown.overflow = True, "ellipsis"
        return shown
