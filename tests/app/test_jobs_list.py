"""The Jobs list as a user sees it, against the fake OpenAI server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.widgets import Input

from tests.app.helpers import wait_until
from tests.app.jobs_helpers import fast_polling, go_to_jobs, make_app, row_text
from tests.fake_openai.fixture import fake_openai
from tests.fake_openai.server import FakeOpenAI

__all__ = ["fake_openai"]

DAYS_LEFT = re.compile(r"\b\d+ d\b|shut down")


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_polling(monkeypatch)


async def test_list_shows_jobs_and_refreshes_by_itself(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    moving = fake_openai.add_job(suffix="support-bot")
    failed = fake_openai.add_job(script="failure", model="gpt-4.1-nano-2025-04-14")
    fake_openai.advance(failed)
    app = make_app(tmp_path)
    async with app.run_test(size=(160, 32)) as pilot:
        table = await go_to_jobs(pilot, app)
        await wait_until(pilot, lambda: moving in table.rows and failed in table.rows)
        first = row_text(table, moving)
        assert "validating_files" in first
        assert "support-bot" in first
        assert "gpt-4o-mini-2024-07-18" in first
        assert "failed" in row_text(table, failed)
        # The base model's shutdown date becomes days left (filled in once the models are read).
        await wait_until(pilot, lambda: DAYS_LEFT.search(row_text(table, moving)) is not None)
        fake_openai.advance(moving, 2)
        await wait_until(pilot, lambda: "running" in row_text(table, moving))
        fake_openai.run_to_end(moving)
        await wait_until(pilot, lambda: "succeeded" in row_text(table, moving))
        assert "24,680" in row_text(table, moving)  # trained tokens of the finished job


async def test_odd_statuses_are_shown_as_they_come(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    job_id = fake_openai.add_job()
    fake_openai.job(job_id).data["status"] = "moderating"
    app = make_app(tmp_path)
    async with app.run_test(size=(160, 32)) as pilot:
        table = await go_to_jobs(pilot, app)
        await wait_until(pilot, lambda: job_id in table.rows)
        assert "moderating" in row_text(table, job_id)


async def test_list_survives_server_errors_and_says_so(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    job_id = fake_openai.add_job()
    fake_openai.fail_next(500, count=30, path_contains="/fine_tuning/jobs")
    app = make_app(tmp_path)
    async with app.run_test(size=(160, 32)) as pilot:
        table = await go_to_jobs(pilot, app)
        status = app.screen.query_one("#jobs-status")
        await wait_until(pilot, lambda: "retrying" in str(status.render()))
        fake_openai.state.faults.clear()
        await wait_until(pilot, lambda: job_id in table.rows, timeout=30)


async def test_launch_from_datasets_prefills_the_form(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    dataset = tmp_path / "train.jsonl"
    dataset.write_text('{"messages": []}\n', encoding="utf-8")
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        app.handoffs.new_job_file = dataset
        await pilot.press("2")
        await wait_until(pilot, lambda: bool(app.screen.query("#training")))
        assert app.screen.query_one("#training", Input).value == str(dataset)
        assert app.handoffs.new_job_file is None
