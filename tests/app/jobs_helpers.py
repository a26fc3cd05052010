"""Shared pieces of the Jobs screen tests: an app wired to the fake OpenAI server and readers
for what the job widgets show."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from textual.pilot import Pilot

from screens import jobs as jobs_screen
from tests.app.helpers import wait_until
from tui.app import FtApp
from tui.services.connection import connection_for
from tui.widgets.checkpoints_table import CheckpointsTable
from tui.widgets.event_log import EventLog
from tui.widgets.job_header import JobHeader
from tui.widgets.job_table import JobTable
from tui.widgets.loss_chart import LossChart

if TYPE_CHECKING:
    from screens.new_job import NewJobScreen


def fast_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    """Poll every 0.2 s instead of every few seconds so tests wait little."""
    from screens import job_detail

    monkeypatch.setattr(jobs_screen, "ACTIVE_INTERVAL", 0.2)
    monkeypatch.setattr(jobs_screen, "IDLE_INTERVAL", 0.5)
    monkeypatch.setattr(job_detail, "FAST_INTERVAL", 0.2)
    monkeypatch.setattr(job_detail, "SLOW_INTERVAL", 0.2)
    monkeypatch.setattr(job_detail, "MAX_BACKOFF", 0.5)


def make_app(tmp_path: Path) -> FtApp:
    return FtApp(tmp_path, connection=connection_for())


async def go_to_jobs(pilot: Pilot[Any], app: FtApp) -> JobTable:
    await pilot.press("2")
    await wait_until(pilot, lambda: bool(app.screen.query("#job-table")))
    return app.screen.query_one(JobTable)


def plain(renderable: object) -> str:
    return str(getattr(renderable, "plain", renderable))


def row_text(table: JobTable, job_id: str) -> str:
    return " | ".join(plain(cell) for cell in table.get_row(job_id))


def header_text(app: FtApp) -> str:
    return plain(app.screen.query_one(JobHeader).render())


def chart_text(app: FtApp) -> str:
    return plain(app.screen.query_one(LossChart).render())


def log_messages(app: FtApp) -> list[str]:
    log = app.screen.query_one(EventLog)
    return [log.entry(i).message for i in range(log.entry_count)]


def checkpoint_models(app: FtApp) -> list[str]:
    table = app.screen.query_one(CheckpointsTable)
    return [row.model for row in table.checkpoints]


async def open_job(pilot: Pilot[Any], app: FtApp, job_id: str) -> None:
    table = await go_to_jobs(pilot, app)
    await wait_until(pilot, lambda: job_id in table.rows)
    table.move_cursor(row=table.get_row_index(job_id))
    table.focus()
    await pilot.press("enter")
    await wait_until(pilot, lambda: bool(app.screen.query(JobHeader)))
    await wait_until(pilot, lambda: job_id in header_text(app))


async def open_new_job_form(
    pilot: Pilot[Any], app: FtApp, path: Path | None = None, model: str | None = None
) -> NewJobScreen:
    """The new-job form, from a dataset handed over by mode 1 (`path`) or with `n` in mode 2,
    once its model list has loaded; `model` picks the base model."""
    from textual.widgets import Select

    from screens.new_job import NewJobScreen

    if path is not None:
        app.handoffs.new_job_file = path
    await pilot.press("2")
    if path is None:
        await wait_until(pilot, lambda: bool(app.screen.query("#job-table")))
        await pilot.press("n")
    await wait_until(pilot, lambda: isinstance(app.screen, NewJobScreen))
    screen = app.screen
    assert isinstance(screen, NewJobScreen)
    select = screen.query_one("#model", Select)
    # the models are listed in the background; until then the select holds Select.NULL
    await wait_until(pilot, lambda: isinstance(select.value, str))
    if model is not None:
        select.value = model
    return screen
