"""A job's event log: newest at the bottom, coloured by level, following new events only while the
view is at the bottom (scroll up to read and it stays put).

Events are kept as compact tuples and rendered lazily line by line (Line API), so 100k events
cost little memory and a repaint formats only the visible rows.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

LEVEL_STYLES = {
    "info": Style(),
    "warn": Style(color="yellow"),
    "warning": Style(color="yellow"),
    "error": Style(color="red", bold=True),
}
_TIME_STYLE = Style(dim=True)
_METRICS_STYLE = Style(dim=True)


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One event as the log shows it."""

    id: str
    created_at: int
    level: str
    message: str
    type: str = "message"


def _one_line(message: str) -> str:
    return " ".join(message.split()) if ("\n" in message or "\r" in message) else message


class EventLog(ScrollView, can_focus=True):
    """Scrollable, append-only list of events; duplicates (same id) are ignored."""

    BINDINGS = [
        Binding("end,G", "follow", "Follow new events", id="events.follow"),
        Binding("home,g", "oldest", "Oldest event", id="events.oldest", show=False),
    ]
    DEFAULT_CSS = """
    EventLog { height: 1fr; overflow: auto auto; }
    EventLog:focus { background-tint: $foreground 5%; }
    """

    def __init__(self, *, id: str | None = None, utc: bool = False) -> None:  # noqa: A002
        super().__init__(id=id)
        self._entries: list[LogEntry] = []
        self._seen: set[str] = set()
        self._width = 0
        self._utc = utc
        # Sticky: true while the reader is at the bottom; survives resizes, changed by scrolling.
        self.following = True

    @property
    def entry_count(self) -> int:
        return len(self._entries)

    def entry(self, index: int) -> LogEntry:
        return self._entries[index]

    def add_entries(self, entries: Iterable[LogEntry]) -> int:
        """Append entries (oldest first); returns how many were new."""
        added = 0
        for entry in entries:
            if entry.id in self._seen:
                continue
            self._seen.add(entry.id)
            self._entries.append(entry)
            self._width = max(self._width, len(entry.message) + 10)
            added += 1
        if not added:
            return 0
        self.virtual_size = Size(self._width, len(self._entries))
        if self.following and not self.is_vertical_scrollbar_grabbed:
            self._to_end()
        self.refresh()
        return added

    def clear(self) -> None:
        self._entries.clear()
        self._seen.clear()
        self._width = 0
        self.virtual_size = Size(0, 0)
        self.refresh()

    def _to_end(self) -> None:
        # force: the scrollbar may not be laid out yet, which would veto the scroll
        self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)
        self.following = True

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self.following = new_value >= self.max_scroll_y - 0.5

    def on_resize(self) -> None:
        if self.following:
            self.call_after_refresh(self._to_end)

    def action_follow(self) -> None:
        self._to_end()

    def action_oldest(self) -> None:
        self.scroll_to(y=0, animate=False, immediate=True, force=True)

    def _format_time(self, created_at: int) -> str:
        moment = time.gmtime(created_at) if self._utc else time.localtime(created_at)
        return time.strftime("%H:%M:%S", moment)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        base = self.rich_style
        if index >= len(self._entries):
            return Strip.blank(width, base)
        entry = self._entries[index]
        style = (
            _METRICS_STYLE if entry.type == "metrics" else LEVEL_STYLES.get(entry.level, Style())
        )
        segments = [
            Segment(self._format_time(entry.created_at) + " ", base + _TIME_STYLE),
            Segment(_one_line(entry.message), base + style),
        ]
        strip = Strip(segments).crop_extend(scroll_x, scroll_x + width, base)
        return strip.apply_offsets(scroll_x, index)
