"""`L` in Datasets shows the pre-filled new-job form, even when Jobs is showing a job view."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import Input

from screens.job_detail import JobDetailScreen
from screens.new_job import NewJobScreen
from tests.app.helpers import wait_until
from tests.app.jobs_helpers import fast_polling, make_app, open_job
from tests.fake_openai.fixture import fake_openai
from tests.fake_openai.server import FakeOpenAI

__all__ = ["fake_openai"]


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_polling(monkeypatch)


async def test_launch_shows_the_form_over_an_open_job_view(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    job_id = fake_openai.add_job()
    data = tmp_path / "train.jsonl"
    row = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]}
    data.write_text(json.dumps(row) + "\n", encoding="utf-8")
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_job(pilot, app, job_id)
        assert isinstance(app.screen, JobDetailScreen)
        await pilot.press("1")
        await wait_until(pilot, lambda: app.current_mode == "datasets")
        app.screen.open_file(data)  # type: ignore[attr-defined]
        await pilot.press("L")
        await wait_until(pilot, lambda: isinstance(app.screen, NewJobScreen))
        form = app.screen
        assert form.query_one("#training", Input).value.endswith("train.jsonl")
