"""One chat message: who said it, the text as Markdown, and a metrics line under replies.

Streaming stays cheap however long the answer grows:

- `append()` only collects fragments; at most `FLUSHES_PER_S` times a second they go together
  into Textual's `MarkdownStream`, whose `Markdown.append()` re-parses only the last block.
- Every Markdown block is a widget and each layout pass visits them all, so the message keeps
  only its tail (a few dozen lines, cut at a blank line outside code fences) as live
  `Markdown`; completed blocks are frozen into one `FrozenSegment` widget, rendered once per
  width and served line by line. When a flush brings many lines at once (the UI fell behind),
  its completed blocks go straight to a frozen segment without ever being mounted.
- `finish()` stops the stream and renders the live tail once more in full, which repairs
  half-parsed blocks such as an open code fence.
"""

from __future__ import annotations

import asyncio
from typing import Literal

from rich.console import Console
from rich.markdown import Markdown as RichMarkdown
from rich.segment import Segment
from rich.style import Style
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.geometry import Size
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Markdown, Static
from textual.widgets.markdown import MarkdownStream

MessageState = Literal["streaming", "done", "cancelled", "failed"]
FLUSHES_PER_S = 15
SEGMENT_LINES = 10
MERGED_LINES = 200
"""Frozen segments merge up to this many lines (bigger ones would stall a frame to render)."""
"""Lines of the live segment before its completed blocks are frozen."""


def _fence_marker(line: str) -> str | None:
    stripped = line.lstrip()
    if stripped.startswith("```"):
        return "```"
    if stripped.startswith("~~~"):
        return "~~~"
    return None


def safe_cuts(text: str) -> list[int]:
    """Offsets just after each blank line outside code fences, followed by more text: cutting
    there never splits a block in two."""
    cuts: list[int] = []
    fence: str | None = None
    offset = 0
    previous_blank = False
    for line in text.splitlines(keepends=True):
        marker = _fence_marker(line)
        if fence is None and previous_blank and line.strip() and offset:
            cuts.append(offset)
        if marker is not None:
            fence = marker if fence is None else (None if marker == fence else fence)
        previous_blank = fence is None and not line.strip()
        offset += len(line)
    return cuts


def split_segments(text: str, max_lines: int = SEGMENT_LINES) -> list[str]:
    """`text` in consecutive segments of at least `max_lines` lines where it can be cut; joined
    they give `text` back. The last segment is the one still growing while streaming."""
    segments: list[str] = []
    start = 0
    lines = 0
    previous = 0
    for cut in safe_cuts(text):
        lines += text.count("\n", previous, cut)
        previous = cut
        if lines >= max_lines:
            segments.append(text[start:cut])
            start = cut
            lines = 0
    segments.append(text[start:])
    return segments


class FrozenSegment(Widget):
    """A completed part of a long message: one widget, however many blocks it holds, rendered
    once per width and then served line by line (scrolling past it costs nothing). Only plain
    segments are kept, no parse tree or `Strip`s (whose caches would weigh on the GC)."""

    DEFAULT_CSS = "FrozenSegment { height: auto; margin: 0 0 1 0; }"

    def __init__(self, markdown: str, parts: tuple[FrozenSegment, ...] = ()) -> None:
        super().__init__()
        self.source = markdown
        self.lines = markdown.count("\n")
        # A merged segment reuses its parts' rendered lines instead of rendering again, so a
        # merge costs a list concatenation, not a Markdown render of the whole merged text.
        self._parts = parts
        # Layout asks for more than one width (with and without a scrollbar), so keep a few.
        self._rendered: dict[int, list[list[Segment]]] = {}

    def _lines(self, width: int) -> list[list[Segment]]:
        return self._lines_at(width, self.app.console, self.rich_style)

    def _lines_at(self, width: int, console: Console, style: Style) -> list[list[Segment]]:
        """Rendered lines at `width`; parts (detached widgets) render with the host's console
        and style, never their own."""
        lines = self._rendered.get(width)
        if lines is not None:
            return lines
        if self._parts:
            lines = []
            for index, part in enumerate(self._parts):
                if index:
                    lines.append([])  # the margin that stood between the separate segments
                lines.extend(part._lines_at(width, console, style))
        else:
            options = console.options.update(width=width, height=None)
            renderable = RichMarkdown(self.source.rstrip(), code_theme="monokai")
            lines = console.render_lines(renderable, options, style=style)
        if len(self._rendered) >= 3:
            self._rendered.pop(next(iter(self._rendered)))
        self._rendered[width] = lines
        return lines

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines(width))

    def render_line(self, y: int) -> Strip:
        width = self.content_region.width
        lines = self._lines(width)
        return (
            Strip(lines[y], width) if 0 <= y < len(lines) else Strip.blank(width, self.rich_style)
        )


class MessageView(Vertical):
    """A message in the chat view. `role` is "user" or "assistant"; `title` names the speaker."""

    DEFAULT_CSS = """
    MessageView { height: auto; padding: 0 1; margin: 0 0 1 0; }
    MessageView.user { background: $boost; border-left: thick $primary; }
    MessageView.assistant { border-left: thick $secondary; }
    MessageView.failed { border-left: thick $error; }
    MessageView.unsent { opacity: 70%; }
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
        self._unflushed: list[str] = []
        self._flush_timer: Timer | None = None
        self._lock = asyncio.Lock()
        self._freeze_at = 2 * SEGMENT_LINES
        self.state: MessageState = "streaming" if role == "assistant" and not text else "done"
        # what the user typed keeps its line breaks (Markdown would join single new lines)
        shown = text.replace("\n", "  \n") if role == "user" else text
        *frozen, live = split_segments(shown)
        self._frozen = [FrozenSegment(segment) for segment in frozen]
        self._live_lines = live.count("\n")
        self._markdown = Markdown(live)
        self._footer = Static("", classes="footer")
        self._footer.display = False

    def compose(self) -> ComposeResult:
        yield Static(self.title, classes="speaker")
        yield from self._frozen
        yield self._markdown
        yield self._footer

    @property
    def text(self) -> str:
        return "".join(self._pieces)

    @property
    def rendered_text(self) -> str:
        """What the widgets hold so far (frozen segments and the live Markdown); behind `text`
        by what is still on its way to the screen."""
        return "".join(segment.source for segment in self._frozen) + self._markdown.source

    @property
    def footer_text(self) -> str:
        return str(self._footer.content)

    async def append(self, fragment: str) -> None:
        """Add streamed text. Fragments are only collected here; at most `FLUSHES_PER_S` times a
        second they go to the Markdown stream together, so the cost per token stays tiny."""
        if not fragment:
            return
        if not self._pieces and self._footer.display:
            self.set_footer("")  # the "waiting" note goes once text arrives
        self._pieces.append(fragment)
        self._unflushed.append(fragment)
        if self._flush_timer is None:
            self._flush_timer = self.set_timer(1 / FLUSHES_PER_S, self._flush)

    async def _flush(self) -> None:
        async with self._lock:
            self._flush_timer = None
            if not self._unflushed:
                return
            text = "".join(self._unflushed)
            self._unflushed.clear()
            lines = text.count("\n")
            if self._live_lines + lines >= self._freeze_at:
                await self._freeze(text)  # completed blocks skip the live Markdown entirely
                return
            if self._stream is None:
                self._stream = Markdown.get_stream(self._markdown)
            await self._stream.write(text)
            self._live_lines += lines

    async def _freeze(self, incoming: str) -> None:
        """Move the completed blocks of the live segment (plus `incoming` text) into a frozen
        segment; the live Markdown keeps only the part still being written."""
        if self._stream is not None:
            stream, self._stream = self._stream, None
            await stream.stop()
        *done, live = split_segments(self._markdown.source + incoming)
        self._live_lines = live.count("\n")
        # inside a long code block there is nowhere to cut: try again a segment later
        self._freeze_at = self._live_lines + 2 * SEGMENT_LINES if not done else 2 * SEGMENT_LINES
        if done:
            segment = FrozenSegment("".join(done))
            self._frozen.append(segment)
            await self.mount(segment, before=self._markdown)
            await self._merge_frozen()
            await self._markdown.update(live)
        else:
            self._stream = Markdown.get_stream(self._markdown)
            await self._stream.write(incoming)

    async def _merge_frozen(self) -> None:
        """Merge neighbouring frozen segments like a binary counter (a segment absorbs the next
        while it is no bigger), up to `MERGED_LINES`: a layout pass then visits O(log n)
        widgets for a long answer instead of one per freeze."""
        while len(self._frozen) >= 2:
            older, newer = self._frozen[-2], self._frozen[-1]
            if older.lines > newer.lines or older.lines + newer.lines > MERGED_LINES:
                break
            merged = FrozenSegment(older.source + newer.source, parts=(older, newer))
            await self.mount(merged, before=older)
            await older.remove()
            await newer.remove()
            self._frozen[-2:] = [merged]

    async def finish(self, state: MessageState = "done", text: str | None = None) -> None:
        """End streaming and render the live segment once in full (`text` replaces the whole
        message, e.g. after an edit)."""
        if self._flush_timer is not None:
            self._flush_timer.stop()
        await self._flush()
        async with self._lock:
            if self._stream is not None:
                stream, self._stream = self._stream, None
                await stream.stop()
            self.state = state
            self.set_class(state == "failed", "failed")
            if text is None or text == self.text:
                await self._markdown.update(self._markdown.source)
                return
            self._pieces = [text]
            *frozen, live = split_segments(text)
            for segment in self._frozen:
                await segment.remove()
            self._frozen = [FrozenSegment(segment) for segment in frozen]
            if self._frozen:
                await self.mount_all(self._frozen, before=self._markdown)
            self._live_lines = live.count("\n")
            await self._markdown.update(live)

    def set_footer(self, text: str, *, error: bool = False) -> None:
        self._footer.update(text)
        self._footer.set_class(error, "error")
        self._footer.display = bool(text)
