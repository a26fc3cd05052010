"""One-line header: the mode tabs (keys 1–5) on the left, profile and connection health right."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

TABS = (
    ("1", "datasets", "Datasets"),
    ("2", "jobs", "Jobs"),
    ("3", "chat", "Chat"),
    ("4", "files", "Files & models"),
    ("5", "eval", "Eval"),
)


class AppHeader(Widget):
    DEFAULT_CSS = """
    AppHeader { height: 1; dock: top; background: $panel; }
    """

    def __init__(self, mode: str) -> None:
        super().__init__()
        self.mode = mode

    def on_mount(self) -> None:
        self.watch(self.app, "status_text", self._on_status)

    def _on_status(self, _status: str) -> None:
        self.refresh()

    def render(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        for key, mode, title in TABS:
            style = "bold reverse" if mode == self.mode else "dim"
            text.append(f" {key} {title} ", style=style)
            text.append(" ")
        status = str(getattr(self.app, "status_text", ""))
        room = self.size.width - text.cell_len - 1
        if status and room > 8:
            shown = status if len(status) <= room else status[: room - 1] + "…"
            text.append(" " * (room - len(shown)))
            text.append(shown, style="italic")
        return text
