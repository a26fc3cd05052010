"""The job view, pushed from the Jobs list: header, live loss chart, event log, checkpoints and the
actions on one job (cancel / pause / resume with confirmation, download the result CSV, copy ids,
chat with the model or a checkpoint).

One `tui.services.poller.JobPoller` (with the SQLite cache: a finished job opens from it at
once) follows the job while this screen is visible; it stops when the screen is hidden or popped.
Hand-off produced: `FtApp.open_chat(model)`.
"""

from __future__ import annotations

import logging
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static
from textual.worker import Worker

from screens.base import ModeScreen, copy_text
from screens.confirm import ConfirmScreen
from screens.save_path import SavePathScreen, SaveTarget
from tui.core.save_paths import root_folder
from tui.core.step_timing import step_timing
from tui.services.cache import Cache, open_cache
from tui.services.job_types import JobInfo
from tui.services.poller import JobPoller, JobUpdate, PollerMessage, PollProblem
from tui.widgets.checkpoints_table import CheckpointRow, CheckpointsTable
from tui.widgets.event_log import EventLog, LogEntry
from tui.widgets.job_header import JobHeader, JobSummary
from tui.widgets.loss_chart import ChartFrame, FrameCache, LossChart

log = logging.getLogger("ft-tui.jobs")

FAST_INTERVAL = 2.0  # seconds between polls while the job runs
SLOW_INTERVAL = 10.0  # validating, queued, paused
MAX_BACKOFF = 60.0
ACTIONS = {
    # action: (verb shown, statuses it applies to, danger)
    "cancel": ("Cancel", frozenset({"validating_files", "queued", "running", "paused"}), True),
    "pause": ("Pause", frozenset({"running"}), False),
    "resume": ("Resume", frozenset({"paused"}), False),
}


def job_cost(job: JobInfo, local: bool) -> str:
    """Cost of the trained tokens at the model's training price, when both are known."""
    if local:
        return "local (no charge)"
    if job.trained_tokens is None:
        return ""
    from tui.core.models_catalog import resolve_model
    from tui.core.pricing import training_cost_usd

    cost = training_cost_usd(resolve_model(job.model).prices, job.trained_tokens)
    return f"${cost:,.2f}" if cost is not None else "no price for this model"


class JobDetailScreen(ModeScreen):
    MODE = "jobs"
    DEFAULT_CSS = """
    JobDetailScreen #job-body { height: 1fr; }
    JobDetailScreen LossChart { height: 2fr; min-height: 6; }
    JobDetailScreen EventLog { height: 1fr; min-height: 3; border-top: solid $panel; }
    JobDetailScreen CheckpointsTable { border-top: solid $panel; }
    JobDetailScreen #checkpoints-empty { height: 1; padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape,backspace", "back", "Back", id="job.back"),
        Binding("c", "job_action('cancel')", "Cancel job", id="job.cancel"),
        Binding("p", "job_action('pause')", "Pause", id="job.pause"),
        Binding("u", "job_action('resume')", "Resume", id="job.resume"),
        Binding("d", "download", "Download", tooltip="the result file", id="job.download"),
        Binding("y", "copy_job_id", "Copy job id", show=False, id="job.copy_id"),
        Binding("m", "copy_model", "Copy model id", show=False, id="job.copy_model"),
        Binding("t", "chat", "Chat", tooltip="with the fine-tuned model", id="job.chat"),
        Binding("e", "evaluate", "Eval vs base", id="job.evaluate"),
        Binding("a", "toggle_accuracy", "Loss/accuracy", show=False, id="job.toggle_accuracy"),
        Binding("f5", "refresh", "Refresh", show=False, id="job.refresh"),
    ]

    def __init__(self, job_id: str) -> None:
        super().__init__()
        self.job_id = job_id
        self.job: JobInfo | None = None
        self.poller: JobPoller | None = None
        self.started_at: float | None = None
        self._cache: Cache | None = None
        self._frames = FrameCache()
        self._poll_worker: Worker[None] | None = None
        self._step_times: list[tuple[int, float]] = []  # (step, time) of metrics events
        self._shown_status: str | None = None
        self._other_profile = False  # the profile changed: this job is another backend's

    def compose_body(self) -> ComposeResult:
        yield JobHeader(id="job-header")
        with Vertical(id="job-body"):
            yield LossChart(self._frame, id="loss-chart")
            yield EventLog(id="event-log")
            yield Static("No checkpoints yet.", id="checkpoints-empty")
            yield CheckpointsTable(id="checkpoints")

    def _frame(self, width: int, accuracy: bool) -> ChartFrame:
        from tui.core.metrics import MetricsSeries

        series = self.poller.metrics if self.poller is not None else MetricsSeries()
        return self._frames.frame(series, width, accuracy)

    def on_mount(self) -> None:
        self.query_one(CheckpointsTable).display = False
        self.query_one(EventLog).focus()
        self._cache = open_cache()
        self.poller = JobPoller(
            self.ft.connection,
            self.job_id,
            cache=self._cache,
            on_update=self._apply,
            fast_interval=FAST_INTERVAL,
            slow_interval=SLOW_INTERVAL,
            max_backoff=MAX_BACKOFF,
        )
        self.load_summary()

    @work(exclusive=True, group="job-summary", exit_on_error=False, description="Loading the job")
    async def load_summary(self) -> None:
        """The job alone, at once: a long history can take the poller a while to page in."""
        from tui.services.jobs import JobsService

        try:
            job = await JobsService(self.ft.connection).retrieve(self.job_id)
        except Exception as exc:  # the poller reports problems (and retries) itself
            log.info("quick job summary failed: %s", exc)
            return
        if self.job is None:
            self.job = job
            self._refresh_header("loading the event history…")

    def on_screen_resume(self) -> None:
        if self._other_profile:  # switched away while this view was in another mode
            self.set_timer(0.01, self._leave)  # once the mode switch that shows it is done
            return
        self._start_polling()

    def _leave(self) -> None:
        if self.app.screen is self:
            self.app.pop_screen()

    def on_profile_changed(self) -> None:
        # The job belongs to the previous profile's backend: back to the (refreshed) list, now
        # or as soon as this view would show again.
        self._stop_polling()
        self._other_profile = True
        if self.app.screen is self:
            self.app.pop_screen()

    def on_screen_suspend(self) -> None:
        self._stop_polling()

    def on_unmount(self) -> None:
        self._stop_polling()
        if self.poller is not None:
            self.poller.stop()
        if self._cache is not None:
            self._cache.close()

    # -- polling -------------------------------------------------------------------------------

    def _start_polling(self) -> None:
        if self._poll_worker is None or self._poll_worker.is_finished:
            self._poll_worker = self.poll()

    def _stop_polling(self) -> None:
        if self._poll_worker is not None:
            self._poll_worker.cancel()
            self._poll_worker = None

    @property
    def polling(self) -> bool:
        return self._poll_worker is not None and not self._poll_worker.is_finished

    @work(exclusive=True, group="job-poll", exit_on_error=False, description="Following the job")
    async def poll(self) -> None:
        if self.poller is not None:
            await self.poller.run()

    def _apply(self, message: PollerMessage) -> None:
        if isinstance(message, PollProblem):
            if message.retry_in is not None:
                text = f"{message.message.title}: retrying in {message.retry_in:.0f}s"
                text += f" (attempt {message.attempt})"
            else:
                text = f"stopped following the job: {message.message}"
            self._refresh_header(text)
            return
        self._apply_update(message)

    def _apply_update(self, update: JobUpdate) -> None:
        self.job = update.job
        if update.new_events:
            if self.started_at is None:
                first = next((e for e in update.new_events if e.is_metrics), None)
                self.started_at = float(first.created_at) if first else None
            for event in update.new_events:
                step = event.data.get("step") if event.is_metrics and event.data else None
                if isinstance(step, int):
                    self._step_times.append((step, float(event.created_at)))
            self.query_one(EventLog).add_entries(
                LogEntry(e.id, e.created_at, e.level, e.message, e.type) for e in update.new_events
            )
        if update.new_points:
            self.query_one(LossChart).mark_dirty()
        if update.checkpoints is not None:
            self._show_checkpoints([CheckpointRow.from_checkpoint(c) for c in update.checkpoints])
        self._refresh_header()

    def _refresh_header(self, backoff: str = "") -> None:
        job = self.job
        status = job.status if job is not None else None
        if status != self._shown_status:  # what can be done changed: Cancel, Pause, Resume
            self._shown_status = status
            self.refresh_bindings()
        header = self.query_one(JobHeader)
        if job is None:
            header.summary = JobSummary(job_id=self.job_id, status="?", model="", backoff=backoff)
            return
        series = self.poller.metrics if self.poller is not None else None
        local = bool(getattr(self.ft.connection.profile, "is_local", False))
        error = job.error
        timing = step_timing(self._step_times)
        header.summary = JobSummary(
            job_id=self.job_id,
            status=job.status,
            model=job.model,
            fine_tuned_model=job.fine_tuned_model,
            step=series.last_step if series is not None else None,
            total_steps=series.total_steps if series is not None else None,
            created_at=job.created_at,
            started_at=self.started_at,
            finished_at=job.finished_at,
            estimated_finish=job.estimated_finish,
            seconds_per_step=timing.seconds_per_step,
            training_seconds=timing.training_seconds or None,
            trained_tokens=job.trained_tokens,
            cost=job_cost(job, local),
            error_code=error.code if error else None,
            error_message=error.message if error else None,
            error_param=error.param if error else None,
            backoff=backoff,
        )

    def _show_checkpoints(self, rows: list[CheckpointRow]) -> None:
        table = self.query_one(CheckpointsTable)
        table.display = bool(rows)
        self.query_one("#checkpoints-empty").display = not rows
        table.set_checkpoints(rows)

    def action_refresh(self) -> None:
        if self.poller is not None:
            self.poller.wake()
        self._start_polling()

    # -- actions -------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Cancel/Pause/Resume only where the job's status allows them; the footer and `?`
        list what can be done now."""
        if action == "job_action" and parameters:
            _, allowed, _ = ACTIONS[str(parameters[0])]
            return self.job is not None and self.job.status in allowed
        if action == "download":
            return self.job is not None and bool(self.job.result_files)
        return True

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_toggle_accuracy(self) -> None:
        self.query_one(LossChart).action_toggle_accuracy()

    def _status(self) -> str:
        return self.job.status if self.job is not None else ""

    def action_job_action(self, action: str) -> None:
        verb, allowed, danger = ACTIONS[action]
        status = self._status()
        if status not in allowed:
            self.notify(
                f"{verb} is not possible while the job is {status or 'loading'}.",
                severity="warning",
            )
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_job_action(action)

        self.app.push_screen(
            ConfirmScreen(
                f"{verb} job?",
                f"{verb} {self.job_id} (now {status})?"
                + ("\nA cancelled job cannot be restarted." if action == "cancel" else ""),
                confirm_label=verb,
                cancel_label="Keep",
                danger=danger,
            ),
            answered,
        )

    @work(exclusive=True, group="job-action", exit_on_error=False, description="Job action")
    async def run_job_action(self, action: str) -> None:
        from tui.services.jobs import JobsService

        service = JobsService(self.ft.connection)
        job: JobInfo = await getattr(service, action)(self.job_id)
        self.job = job
        self._refresh_header()
        self.notify(f"Job {self.job_id}: {job.status}", timeout=4)
        self.action_refresh()

    def action_copy_job_id(self) -> None:
        copy_text(self, self.job_id, "job id")

    def _chosen_model(self) -> str | None:
        checkpoints = self.query_one(CheckpointsTable)
        if checkpoints.has_focus and checkpoints.selected is not None:
            return checkpoints.selected.model
        return self.job.fine_tuned_model if self.job is not None else None

    def action_copy_model(self) -> None:
        model = self._chosen_model()
        if model is None:
            self.notify("The job has no fine-tuned model yet.", severity="warning")
            return
        copy_text(self, model, "model id")

    def action_chat(self) -> None:
        self._open_chat(self._chosen_model())

    @on(DataTable.RowSelected, "#checkpoints")
    def _checkpoint_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        selected = self.query_one(CheckpointsTable).selected
        self._open_chat(selected.model if selected else None)

    def _open_chat(self, model: str | None) -> None:
        if not model:
            self.notify("The job has no fine-tuned model yet.", severity="warning")
            return
        self.ft.open_chat(model)

    @work(exclusive=True, group="job-eval", exit_on_error=False, description="Eval vs base")
    async def action_evaluate(self) -> None:
        """Mode 5's form: the fine-tune against its base model on the validation file (or a
        held-out split of the training file when the job had none)."""
        from tui.services.eval_sources import job_eval_source
        from tui.services.jobs import JobsService

        if self.job is None:
            return
        service = JobsService(self.ft.connection)
        source = await job_eval_source(service, self.job)
        self.notify(f"Rows: {source.note}.", title="Eval vs base", timeout=8)
        await self.ft.open_eval_form(source.dataset, source.models)

    # -- result download -----------------------------------------------------------------------

    def action_download(self) -> None:
        files = list(self.job.result_files) if self.job is not None else []
        if not files:
            self.notify("This job has no result file (yet).", severity="warning")
            return
        root = root_folder(Path(getattr(self.app, "start_path", Path.cwd())))
        default = root / f"{self.job_id}_results.csv"

        def chosen(target: SaveTarget | None) -> None:
            if target is not None:
                self.download(str(files[0]), target)

        self.app.push_screen(SavePathScreen(default, base=root), chosen)

    @work(exclusive=True, group="job-download", exit_on_error=False, description="Download")
    async def download(self, file_id: str, target: SaveTarget) -> None:
        from tui.services.jobs import JobsService

        service = JobsService(self.ft.connection)
        content = await service.download_file(file_id)  # base64-decoded when it is base64
        path = target.path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb" if target.overwrite else "xb") as handle:
                handle.write(content)
        except FileExistsError:
            self.notify(f"{path} appeared meanwhile; not overwritten.", severity="warning")
            return
        except OSError as exc:
            self.notify(f"Could not save {path}: {exc.strerror or exc}", severity="error")
            return
        self.notify(f"Saved {len(content):,} bytes to {path}", timeout=6)
