"""Mode 5 as a user meets it, on a real stored run (run_eval against the HTTP fake OpenAI):
the runs list, the run view's summary and side-by-side answers, filters, Enter into Chat and
a preference pair from a row."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import DataTable, Input, RadioSet

from screens.chat import ChatScreen
from screens.save_preference import SavePreferenceScreen
from tests.app.eval_helpers import (
    BASE,
    OTHER,
    SIZE,
    make_app,
    open_eval,
    open_run,
    stored_run,
)
from tests.app.helpers import text_of, wait_until
from tests.fake_openai.fixture import fake_openai  # noqa: F401
from tests.fake_openai.server import FakeOpenAI
from tui.widgets.app_header import AppHeader
from tui.widgets.eval_answers import DIFF_STYLE, EvalAnswers
from tui.widgets.eval_status import StatusLine
from tui.widgets.eval_summary import EvalSummary


def _cell(table: DataTable[object], row: int, column: int) -> str:
    return str(getattr(table.get_row_at(row)[column], "plain", table.get_row_at(row)[column]))


async def test_runs_list_and_run_view_show_scores_answers_and_filters(
    tmp_path: Path,
    fake_openai: FakeOpenAI,  # noqa: F811
) -> None:
    run = await stored_run(fake_openai, tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_eval(pilot, app)
        await wait_until(pilot, lambda: screen.table.row_count == 1)
        # mode 5 is in the header (active) and in the palette
        header = screen.query_one(AppHeader).render().plain
        assert " 5 Eval " in header
        titles = [c.title for c in app.get_system_commands(screen)]
        assert "Go to Eval" in titles and "New run" in titles
        assert screen.runs[0].run_id == run.run_id
        assert _cell(screen.table, 0, 1) == "held.jsonl"
        assert _cell(screen.table, 0, 2) == "12/12"
        assert _cell(screen.table, 0, 4) == "1.00 · 0.00"  # at 80 columns: scores in order
        detail = text_of(screen.query_one("#eval-detail"))  # the selected run in full
        assert f"{BASE}: exact 1.00 · 0 errors" in detail
        assert f"{OTHER}: exact 0.00 · 0 errors" in detail and run.run_id in detail

        view = await open_run(pilot, app, screen)
        summary = view.query_one(EvalSummary)
        await wait_until(pilot, lambda: "1.00 .76–1.00" in text_of(summary))
        shown = text_of(summary)
        # OTHER's normalized score: 6/12 with its Wilson interval
        assert BASE in shown and OTHER in shown and "0.50 .25–.75" in shown
        assert "100%" in shown and "0 ties (exact)" in shown
        assert len(view.table.lines) == 12

        # The selected row: reference and both answers; OTHER's wrong words highlighted.
        answers = view.query_one(EvalAnswers)
        await wait_until(pilot, lambda: len(answers.children) == 3)
        panes = list(answers.children)
        await wait_until(pilot, lambda: "line 1" in str(panes[0].border_title))
        assert text_of(panes[1]) == "positive" and str(panes[1].border_title).startswith("✓")
        other = panes[2].content  # type: ignore[attr-defined]
        assert str(panes[2].border_title).startswith("✗")
        assert any(DIFF_STYLE in str(span.style) for span in other.spans)
        # Row 2: "Positive." vs "negative"
        await pilot.press("down")
        await wait_until(pilot, lambda: "line 2" in str(panes[0].border_title))
        assert text_of(panes[2]) == "Positive."

        # Filters: "Positive." and "positive" agree (case and punctuation aside), so the
        # models disagree on the even rows only; OTHER fails every row (exact), BASE none.
        await pilot.press("f")
        await wait_until(
            pilot, lambda: "disagree" in view.query_one("#run-filter", StatusLine).plain
        )
        assert view.table.lines == [2, 4, 6, 8, 10, 12]
        await pilot.press("f")  # rows the current model (BASE) fails
        shown_filter = view.query_one("#run-filter", StatusLine)
        await wait_until(pilot, lambda: f"rows {BASE} fails" in shown_filter.plain)
        assert view.table.lines == []
        await pilot.press("m")  # now OTHER
        await wait_until(pilot, lambda: len(view.table.lines) == 12)
        assert f"rows {OTHER} fails" in view.query_one("#run-filter", StatusLine).plain
        await pilot.press("f")
        await wait_until(
            pilot, lambda: "all rows" in view.query_one("#run-filter", StatusLine).plain
        )

        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)


async def test_enter_opens_the_row_in_chat_with_that_model(
    tmp_path: Path,
    fake_openai: FakeOpenAI,  # noqa: F811
) -> None:
    await stored_run(fake_openai, tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        view = await open_run(pilot, app, await open_eval(pilot, app))
        await pilot.press("m")  # OTHER
        await pilot.press("down", "enter")  # row 2
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        chat = app.screen
        assert isinstance(chat, ChatScreen)
        await wait_until(pilot, lambda: len(chat.left.history) == 2)
        assert chat.left.model == OTHER
        assert [m.role for m in chat.left.history] == ["user", "assistant"]
        assert chat.left.history[-1].content == "Positive."
        assert "Review 2" in chat.left.history[0].content
        system = chat.query_one("#system-prompt", Input).value
        assert system.startswith("Classify the sentiment")
        assert view is not None


async def test_p_saves_the_better_answer_of_a_row_as_a_dpo_line(
    tmp_path: Path,
    fake_openai: FakeOpenAI,  # noqa: F811
) -> None:
    await stored_run(fake_openai, tmp_path)
    app = make_app(tmp_path)
    target = tmp_path / "prefs.jsonl"
    async with app.run_test(size=SIZE) as pilot:
        view = await open_run(pilot, app, await open_eval(pilot, app))
        await pilot.press("down")  # row 2: BASE "negative" (right), OTHER "Positive." (wrong)
        await wait_until(pilot, lambda: view.table.current_line == 2)
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, SavePreferenceScreen))
        dialog = app.screen
        radio = dialog.query_one("#pref-better", RadioSet)
        radio.focus()
        await pilot.press("enter")  # the first answer: BASE
        await wait_until(pilot, lambda: radio.pressed_index == 0)
        dialog.query_one("#pref-path", Input).value = str(target)
        await pilot.press("f5")
        await wait_until(pilot, lambda: app.screen is view)
    pair = json.loads(target.read_text())
    assert pair["preferred_output"] == [{"role": "assistant", "content": "negative"}]
    assert pair["non_preferred_output"] == [{"role": "assistant", "content": "Positive."}]
    assert pair["input"]["messages"][-1]["content"].startswith("Review 2")
