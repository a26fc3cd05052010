"""Signals, crashes and divergence during training (issue 13 items 2, 3 and 7).

* SIGTERM to the server pid, and SIGTERM or SIGINT to its whole process group (what systemd,
  `docker stop` and Ctrl-C send), save the running job; the next start continues it, and every
  step is trained exactly once.
* `kill -9` of the server pid alone: the orphaned trainer stops, and the failed job's pause
  state is removed.
* A run whose loss turns NaN fails with `training_diverged`, naming the step, and keeps no model.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from tests.local.conftest import TINY, LocalServer, dataset, wait_for_status
from tests.local.tiny_model import build_tiny_model

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc"), reason="POSIX process groups")

EPOCHS_100_STEPS = {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 5}}}


def _steps(client: Any, job_id: str) -> list[int]:
    events = client.fine_tuning.jobs.list_events(job_id, limit=1000)
    return [int(e.data["step"]) for e in events if e.type == "metrics"]


def _wait_for_step(client: Any, job_id: str, step: int, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while max(_steps(client, job_id), default=0) < step:
        assert time.monotonic() < deadline, f"job {job_id} did not reach step {step}"
        time.sleep(0.2)


def _start_job(server: LocalServer, method: dict[str, Any] = EPOCHS_100_STEPS) -> tuple[Any, str]:
    client = server.client()
    training = client.files.create(file=("s.jsonl", dataset(20)), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(model=TINY, training_file=training.id, method=method)
    wait_for_status(client, job.id, {"running"})
    _wait_for_step(client, job.id, 2)
    return client, str(job.id)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _wait_gone(pids: list[int], timeout: float = 60.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [p for p in pids if _alive(p)]


@pytest.mark.parametrize(
    ("target", "sig"),
    [("pid", signal.SIGTERM), ("group", signal.SIGTERM), ("group", signal.SIGINT)],
    ids=["SIGTERM-pid", "SIGTERM-group", "SIGINT-group"],
)
def test_a_stop_signal_saves_the_job_and_the_next_start_resumes_it(
    tmp_path: Path, tiny_model_dir: Path, target: str, sig: signal.Signals
) -> None:
    server = LocalServer(tmp_path / "server-data", tiny_model_dir, [])
    server.new_session = True
    server.start()
    try:
        client, job_id = _start_job(server)
        process = server.process
        assert process is not None
        trainer = _children(process.pid)
        if target == "group":
            os.killpg(process.pid, sig)  # the server, its trainer, everything in the group
        else:
            os.kill(process.pid, sig)
        # uvicorn shuts down gracefully, then exits by the same signal (-15, or 130 for SIGINT).
        assert process.wait(60) in (0, -sig, 128 + sig), server.stderr()
        assert _wait_gone(trainer) == []
        server.process = None

        server.start()
        client = server.client()
        done = wait_for_status(client, job_id, {"succeeded", "failed", "cancelled"}, 300)
        assert done.status == "succeeded", done.error
        assert sorted(_steps(client, job_id)) == list(range(1, 101))  # none twice, none lost
        messages = [e.message for e in client.fine_tuning.jobs.list_events(job_id, limit=1000)]
        assert any(m.startswith("The server stopped; the job was saved") for m in messages)
    finally:
        if server.process is not None:
            server.process.kill()
            server.process.wait(10)
            server.process = None


def test_kill_9_of_the_server_stops_the_orphaned_trainer_and_drops_pause_state(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    server = LocalServer(tmp_path / "server-data", tiny_model_dir, [])
    server.new_session = True
    server.start()
    try:
        client, job_id = _start_job(server)
        client.fine_tuning.jobs.pause(job_id)  # writes the pause state ...
        pause_dir = server.data_dir / "jobs" / job_id / "pause_state"
        assert pause_dir.is_dir()
        client.fine_tuning.jobs.resume(job_id)  # ... which stays while it trains again
        wait_for_status(client, job_id, {"running"})
        _wait_for_step(client, job_id, max(_steps(client, job_id)) + 2)
        process = server.process
        assert process is not None
        children = _children(process.pid)
        assert children
        process.kill()  # SIGKILL to the pid alone: the trainer is orphaned
        process.wait(10)
        server.process = None
        assert _wait_gone(children) == [], "the orphaned trainer kept running"
        written = _event_count(server.data_dir, job_id)

        server.start()
        client = server.client()
        failed = client.fine_tuning.jobs.retrieve(job_id)
        assert failed.status == "failed" and failed.error is not None
        assert failed.error.code == "server_restarted"
        assert not pause_dir.exists(), "a failed job kept its pause state"
        assert _event_count(server.data_dir, job_id) == written + 1  # only the failure
    finally:
        if server.process is not None:
            server.process.kill()
            server.process.wait(10)
            server.process = None


def _event_count(data_dir: Path, job_id: str) -> int:
    with sqlite3.connect(data_dir / "server.sqlite3") as conn:
        row = conn.execute("SELECT COUNT(*) FROM events WHERE job_id = ?", (job_id,)).fetchone()
    return int(row[0])


@pytest.fixture(scope="module")
def nan_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model with one weight NaN: every loss it computes is NaN."""
    import torch
    from safetensors.torch import load_file, save_file

    directory = build_tiny_model(tmp_path_factory.mktemp("nan-model") / "tiny")
    path = directory / "model.safetensors"
    weights = load_file(str(path))
    name = next(n for n in weights if n.endswith("norm.weight"))
    weights[name] = torch.full_like(weights[name], float("nan"))
    save_file(weights, str(path), metadata={"format": "pt"})
    return directory


def test_a_diverging_run_fails_clearly_and_keeps_no_model(
    tmp_path: Path, nan_model_dir: Path
) -> None:
    server = LocalServer(tmp_path / "server-data", nan_model_dir, [])
    server.start()
    try:
        client = server.client()
        training = client.files.create(file=("d.jsonl", dataset(10)), purpose="fine-tune")
        job = client.fine_tuning.jobs.create(
            model=TINY, training_file=training.id, hyperparameters={"n_epochs": 2}
        )
        failed = wait_for_status(client, job.id, {"succeeded", "failed", "cancelled"}, 300)
        assert failed.status == "failed", failed
        assert failed.error is not None and failed.error.code == "training_diverged"
        assert "step 1" in failed.error.message and "learning_rate_multiplier" in (
            failed.error.message
        )
        assert failed.fine_tuned_model is None
        assert list(client.fine_tuning.jobs.checkpoints.list(job.id)) == []
        assert not [m.id for m in client.models.list() if m.id.startswith("ft:")]
        events = list(client.fine_tuning.jobs.list_events(job.id, limit=100))
        assert events[0].level == "error" and "diverged" in events[0].message
        assert not (server.data_dir / "jobs" / job.id / "adapter").exists()
    finally:
        server.stop()
