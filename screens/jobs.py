"""Mode 2 — Jobs: the fine-tuning jobs of the active profile (OpenAI, Azure or the local server),
refreshed while the screen is visible; Enter opens a job, `n` starts the new-job form.

Hand-offs consumed: `FtApp.start_job(dataset)` (an absolute dataset path set by the Datasets
screen): the form opens pre-filled with it, once.
Hand-offs produced (by the job view): `FtApp.open_chat(model)`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import date
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from screens.base import ModeScreen, copy_text, error_text
from tui.core.job_status import is_terminal
from tui.core.model_names import days_left, shutdown_date_for, today_utc
from tui.core.plurals import plural
from tui.services.cache import Cache, open_cache
from tui.widgets.job_table import JobRow, JobTable

if TYPE_CHECKING:
    from tui.app import FtApp
    from tui.services.job_types import JobInfo
    from tui.services.jobs import JobsService

log = logging.getLogger("ft-tui.jobs")

ACTIVE_INTERVAL = 5.0  # seconds between list refreshes while some job is still moving
IDLE_INTERVAL = 30.0
MAX_BACKOFF = 120.0
MODELS_MAX_AGE = 600.0  # shutdown dates change rarely


class JobsScreen(ModeScreen):
    MODE = "jobs"
    DEFAULT_CSS = """
    JobsScreen #jobs-status { height: 1; padding: 0 1; color: $text-muted; }
    JobsScreen JobTable { height: 1fr; }
    """
    BINDINGS = [
        Binding("enter", "open_job", "Open", id="jobs.open"),
        Binding("n", "new_job", "New job", id="jobs.new"),
        Binding("r,f5", "refresh", "Refresh", id="jobs.refresh"),
        Binding("y", "copy_id", "Copy job id", id="jobs.copy_id"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._shutdown_dates: dict[str, str] = {}
        self._models_loaded_at = 0.0
        self._next_refresh = 0.0
        self._backoff = 0.0
        self._summary = ""
        self._cache: Cache | None = None

    def compose_body(self) -> ComposeResult:
        yield Static("Loading jobs…", id="jobs-status", markup=False)
        yield JobTable(id="job-table")

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)
        self.query_one(JobTable).focus()
        self._take_pending()

    def on_unmount(self) -> None:
        if self._cache is not None:
            self._cache.close()

    def on_screen_resume(self) -> None:
        self._next_refresh = 0.0
        self._take_pending()

    def on_profile_changed(self) -> None:
        self._models_loaded_at = 0.0
        self._shutdown_dates.clear()
        self.query_one(JobTable).set_jobs([])
        self.action_refresh()

    def _take_pending(self) -> None:
        take_new_job_handoff(self.ft)

    # -- refresh -------------------------------------------------------------------------------

    def _tick(self) -> None:
        # Only the visible screen polls; a job view pushed on top suspends this one.
        if self.app.screen is self and time.monotonic() >= self._next_refresh:
            self._next_refresh = time.monotonic() + 3600  # until the worker reschedules
            self.load_jobs()

    def action_refresh(self) -> None:
        self._next_refresh = time.monotonic() + 3600
        self.load_jobs()

    @work(exclusive=True, group="jobs-list", exit_on_error=False, description="Listing jobs")
    async def load_jobs(self) -> None:
        from tui.services.jobs import JobsService

        connection = self.ft.connection
        if self._cache is None:
            self._cache = await asyncio.to_thread(open_cache)
        service = JobsService(connection, self._cache)  # remembers listed jobs for offline use
        status = self.query_one("#jobs-status", Static)
        try:
            jobs = await _list_jobs(service)
            if time.monotonic() - self._models_loaded_at > MODELS_MAX_AGE:
                await self._load_shutdown_dates(service)
        except Exception as exc:
            self._backoff = min(MAX_BACKOFF, max(ACTIVE_INTERVAL, self._backoff * 2))
            self._next_refresh = time.monotonic() + self._backoff
            connection.report_failure(exc, self._backoff)
            offline = ""
            table = self.query_one(JobTable)
            if not table.jobs:
                cached = await asyncio.to_thread(service.cached_jobs)
                if cached:
                    table.set_jobs([JobRow.from_job(job) for job in cached])
                    offline = f" · showing {len(cached)} cached jobs"
            status.update(f"{error_text(exc)} — retrying in {self._backoff:.0f}s{offline}")
            return
        connection.report_success()
        self._backoff = 0.0
        today = today_utc()
        rows = [JobRow.from_job(job, self._days_for(job, today)) for job in jobs]
        self.query_one(JobTable).set_jobs(rows)
        moving = any(not is_terminal(row.status) for row in rows)
        interval = ACTIVE_INTERVAL if moving else IDLE_INTERVAL
        self._next_refresh = time.monotonic() + interval
        self._summary = (
            f"{plural(len(rows), 'job')}, {sum(not is_terminal(r.status) for r in rows)} active · "
            f"{connection.profile.name} · updated {time.strftime('%H:%M:%S')}"
            if rows
            else "No fine-tuning jobs yet. Press n to start one."
        )
        self._show_status()

    def _show_status(self) -> None:
        selected = self.query_one(JobTable).selected_job_id
        text = f"{self._summary} · {selected}" if selected else self._summary
        self.query_one("#jobs-status", Static).update(text)

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self, _event: DataTable.RowHighlighted) -> None:
        if self._summary:
            self._show_status()

    async def _load_shutdown_dates(self, service: JobsService) -> None:
        try:
            models = await service.models()
        except Exception as exc:  # days left is a nice-to-have; jobs still list without it
            log.warning("models not listed: %s", exc)
            return
        self._shutdown_dates = {m.id: m.shutdown_date for m in models if m.shutdown_date}
        self._models_loaded_at = time.monotonic()

    def _days_for(self, job: JobInfo, today: date) -> int | None:
        """Fine-tuned models live until their base model's shutdown date."""
        shutdown = shutdown_date_for(job.fine_tuned_model or job.model, self._shutdown_dates)
        if shutdown is None and job.fine_tuned_model:
            shutdown = shutdown_date_for(job.model, self._shutdown_dates)
        return days_left(shutdown, today)

    # -- actions -------------------------------------------------------------------------------

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_job()

    def action_open_job(self) -> None:
        job_id = self.query_one(JobTable).selected_job_id
        if job_id is None:
            self.notify("No job selected.", severity="warning")
            return
        from screens.job_detail import JobDetailScreen

        self.app.push_screen(JobDetailScreen(job_id))

    def action_new_job(self) -> None:
        self._open_form(None)

    def _open_form(self, path: str | None) -> None:
        open_new_job_form(self.app, path)

    def action_copy_id(self) -> None:
        job_id = self.query_one(JobTable).selected_job_id
        if job_id:
            copy_text(self, job_id, "job id")


def take_new_job_handoff(app: FtApp) -> None:
    """Open the new-job form for a dataset handed over by another mode (`FtApp.start_job`), on
    top of whatever the Jobs mode shows (the list or a job view), so the form is what the user
    sees."""
    path = app.handoffs.take_new_job_file()
    if path is not None:
        open_new_job_form(app, str(path))


def open_new_job_form(app: App[Any], path: str | None) -> None:
    """Push the new-job form; a launched job opens in its job view."""
    from screens.new_job import NewJobScreen

    def launched(job_id: str | None) -> None:
        if job_id:
            for screen in app.screen_stack:
                if isinstance(screen, JobsScreen):
                    screen.action_refresh()
            from screens.job_detail import JobDetailScreen

            app.push_screen(JobDetailScreen(job_id))

    app.push_screen(NewJobScreen(training_path=path), launched)


async def _list_jobs(service: JobsService, limit: int = 100) -> list[JobInfo]:
    """The newest `limit` jobs (the API pages newest first)."""
    jobs: list[JobInfo] = []
    after: str | None = None
    while len(jobs) < limit:
        page = await service.list_jobs(limit=min(100, limit - len(jobs)), after=after)
        jobs.extend(page.jobs)
        if not page.jobs or not page.has_more:
            break
        after = page.last_id
    return jobs
