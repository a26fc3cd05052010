"""The chat message widget under long streamed answers: nothing is lost, completed parts are
frozen into single widgets (so layout stays cheap), and cuts never split a block."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Markdown

from benchmarks.chat_render_bench import reply_tokens
from tests.app.helpers import wait_until
from tui.widgets.chat_message import (
    SEGMENT_LINES,
    FrozenSegment,
    safe_cuts,
    split_segments,
)
from tui.widgets.chat_view import ChatView


class _ViewApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ChatView("model", id="view")


def test_cuts_fall_between_blocks_and_never_inside_a_code_fence() -> None:
    text = "para one\n\n```\ncode\n\nstill code\n```\n\nafter\n\n- a\n- b\n"
    cuts = safe_cuts(text)
    assert [text[c:].splitlines()[0] for c in cuts] == ["```", "after", "- a"]


def test_segments_join_back_to_the_text() -> None:
    text = "".join(reply_tokens(3000))
    segments = split_segments(text)
    assert "".join(segments) == text
    assert len(segments) > 5
    assert all(s.count("\n") >= SEGMENT_LINES for s in segments[:-1])
    assert split_segments("short") == ["short"]


async def test_a_long_streamed_answer_is_complete_with_few_widgets() -> None:
    app = _ViewApp()
    tokens = reply_tokens(3000)
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(ChatView)
        message = await view.add_message("assistant", "model")
        for i, token in enumerate(tokens):
            await message.append(token)
            if i % 50 == 0:
                await pilot.pause()
        await message.finish()
        await pilot.pause()
        full = "".join(tokens)
        assert message.text == full
        assert message.rendered_text == full
        frozen = list(message.query(FrozenSegment))
        assert frozen, "a long answer keeps only its tail as live Markdown"
        live = message.query_one(Markdown)
        assert live.source.count("\n") < 3 * SEGMENT_LINES
        # the view stayed at the bottom while streaming
        await wait_until(pilot, lambda: view.scroll_y >= view.max_scroll_y - 1)


async def test_a_kept_long_message_opens_in_segments_and_an_edit_replaces_it() -> None:
    app = _ViewApp()
    text = "".join(reply_tokens(2000))
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(ChatView)
        message = await view.add_message("assistant", "model", text)
        await pilot.pause()
        assert message.rendered_text == text
        assert message.query(FrozenSegment)
        await message.finish("done", "Just **one** line now.")
        await pilot.pause()
        assert not message.query(FrozenSegment)
        assert message.rendered_text == "Just **one** line now."


async def test_follow_scroll_stops_when_the_user_scrolls_up_and_resumes_at_the_bottom() -> None:
    app = _ViewApp()
    tokens = reply_tokens(1200)
    async with app.run_test(size=(80, 20)) as pilot:
        view = app.query_one(ChatView)
        message = await view.add_message("assistant", "model")
        for token in tokens[:400]:
            await message.append(token)
        await pilot.pause(0.3)
        assert view.max_scroll_y > 0 and view.scroll_y == view.max_scroll_y
        view.scroll_home(animate=False, immediate=True)  # the user scrolls up to read
        for token in tokens[400:800]:
            await message.append(token)
        await pilot.pause(0.3)
        assert view.scroll_y == 0, "new text must not yank a reader back down"
        view.scroll_end(animate=False, immediate=True)  # back at the bottom: follow again
        await pilot.pause(0.1)
        for token in tokens[800:]:
            await message.append(token)
        await message.finish()
        await pilot.pause(0.3)
        await wait_until(pilot, lambda: view.scroll_y >= view.max_scroll_y - 1)
        assert view.scroll_y > 0


async def test_merged_segments_show_the_same_lines_as_their_parts_without_rendering_again() -> None:
    app = _ViewApp()
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(ChatView)
        first = FrozenSegment("## One\n\nThe first paragraph.\n\n")
        second = FrozenSegment("- a list item\n- another\n\n")
        await view.mount(first, second)
        await pilot.pause()
        width = first.content_region.width
        expected = [*first._lines(width), [], *second._lines(width)]
        merged = FrozenSegment(first.source + second.source, parts=(first, second))
        await view.mount(merged)
        await first.remove()
        await second.remove()
        await pilot.pause()
        texts = ["".join(seg.text for seg in line) for line in merged._lines(width)]
        assert texts == ["".join(seg.text for seg in line) for line in expected]
        assert "The first paragraph." in "\n".join(texts)
        assert merged.size.height == len(expected)
        # the parts' rendered lines are reused, not rendered again
        assert merged._lines(width)[0] is expected[0]
