"""Why a launch is blocked is in the status line the user sees at 80×24, not below the fold."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from screens.new_job import NewJobScreen
from tests.app.helpers import text_of, wait_until
from tests.app.jobs_helpers import fast_polling, make_app, open_new_job_form
from tests.app.test_jobs_new_job import _dataset
from tests.fake_openai.fixture import fake_openai
from tests.fake_openai.server import FakeOpenAI
from tui.app import FtApp

__all__ = ["fake_openai"]


async def _open_form(pilot: Pilot[None], app: FtApp, path: Path | None = None) -> NewJobScreen:
    return await open_new_job_form(pilot, app, path)


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_polling(monkeypatch)


async def test_blocked_launch_says_why_in_the_visible_status_line(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    path = _dataset(tmp_path / "broken.jsonl", 12, broken=4)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_form(pilot, app, path)
        await pilot.press("ctrl+l")
        status = screen.query_one("#form-status", Static)
        await wait_until(pilot, lambda: "fix them first" in text_of(status), timeout=60)
        assert text_of(status).startswith("4 errors")
        assert "Enter on an issue jumps" in text_of(status)
        region = status.region
        assert region.height >= 1 and region.bottom <= 23  # on screen, above the footer


async def test_a_bad_field_is_named_in_the_status_line(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_form(pilot, app)
        await pilot.press("ctrl+l")  # no training file
        status = screen.query_one("#form-status", Static)
        await wait_until(pilot, lambda: "Not launched" in text_of(status))
        assert status.region.height >= 1


async def test_relative_paths_start_at_the_dataset_root(
    fake_openai: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "datasets"
    root.mkdir()
    _dataset(root / "train.jsonl", 12, broken=2)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the app's working directory is not the dataset root
    app = make_app(root)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_form(pilot, app)
        field = screen.query_one("#training", Input)
        assert str(root) in field.placeholder
        field.value = "train.jsonl"
        await pilot.press("ctrl+l")
        status = screen.query_one("#form-status", Static)
        await wait_until(pilot, lambda: "fix them first" in text_of(status), timeout=60)
        assert "does not exist" not in text_of(screen.query_one("#form-problems", Static))
