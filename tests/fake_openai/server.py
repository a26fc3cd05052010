"""A real HTTP server on loopback that plays OpenAI's protocol, for tests that drive the real SDK.

Files (multipart upload, list, retrieve, delete, content), uploads in parts, fine-tuning jobs
(create, list, retrieve, cancel, pause, resume, events, checkpoints), models (list, retrieve,
delete) and chat completions (streaming and not). Jobs follow a script that the test moves on::

    from tests.fake_openai.server import FakeOpenAI

    with FakeOpenAI() as fake:                      # or the `fake_openai` pytest fixture
        job_id = fake.add_job()                     # success script: validating_files first
        fake.advance(job_id)                        # → queued
        fake.advance(job_id, 3)                     # → running, then metrics events
        fake.run_to_end(job_id)                     # → … paused → running → succeeded
        failing = fake.add_job(script="failure")    # → failed (invalid_n_examples) on advance
        fake.fail_next(429, count=2, path_contains="/events")   # injected errors, Retry-After: 0
        fake.drop_next(path_contains="/jobs/")      # close the connection without an answer
        fake.delay_next(2.0, path_contains="/models")   # answer, but 2 s late
        fake.start_auto_advance(0.5)                # or let time move every job along
        fake.chat.reply = "Hello there"             # scripted chat answer, streamed word by word
        fake.chat.chunk_delay = 0.05                # seconds between stream chunks
        fake.chat.drop_after = 2                    # cut the stream after 2 chunks
        fake.chat.responder = lambda model, messages: model   # answers that differ per model
        client = openai.AsyncOpenAI(base_url=fake.base_url, api_key=fake.api_key)

Unknown models give OpenAI's 404 `model_not_found`; a bad key gives 401. Every request is
recorded in `fake.requests` as (method, path, query dict) for assertions.
"""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any

from tests.fake_openai.handler import _Handler
from tests.fake_openai.jobs import (
    TERMINAL,
    FakeJob,
    JobPlan,
    Json,
    failure_stages,
    new_job_data,
    success_stages,
)
from tests.fake_openai.state import ChatScript, FakeState, RecordedRequest, _Fault

__all__ = ["FakeOpenAI"]


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that time out or hang up mid-answer are part of the tests, not errors."""
        return


class FakeOpenAI:
    """Start with `start()` or `with FakeOpenAI() as fake:`; see the module docstring."""

    def __init__(self, api_key: str = "sk-fake-0000000000000000test") -> None:
        self.state = FakeState(api_key=api_key)
        self.lock = threading.RLock()
        self._server: _QuietServer | None = None
        self._thread: threading.Thread | None = None
        self._auto_stop = threading.Event()

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> FakeOpenAI:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = _QuietServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._auto_stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "call start() first"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def api_key(self) -> str:
        return self.state.api_key

    @property
    def chat(self) -> ChatScript:
        return self.state.chat

    @property
    def requests(self) -> list[RecordedRequest]:
        return self.state.requests

    # -- scenario control ----------------------------------------------------------------------
    def add_file(self, filename: str, content: bytes, purpose: str = "fine-tune") -> str:
        with self.lock:
            return str(self.state.add_file(filename, content, purpose)["id"])

    def add_job(
        self,
        *,
        script: str = "success",
        model: str = "gpt-4o-mini-2024-07-18",
        plan: JobPlan | None = None,
        training_file: str | None = None,
        validation_file: str | None = None,
        suffix: str | None = "demo",
        method: Json | None = None,
    ) -> str:
        """Add a job in `validating_files`; `script` is "success", "failure" or "idle"."""
        plan = plan or JobPlan(suffix=suffix)
        with self.lock:
            training_file = training_file or self.add_file("train.jsonl", b"{}\n")
            job_id = self.state.next_id("ftjob-")
            data = new_job_data(
                job_id,
                model=model,
                training_file=training_file,
                validation_file=validation_file,
                suffix=suffix,
                seed=None,
                method=method,
                metadata=None,
                plan=plan,
            )
            job = FakeJob(data)
            job.add_event(f"Created fine-tuning job: {job_id}")
            job.add_event(f"Validating training file: {training_file}")
            if script == "success":
                job.stages = success_stages(plan, self._result_file)
            elif script == "failure":
                job.stages = failure_stages()
            self.state.jobs[job_id] = job
            return job_id

    def _result_file(self, name: str, content: bytes) -> str:
        return str(self.state.add_file(name, content, "fine-tune-results")["id"])

    def job(self, job_id: str) -> FakeJob:
        return self.state.jobs[job_id]

    def advance(self, job_id: str | None = None, n: int = 1) -> None:
        """Move one job (or every job) `n` stages along its script."""
        with self.lock:
            targets = [self.state.jobs[job_id]] if job_id else list(self.state.jobs.values())
            for job in targets:
                for _ in range(n):
                    if job.held or not job.stages or job.status in TERMINAL:
                        break
                    job.stages.pop(0)(job)

    def run_to_end(self, job_id: str) -> None:
        with self.lock:
            job = self.state.jobs[job_id]
            self.advance(job_id, len(job.stages))

    def add_history(self, job_id: str, n_events: int, n_metrics: int) -> None:
        """Bulk history for benchmarks: `n_metrics` metrics events among `n_events` events."""
        with self.lock:
            job = self.state.jobs[job_id]
            job.data["status"] = "running"
            job.stages = []
            plan = JobPlan(total_steps=max(1, n_metrics), n_epochs=3)
            from tests.fake_openai.jobs import metrics_message, step_metrics

            every = max(1, n_events // max(1, n_metrics))
            step = 0
            for i in range(n_events):
                if step < n_metrics and i % every == 0:
                    step += 1
                    data = step_metrics(step, plan.total_steps, plan.steps_per_epoch)
                    job.add_event(metrics_message(data), type_="metrics", data=data)
                else:
                    job.add_event(f"Progress note {i}")

    def add_metrics_steps(self, job_id: str, steps: int, total_steps: int) -> None:
        """Append `steps` more metrics events to a running job (following it live)."""
        from tests.fake_openai.jobs import metrics_message, step_metrics

        with self.lock:
            job = self.state.jobs[job_id]
            done = sum(1 for e in job.events if e["type"] == "metrics")
            for step in range(done + 1, done + steps + 1):
                data = step_metrics(step, total_steps, max(1, total_steps // 3))
                job.add_event(metrics_message(data), type_="metrics", data=data)

    def fail_next(
        self, status: int, count: int = 1, path_contains: str = "", retry_after: float | None = 0
    ) -> None:
        """The next `count` requests whose path contains `path_contains` get `status`."""
        with self.lock:
            self.state.faults.append(_Fault(status, count, path_contains, retry_after))

    def drop_next(self, count: int = 1, path_contains: str = "") -> None:
        """The next `count` matching requests get their connection closed without an answer."""
        with self.lock:
            self.state.faults.append(_Fault(0, count, path_contains, None))

    def delay_next(self, seconds: float, count: int = 1, path_contains: str = "") -> None:
        """The next `count` matching requests are answered normally, `seconds` late."""
        with self.lock:
            self.state.faults.append(_Fault(-1, count, path_contains, None, seconds))

    def start_auto_advance(self, interval: float = 1.0) -> None:
        """Advance every job one stage each `interval` seconds (demos, time-based tests)."""
        self._auto_stop.clear()

        def loop() -> None:
            while not self._auto_stop.wait(interval):
                self.advance()

        threading.Thread(target=loop, daemon=True, name="fake-openai-advance").start()

    def stop_auto_advance(self) -> None:
        self._auto_stop.set()

    def take_fault(self, path: str) -> _Fault | None:
        with self.lock:
            for fault in self.state.faults:
                if fault.count > 0 and fault.path_contains in path:
                    fault.count -= 1
                    return fault
            return None
