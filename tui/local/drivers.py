"""The two seams where the server hands work to an engine.

* `TrainingDriver` starts one training run and lets the runner ask it to stop. The default,
  `SpawnTrainingDriver`, runs `run_training` in a `multiprocessing` spawn child; the child writes
  its events and checkpoints to SQLite through its own connection, so progress survives any client
  disconnecting. An `accelerate launch` driver would start that same child under FSDP/DeepSpeed.
* `InferenceDriver` answers a chat completion. The default is the in-process transformers
  engine (`tui.local.inference.engine`); `tui.local.inference.vllm.VllmDriver` loads each adapter
  into an external vLLM server at run time and relays its stream.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tui.local.child_process import prepare_trainer_child
from tui.local.inference.types import ChatJob, Item
from tui.local.progress import JobProgress, ProgressSink
from tui.local.store import Store
from tui.local.training.failures import ended_silently
from tui.local.training.interface import StopKind, TrainingOutcome, TrainingRequest


@dataclass(frozen=True)
class RunResult:
    """How a training run ended: an outcome, or a failure with an OpenAI error code."""

    outcome: TrainingOutcome | None = None
    error_code: str | None = None
    error_message: str | None = None


class TrainingRun(Protocol):
    def request_stop(self, kind: StopKind) -> None: ...

    def result(self) -> RunResult | None:
        """The result once the run has ended, else None (never blocks)."""
        ...

    def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the run to end; True when it has."""
        ...

    def kill(self) -> None: ...


class TrainingDriver(Protocol):
    def start(self, request: TrainingRequest, db_path: Path) -> TrainingRun: ...

    def world_size(self) -> int:
        """How many processes (on all machines) train each job: batch sizes must divide."""
        ...


class InferenceDriver(Protocol):
    """Answers chat completions. `InferenceEngine` (transformers, in-process) and `VllmDriver`
    (proxy to an external vLLM server) satisfy this."""

    def chat(self, job: ChatJob, cancel: threading.Event | None = None) -> Iterator[Item]:
        """`Piece`s and one `Finish` per choice, then one `Usage`; errors as `InferenceError`
        (before any text where it can be told then)."""
        ...

    def unload_adapter(self, adapter_dir: Path) -> None: ...


# ---- default training driver: a spawned child process ----------------------------------------


class _ChildSink(ProgressSink):
    """The `TrainingSink` inside the child: writes straight to the server's SQLite file."""

    def __init__(self, db_path: Path, request: TrainingRequest, cancel: Any, pause: Any) -> None:
        self._store = Store(db_path)
        super().__init__(JobProgress(self._store, request.job_id))
        self._cancel = cancel
        self._pause = pause
        self._parent = os.getppid()

    def stop_requested(self) -> StopKind | None:
        # An orphan (the server was killed) stops: the restarted server has failed its job.
        if self._cancel.is_set() or os.getppid() != self._parent:
            return "cancel"
        if self._pause.is_set():
            return "pause"
        return None


def _child_main(
    request: TrainingRequest,
    db_path: Path,
    cancel: Any,
    pause: Any,
    reply: multiprocessing.connection.Connection,
) -> None:
    from tui.local.training.failures import training_failure
    from tui.local.training.run import run_training

    # SIGINT/SIGTERM to the whole process group (Ctrl-C, systemd, docker stop) leave the child
    # running so the server's graceful save runs; the child exits if the server dies.
    prepare_trainer_child(os.getppid())
    try:
        sink = _ChildSink(db_path, request, cancel, pause)
        outcome = run_training(request, sink)
        reply.send(RunResult(outcome=outcome))
    except BaseException as exc:  # the parent turns this into a failed job, never a crash
        log = request.work_dir / "trainer-error.log"
        try:
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text(traceback.format_exc(), encoding="utf-8")
        except OSError:
            pass
        failure = training_failure(exc, str(log))
        reply.send(RunResult(error_code=failure.code, error_message=failure.message))
    finally:
        reply.close()


class _SpawnedRun:
    def __init__(self, request: TrainingRequest, db_path: Path) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._cancel = ctx.Event()
        self._pause = ctx.Event()
        self._recv, send = ctx.Pipe(duplex=False)
        self._process = ctx.Process(
            target=_child_main,
            args=(request, db_path, self._cancel, self._pause, send),
            name=f"ft-tui-train-{request.job_id}",
            daemon=True,
        )
        self._process.start()
        send.close()
        self._result: RunResult | None = None

    def request_stop(self, kind: StopKind) -> None:
        (self._cancel if kind == "cancel" else self._pause).set()

    def _collect(self) -> None:
        if self._result is not None:
            return
        try:
            if self._recv.poll():
                received = self._recv.recv()
                if isinstance(received, RunResult):
                    self._result = received
                    return
        except (EOFError, OSError):
            pass
        if not self._process.is_alive():
            self._process.join(0.1)
            failure = ended_silently(self._process.exitcode)
            self._result = RunResult(error_code=failure.code, error_message=failure.message)

    def result(self) -> RunResult | None:
        self._collect()
        return self._result

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            if self.result() is not None:
                self._process.join(max(0.0, min(1.0, deadline - time.monotonic())))
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._recv.poll(min(0.1, remaining))

    def kill(self) -> None:
        # The child ignores SIGTERM (see child_process), so SIGKILL it.
        if self._process.is_alive():
            self._process.kill()
            self._process.join(1.0)
        self._collect()


class SpawnTrainingDriver:
    """Runs each job's training in its own spawned process (one CPU/GPU box)."""

    def start(self, request: TrainingRequest, db_path: Path) -> TrainingRun:
        return _SpawnedRun(request, db_path)

    def world_size(self) -> int:
        return 1
