"""The multi-process training driver: each job runs under `accelerate launch`.

`ft-tui serve --train-processes N` starts N processes with accelerate's torchrun launcher (DDP:
gloo on CPU, NCCL on CUDA); `--accelerate-config FILE` hands accelerate a config of its own
(FSDP, DeepSpeed ZeRO, several machines), with N overriding its process count when given. The
ranks run `tui.local.training.worker`; the server talks to them through files in the job's
`launch/` folder (request, control, result) and kills the launcher's process group when a
cancelled run does not stop in time. Launcher output goes to `launch/launcher.log`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tui.local.child_process import SERVER_PID_ENV
from tui.local.drivers import RunResult, TrainingRun
from tui.local.store import Store
from tui.local.training.failures import root_failure
from tui.local.training.interface import StopKind, TrainingRequest
from tui.local.training.worker import (
    CONTROL_FILE,
    RANK_ERROR_GLOB,
    REQUEST_FILE,
    RESULT_FILE,
    outcome_from_json,
    request_to_json,
)

logger = logging.getLogger(__name__)

LOG_FILE = "launcher.log"
LOG_TAIL_CHARS = 1500


class AccelerateConfigError(Exception):
    """The accelerate config file cannot be used."""


def check_accelerate_config(path: Path, processes: int | None = None) -> None:
    """Refuse a config file accelerate cannot read or launch from (called when the server
    starts); `processes` is `--train-processes`, which replaces the file's `num_processes`."""
    if not path.is_file():
        raise AccelerateConfigError(f"accelerate config {path} does not exist")
    try:
        from accelerate.commands.config.config_args import load_config_from_file
    except ImportError as exc:  # pragma: no cover - accelerate comes with the local extra
        raise AccelerateConfigError(f"accelerate is not installed: {exc}") from exc
    try:
        raw = read_mapping(path)
        load_config_from_file(str(path))
        _check_machines(raw, processes)
    except Exception as exc:  # yaml/json/type errors: the message is what matters
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise AccelerateConfigError(f"accelerate config {path} is not valid: {detail}") from exc


def read_mapping(path: Path) -> dict[str, Any]:
    import json

    import yaml

    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(
            "it must be a mapping of accelerate settings (what `accelerate config` writes)"
        )
    return data


def _whole(raw: dict[str, Any], key: str, default: int, minimum: int) -> int:
    value = raw.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{key} must be a whole number >= {minimum}, got {value!r}")
    return value


def _check_machines(raw: dict[str, Any], processes: int | None) -> None:
    """What accelerate itself lets through and then launches wrongly or not at all."""
    total = _whole(raw, "num_processes", 1, 1)
    machines = _whole(raw, "num_machines", 1, 1)
    rank = _whole(raw, "machine_rank", 0, 0)
    if raw.get("distributed_type") == "MULTI_CPU" and max(processes or total, machines) > 1:
        # accelerate starts MULTI_CPU ranks through mpirun only; without a hostfile it starts
        # one untied process per machine, and each would train alone as if it were rank 0.
        raise ValueError(
            "distributed_type MULTI_CPU starts its processes through mpirun, which ft-tui does "
            "not drive; use distributed_type MULTI_GPU (accelerate's torchrun launcher, which "
            "trains on CPU over gloo too)"
        )
    if machines == 1:
        return
    if rank >= machines:
        raise ValueError(f"machine_rank ({rank}) must be below num_machines ({machines})")
    if processes is not None and processes % machines:
        raise ValueError(
            f"--train-processes {processes} is not a multiple of num_machines ({machines}); "
            "it counts the processes of all machines together"
        )
    if processes is None and total % machines:
        raise ValueError(
            f"num_processes ({total}) must be a multiple of num_machines ({machines}): "
            "it counts the processes of all machines together"
        )
    if not raw.get("main_process_ip"):
        raise ValueError(
            "several machines need main_process_ip, the address of machine 0 "
            "that the others can reach"
        )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def launch_command(
    run_dir: Path, db_path: Path, processes: int | None, config: Path | None
) -> list[str]:
    command = [sys.executable, "-m", "accelerate.commands.launch"]
    if config is not None:
        command += ["--config_file", str(config)]
        if processes:
            command += ["--num_processes", str(processes)]
    else:
        command += [
            "--multi_gpu",  # accelerate's torchrun launcher; the ranks pick gloo on CPU
            "--num_processes",
            str(processes or 1),
            "--num_machines",
            "1",
            "--mixed_precision",
            "no",
            "--dynamo_backend",
            "no",
            "--main_process_port",
            str(_free_port()),
        ]
    return [*command, "-m", "tui.local.training.worker", str(run_dir), str(db_path)]


def other_machines(config: Path | None) -> int:
    """How many machines besides this one a run with `config` waits for."""
    if config is None:
        return 0
    try:
        machines = read_mapping(config).get("num_machines", 1)
    except (OSError, ValueError):
        return 0
    return machines - 1 if isinstance(machines, int) and machines > 1 else 0


def join_command(run_dir: Path, db_path: Path) -> str:
    """What another machine runs to join the run in `run_dir` (with its own config)."""
    return (
        "accelerate launch --config_file <its-config.yaml> -m tui.local.training.worker "
        f"{shlex.quote(str(run_dir))} {shlex.quote(str(db_path))}"
    )


class _LaunchedRun:
    def __init__(
        self, request: TrainingRequest, db_path: Path, processes: int | None, config: Path | None
    ) -> None:
        self._dir = request.work_dir / "launch"
        self._dir.mkdir(parents=True, exist_ok=True)
        for name in (CONTROL_FILE, RESULT_FILE):
            (self._dir / name).unlink(missing_ok=True)
        for stale in self._dir.glob(RANK_ERROR_GLOB):
            stale.unlink(missing_ok=True)
        # Present exactly while the run is on: `ft-tui train-node` on other machines joins it.
        staging = self._dir / (REQUEST_FILE + ".partial")
        staging.write_text(request_to_json(request), encoding="utf-8")
        staging.replace(self._dir / REQUEST_FILE)
        others = other_machines(config)
        if others:  # the job's events tell the user what to run on the other machines
            message = (
                f"Waiting for {others} more machine{'s' if others > 1 else ''} to join "
                "(`ft-tui train-node` running there joins every job); "
                f"on each run: {join_command(self._dir, db_path)}"
            )
            logger.info("job %s: %s", request.job_id, message)
            store = Store(db_path)
            try:
                store.add_event(request.job_id, message)
            finally:
                store.close()
        env = dict(os.environ)
        env[SERVER_PID_ENV] = str(os.getpid())
        env.setdefault("OMP_NUM_THREADS", "1")
        with (self._dir / LOG_FILE).open("wb") as log:
            self._process = subprocess.Popen(
                launch_command(self._dir, db_path, processes, config),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # its own process group: kill() reaches every rank
            )
        self._result: RunResult | None = None

    def request_stop(self, kind: StopKind) -> None:
        staging = self._dir / (CONTROL_FILE + ".partial")
        staging.write_text(kind, encoding="utf-8")
        staging.replace(self._dir / CONTROL_FILE)

    def result(self) -> RunResult | None:
        if self._result is None and self._process.poll() is not None:
            self._result = self._read_result()
            (self._dir / REQUEST_FILE).unlink(missing_ok=True)  # the run is over
        return self._result

    def _read_result(self) -> RunResult:
        import json

        try:
            data = json.loads((self._dir / RESULT_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = None
        if data is not None and "outcome" in data:
            return RunResult(outcome=outcome_from_json(data["outcome"]))
        failures = [(0, data)] if data is not None else []
        failures += self._rank_errors()
        if not failures:
            return RunResult(
                error_code="training_launch_failed",
                error_message="The training processes stopped before they could start "
                f"(exit code {self._process.returncode}): {self._log_tail()}",
            )
        rank, chosen = root_failure(failures)
        prefix = f"Rank {rank}: " if rank else ""
        return RunResult(
            error_code=str(chosen["error_code"]),
            error_message=prefix + str(chosen["error_message"]),
        )

    def _rank_errors(self) -> list[tuple[int, dict[str, Any]]]:
        """What ranks other than 0 reported when they failed, by rank."""
        import json

        found: list[tuple[int, dict[str, Any]]] = []
        for path in self._dir.glob(RANK_ERROR_GLOB):
            digits = path.stem.removeprefix("error-rank")
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if digits.isdigit() and isinstance(data, dict) and "error_code" in data:
                found.append((int(digits), data))
        return sorted(found, key=lambda item: item[0])

    def _log_tail(self) -> str:
        try:
            text = (self._dir / LOG_FILE).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "no launcher output"
        lines = [line for line in text.strip().splitlines() if line.strip()]
        errors = [line for line in lines if "Error" in line or "error" in line]
        tail = "\n".join((errors or lines)[-3:])
        return tail[-LOG_TAIL_CHARS:] + f" (full output in {self._dir / LOG_FILE})"

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.result() is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(0.1, remaining))
        return True

    def kill(self) -> None:
        if self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._process.pid, signal.SIGKILL)  # the ranks ignore SIGTERM
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(5.0)
        self.result()


class LaunchTrainingDriver:
    """Runs each job as `processes` ranks (or as `config` says) under `accelerate launch`."""

    def __init__(self, processes: int | None, config: Path | None) -> None:
        self.processes = processes
        self.config = config

    def start(self, request: TrainingRequest, db_path: Path) -> TrainingRun:
        return _LaunchedRun(request, db_path, self.processes, self.config)

    def world_size(self) -> int:
        if self.processes:
            return self.processes
        try:
            total = read_mapping(self.config).get("num_processes") if self.config else None
        except (OSError, ValueError):
            total = None
        return total if isinstance(total, int) and not isinstance(total, bool) and total > 0 else 1
