"""The job runner: validates new jobs, trains one job at a time, finishes what ends.

A background thread walks the job lifecycle stored in SQLite
(`validating_files → queued → running → succeeded | failed | cancelled`, plus `paused`), so the
queue survives restarts. Training runs behind a `TrainingDriver` (a spawned child by default).
Cancel asks the trainer to stop and kills it after a grace period; pause asks it to save its state.
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tui.core.model_names import fine_tune_base
from tui.local import ids
from tui.local.drivers import RunResult, TrainingDriver, TrainingRun
from tui.local.errors import ApiError, conflict
from tui.local.file_validation import JobFailure, validate_job_files
from tui.local.result_file import write_result_csv
from tui.local.settings import ServerSettings
from tui.local.store import Store, now
from tui.local.training import hyperparameters
from tui.local.training.engine import configured_token_budget
from tui.local.training.interface import (
    TrainingError,
    TrainingOutcome,
    TrainingRequest,
)
from tui.local.training.state import drop_pause_state

log = logging.getLogger("ft_tui.server")

RESTARTED_MESSAGE = (
    "Server restarted while the job was running; resume is not possible for an interrupted run. "
    "Create a new job to train again."
)
PAUSE_WAIT_S = 120.0
SHUTDOWN_PAUSE_S = 20.0

ModelResolver = Callable[[str], Any]  # base model name -> model directory (raises if unknown)
# (job id, base model) -> True when its files are there; False while they download (see
# tui/local/model_gate.py); raises JobFailure when they cannot be had.
ModelGate = Callable[[str, str], bool]


def planned_model_name(job: dict[str, Any]) -> str:
    """`ft:<base>:local:<suffix>:<id>`, fixed for the life of the job (also across pauses)."""
    suffix = job.get("user_provided_suffix") or ""
    base = fine_tune_base(str(job["model"])) or job["model"]  # continued training: its base
    return f"ft:{base}:local:{suffix}:{str(job['id'])[-8:]}"


def method_of(job: dict[str, Any]) -> str:
    return "dpo" if (job.get("method") or {}).get("type") == "dpo" else "supervised"


def hyperparameters_of(job: dict[str, Any]) -> dict[str, Any]:
    method = job.get("method") or {}
    nested = method.get(method_of(job)) or {}
    found = nested.get("hyperparameters") or job.get("hyperparameters") or {}
    return dict(found)


class JobRunner:
    def __init__(
        self,
        settings: ServerSettings,
        store: Store,
        resolve_model: ModelResolver,
        driver: TrainingDriver,
        model_gate: ModelGate | None = None,
    ) -> None:
        self._settings = settings
        self._model_gate = model_gate
        self._store = store
        self._resolve_model = resolve_model
        self._driver = driver
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._run: TrainingRun | None = None
        self._run_job: str | None = None
        self._cancel_requested = False
        self._pause_requested = False

    # ---- lifecycle of the runner itself ------------------------------------------------------

    def start(self) -> None:
        self._recover()
        self._thread = threading.Thread(target=self._loop, name="ft-tui-runner", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the loop; a running job is paused and queued to continue at the next start.

        If the trainer cannot save in time it is killed, and the next start fails the job."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10.0)
        with self._lock:
            run, job_id = self._run, self._run_job
            self._run, self._run_job = None, None
            cancelled, paused_by_user = self._cancel_requested, self._pause_requested
        if run is None or job_id is None:
            return
        run.request_stop("cancel" if cancelled else "pause")
        result = run.result() if run.wait(SHUTDOWN_PAUSE_S) else None
        if result is None:
            run.kill()
            return
        outcome = result.outcome
        saved = outcome is not None and outcome.status == "paused"
        if saved and not paused_by_user and not cancelled:
            self._store.update_job(
                job_id,
                status="queued",
                estimated_finish=None,
                resume_dir=str(self._settings.job_dir(job_id)),
            )
            self._store.add_event(
                job_id, "The server stopped; the job was saved and continues when it starts again"
            )
            return
        self._finish(job_id, result, cancelled)

    def wake(self) -> None:
        self._wake.set()

    def _recover(self) -> None:
        for job_id in self._store.jobs_with_status("running"):
            self._fail(job_id, "server_restarted", RESTARTED_MESSAGE, None)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(0.5)
            self._wake.clear()
            try:
                self._validate_pending()
                self._reap()
                self._launch_next()
            except Exception:  # the loop must survive anything; the job gets the message
                log.exception("job runner step failed")

    # ---- API actions -------------------------------------------------------------------------

    def cancel(self, job_id: str) -> None:
        with self._lock:
            run = self._run if self._run_job == job_id else None
            if run is None:
                if self._store.transition(
                    job_id,
                    ("validating_files", "queued", "paused"),
                    status="cancelled",
                    finished_at=now(),
                    estimated_finish=None,
                    resume_dir=None,
                ):
                    self._store.add_event(job_id, "Fine-tuning job cancelled")
                    drop_pause_state(self._settings.job_dir(job_id))
                    return
                raise self._not_in_state(job_id, "cancelled")
            self._cancel_requested = True
            run.request_stop("cancel")
        if not run.wait(self._settings.stop_grace_s):
            run.kill()
        self._reap()

    def pause(self, job_id: str) -> None:
        with self._lock:
            run = self._run if self._run_job == job_id else None
            if run is None:
                if self._store.transition(job_id, ("queued",), status="paused"):
                    self._store.add_event(job_id, "Fine-tuning job paused")
                    return
                raise self._not_in_state(job_id, "paused")
            self._pause_requested = True
            run.request_stop("pause")
        run.wait(PAUSE_WAIT_S)
        self._reap()

    def resume(self, job_id: str) -> dict[str, Any] | None:
        """Queue a paused job again; returns the job as queued (before the runner takes it)."""
        with self._lock:
            if not self._store.transition(job_id, ("paused",), status="queued"):
                raise self._not_in_state(job_id, "resumed")
            self._store.add_event(job_id, "Fine-tuning job resumed, moving job to queued state")
            job = self._store.get_job(job_id)
        self.wake()
        return job

    def _not_in_state(self, job_id: str, action: str) -> ApiError:
        job = self._store.get_job(job_id)
        status = job["status"] if job else "unknown"
        return conflict(
            f"Job {job_id} is {status} and cannot be {action}.", param="fine_tuning_job_id"
        )

    # ---- the loop's steps --------------------------------------------------------------------

    def _validate_pending(self) -> None:
        for job_id in self._store.jobs_with_status("validating_files"):
            job = self._store.get_job(job_id)
            if job is None:
                continue
            try:
                n_examples = validate_job_files(self._settings.files_dir, job)
                resolved = self._resolve_hyperparameters(job, n_examples)
            except JobFailure as failure:
                self._fail(job_id, failure.code, failure.message, failure.param)
                continue
            method = dict(job["method"] or {"type": "supervised"})
            method[method_of(job)] = {"hyperparameters": resolved}
            if self._store.transition(
                job_id,
                ("validating_files",),
                status="queued",
                hyperparameters=resolved,
                method=method,
            ):
                self._store.add_event(job_id, "Files validated, moving job to queued state")

    def _resolve_hyperparameters(self, job: dict[str, Any], n_examples: int) -> dict[str, Any]:
        given = hyperparameters_of(job)
        try:
            resolved = hyperparameters.resolve(
                method_of(job), n_examples, given, self._driver.world_size()
            )
        except TrainingError as exc:
            raise JobFailure(exc.code, exc.message, "hyperparameters") from None
        return hyperparameters.echo(method_of(job), resolved)

    def _launch_next(self) -> None:
        with self._lock:
            if self._stopping.is_set():
                return
            busy = self._run is not None
            queued = self._store.jobs_with_status("queued")
        job = self._next_ready(queued)  # also starts the downloads that queued jobs wait for
        if job is None or busy:
            return
        job_id = str(job["id"])
        try:  # outside the lock: the first use of the bundled model converts it (~30 s)
            request = self._request_for(job)
        except JobFailure as failure:
            self._fail(job_id, failure.code, failure.message, failure.param)
            return
        with self._lock:
            if self._run is not None or self._stopping.is_set():
                return
            if not self._store.transition(job_id, ("queued",), status="running"):
                return  # cancelled or paused meanwhile
            self._store.add_event(job_id, "Fine-tuning job started")
            try:
                self._run = self._driver.start(request, self._settings.db_path)
            except Exception as exc:
                log.exception("could not start the trainer")
                self._fail(job_id, "server_error", f"Could not start the trainer: {exc}", None)
                return
            self._run_job = job_id
            self._cancel_requested = False
            self._pause_requested = False

    def _next_ready(self, queued: list[str]) -> dict[str, Any] | None:
        """The first queued job whose base model is ready; asks about every queued job so that
        the downloads they wait for run while another job trains."""
        first: dict[str, Any] | None = None
        for job_id in queued:
            job = self._store.get_job(job_id)
            if job is None:
                continue
            try:
                ready = self._model_gate is None or self._model_gate(job_id, str(job["model"]))
            except JobFailure as failure:
                self._fail(job_id, failure.code, failure.message, failure.param)
                continue
            if ready and first is None:
                first = job
        return first

    def _request_for(self, job: dict[str, Any]) -> TrainingRequest:
        base, init_adapter = str(job["model"]), None
        if base.startswith("ft:"):  # continued training: the fine-tune's base and adapter
            source = self._store.get_model(base)
            if source is None:
                raise JobFailure(
                    "model_not_available",
                    f"The fine-tuned model {base!r} no longer exists.",
                    "model",
                )
            base, init_adapter = str(source["base"]), Path(str(source["adapter_dir"]))
        try:
            model_dir = self._resolve_model(base)
        except Exception as exc:
            raise JobFailure("invalid_model", f"Base model {base!r}: {exc}", "model") from exc
        hp = hyperparameters_of(job)
        validation = job.get("validation_file")
        return TrainingRequest(
            job_id=str(job["id"]),
            model_dir=model_dir,
            training_file=self._settings.files_dir / str(job["training_file"]),
            validation_file=self._settings.files_dir / str(validation) if validation else None,
            hyperparameters=hyperparameters.from_echo(hp),
            seed=int(job["seed"]),
            work_dir=self._settings.job_dir(str(job["id"])),
            fine_tuned_model=planned_model_name(job),
            resume=self._store.job_resume_dir(str(job["id"])) is not None,
            method="dpo" if method_of(job) == "dpo" else "supervised",
            init_adapter=init_adapter,
            token_budget=configured_token_budget(),
        )

    def _reap(self) -> None:
        with self._lock:
            run, job_id = self._run, self._run_job
            if run is None or job_id is None:
                return
            result = run.result()
            if result is None:
                return
            self._run, self._run_job = None, None
            cancelled = self._cancel_requested
            self._cancel_requested = self._pause_requested = False
            try:
                self._finish(job_id, result, cancelled)
            except Exception as exc:
                log.exception("could not finish job %s", job_id)
                self._fail(job_id, "server_error", f"Could not finish the job: {exc}", None)
        self.wake()

    def _finish(self, job_id: str, result: RunResult, cancelled: bool) -> None:
        outcome = result.outcome
        if cancelled or (outcome is not None and outcome.status == "cancelled"):
            if self._store.transition(
                job_id, ("running",), status="cancelled", finished_at=now(), estimated_finish=None
            ):
                self._store.add_event(job_id, "Fine-tuning job cancelled")
            return
        if outcome is None:
            self._fail(
                job_id, result.error_code or "server_error", result.error_message or "", None
            )
            return
        if outcome.status == "paused":
            self._store.update_job(
                job_id,
                status="paused",
                estimated_finish=None,
                resume_dir=str(self._settings.job_dir(job_id)),
            )
            self._store.add_event(job_id, "Fine-tuning job paused")
            return
        self._succeed(job_id, outcome)

    def _succeed(self, job_id: str, outcome: TrainingOutcome) -> None:
        job = self._store.get_job(job_id)
        if job is None:
            return
        model_name = planned_model_name(job)
        if outcome.adapter_dir is None:
            raise RuntimeError("the trainer reported success without an adapter")
        self._store.add_model(
            model_name,
            base=str(job["model"]),
            job_id=job_id,
            adapter_dir=str(outcome.adapter_dir),
            step=None,
        )
        result_id = self._store_result_file(job_id, outcome)
        self._store.add_event(job_id, f"New fine-tuned model created: {model_name}")
        self._store.add_event(job_id, "The job has successfully completed")
        self._store.update_job(
            job_id,
            status="succeeded",
            fine_tuned_model=model_name,
            finished_at=now(),
            estimated_finish=None,
            trained_tokens=outcome.trained_tokens,
            result_files=[result_id],
        )

    def _store_result_file(self, job_id: str, outcome: TrainingOutcome) -> str:
        file_id = ids.file_id()
        target = self._settings.files_dir / file_id
        if outcome.result_csv is not None and outcome.result_csv.is_file():
            shutil.copyfile(outcome.result_csv, target)
        else:
            write_result_csv(target, self._store.metrics_data(job_id))
        self._store.add_file(
            file_id,
            size=target.stat().st_size,
            filename="step_metrics.csv",
            purpose="fine-tune-results",
        )
        return file_id

    def _fail(self, job_id: str, code: str, message: str, param: str | None) -> None:
        error = {"code": code, "message": message, "param": param}
        if self._store.transition(
            job_id,
            ("validating_files", "queued", "running", "paused"),
            status="failed",
            error=error,
            finished_at=now(),
            estimated_finish=None,
            resume_dir=None,
        ):
            self._store.add_event(job_id, message, level="error")
            # A failed job never resumes: its pause state (optimizer, weights) goes.
            drop_pause_state(self._settings.job_dir(job_id))
