"""A new eval run from the form: rows stream into the run view as they finish, `c` cancels the
run (the rows done are kept), `r` resumes it without asking for those rows again."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from typing import Any

from textual.widgets import Input, ProgressBar, SelectionList

from screens.eval_form import NewEvalScreen
from screens.eval_run import EvalRunScreen
from tests.app.eval_helpers import BASE, OTHER, SIZE, held_out, make_app, open_eval
from tests.app.helpers import wait_until
from tests.eval.conftest import oracle, user_text
from tests.fake_openai.fixture import fake_openai  # noqa: F401
from tests.fake_openai.server import FakeOpenAI
from tui.services.eval.store import EvalStore
from tui.widgets.eval_status import StatusLine


def _review(messages: list[Any]) -> int:
    return int(user_text(messages).split(":")[0].split()[-1])


async def test_form_starts_a_run_that_streams_cancels_and_resumes(
    tmp_path: Path,
    fake_openai: FakeOpenAI,  # noqa: F811
) -> None:
    data = held_out(tmp_path, 12)
    asked: Counter[int] = Counter()
    release = threading.Event()

    def responder(model: str, messages: list[Any]) -> str:
        review = _review(messages)
        asked[review] += 1
        if review > 3:  # rows after the third wait until the test lets them go
            release.wait(30)
        return oracle(model, messages)

    fake_openai.chat.responder = responder
    app = make_app(tmp_path)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_eval(pilot, app)
            await pilot.press("n")
            await wait_until(pilot, lambda: isinstance(app.screen, NewEvalScreen))
            form = app.screen
            form.query_one("#form-dataset", Input).value = str(data)
            models = form.query_one("#form-models", SelectionList)
            # the active profile's chat models are listed: pick BASE with the keyboard
            await wait_until(pilot, lambda: BASE in _values(models))
            models.focus()
            models.highlighted = _values(models).index(BASE)
            await pilot.press("space")
            form.query_one("#form-extra", Input).value = OTHER  # typed, not picked
            await pilot.press("f5")
            await wait_until(pilot, lambda: isinstance(app.screen, EvalRunScreen))
            view = app.screen
            assert isinstance(view, EvalRunScreen)
            # the first three rows stream in; the others wait at the backend
            await wait_until(pilot, lambda: len(view.table.lines) == 3)
            assert view.labels == [BASE, OTHER]
            bar = view.query_one(ProgressBar)
            assert bar.total == 12 and bar.progress == 3
            assert "3/12 rows · running" in view.query_one("#run-title", StatusLine).plain

            await pilot.press("c")
            live = screen.live
            assert live is not None
            await wait_until(pilot, lambda: live.finished)
            release.set()
            await wait_until(
                pilot, lambda: "cancelled" in view.query_one("#run-title", StatusLine).plain
            )
            run_id = live.run_id
            assert run_id is not None
            store = EvalStore()
            assert store.get_run(run_id).status == "cancelled"
            assert sorted(store.done_lines(run_id)) == [1, 2, 3]
            asked_before = dict(asked)

            await pilot.press("r")  # resume: a fresh view of the same run, live again
            await wait_until(
                pilot, lambda: app.screen is not view and isinstance(app.screen, EvalRunScreen)
            )
            resumed = app.screen
            assert isinstance(resumed, EvalRunScreen) and resumed.run_id == run_id
            await wait_until(pilot, lambda: len(resumed.table.lines) == 12, timeout=30)
            await wait_until(pilot, lambda: screen.live is not None and screen.live.finished)
            await wait_until(
                pilot, lambda: "completed" in resumed.query_one("#run-title", StatusLine).plain
            )
            assert store.get_run(run_id).status == "completed"
            # rows 1-3 were not asked again (two models each: two calls per row, once)
            assert all(asked[r] == asked_before[r] == 2 for r in (1, 2, 3))
            assert all(asked[r] >= 2 for r in range(4, 13))
            store.close()
    finally:
        release.set()


def _values(models: SelectionList[str]) -> list[str]:
    return [str(models.get_option_at_index(i).value) for i in range(models.option_count)]
