"""Controlling running jobs: cancel within 5 s, pause/resume, chat while training, a restart
mid-run, and one job at a time."""

from __future__ import annotations

import time
from typing import Any

import openai
import pytest

from tests.local.conftest import TINY, LocalServer, dataset, wait_for_status

LONG = {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 50, "batch_size": 1}}}


def _long_job(client: Any, n: int = 40) -> Any:
    training = client.files.create(file=("long.jsonl", dataset(n)), purpose="fine-tune")
    return client.fine_tuning.jobs.create(model=TINY, training_file=training.id, method=LONG)


def _wait_for_steps(client: Any, job_id: str, steps: int, timeout: float = 120.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        latest = [e for e in client.fine_tuning.jobs.list_events(job_id, limit=5).data]
        done = max((e.data["step"] for e in latest if e.type == "metrics"), default=0)
        if done >= steps:
            return int(done)
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not reach step {steps}")


def test_cancel_stops_training_within_5_seconds(local_server: LocalServer) -> None:
    client = local_server.client()
    job = _long_job(client)
    running = wait_for_status(client, job.id, {"running"})
    assert running.estimated_finish is None or running.estimated_finish > running.created_at
    _wait_for_steps(client, job.id, 2)
    assert client.fine_tuning.jobs.retrieve(job.id).estimated_finish is not None
    started = time.monotonic()
    cancelled = client.fine_tuning.jobs.cancel(job.id)
    assert time.monotonic() - started < 5.0
    assert cancelled.status == "cancelled" and cancelled.estimated_finish is None
    steps_then = _wait_for_steps(client, job.id, 1)
    time.sleep(1.0)
    assert _wait_for_steps(client, job.id, 1) == steps_then  # no step after the cancel
    assert client.fine_tuning.jobs.list_events(job.id, limit=1).data[0].message == (
        "Fine-tuning job cancelled"
    )
    with pytest.raises(openai.ConflictError):
        client.fine_tuning.jobs.cancel(job.id)
    # The runner is free again: the next job trains.
    quick = client.files.create(file=("q.jsonl", dataset(10)), purpose="fine-tune")
    nxt = client.fine_tuning.jobs.create(
        model=TINY, training_file=quick.id, hyperparameters={"n_epochs": 1, "batch_size": 10}
    )
    assert wait_for_status(client, nxt.id, {"succeeded", "failed"}).status == "succeeded"


def test_pause_resume_and_restarts_train_every_step_exactly_once(
    local_server: LocalServer,
) -> None:
    client = local_server.client()
    training = client.files.create(file=("p.jsonl", dataset(20)), purpose="fine-tune")
    # Long enough (240 steps) that the job is still training when the server is stopped below.
    job = client.fine_tuning.jobs.create(
        model=TINY,
        training_file=training.id,
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 12}}},
    )
    wait_for_status(client, job.id, {"running"})
    _wait_for_steps(client, job.id, 3)
    paused = client.fine_tuning.jobs.pause(job.id)
    assert paused.status == "paused"
    paused_at = _wait_for_steps(client, job.id, 1)
    with pytest.raises(openai.ConflictError):
        client.fine_tuning.jobs.pause(job.id)

    # A paused job stays paused across a restart, then resumes from its saved state.
    local_server.restart()
    client = local_server.client()
    assert client.fine_tuning.jobs.retrieve(job.id).status == "paused"
    assert _wait_for_steps(client, job.id, 1) == paused_at
    resumed = client.fine_tuning.jobs.resume(job.id)
    assert resumed.status == "queued"
    wait_for_status(client, job.id, {"running"})
    _wait_for_steps(client, job.id, paused_at + 2)

    # Stopping the server while it trains saves the job; it continues at the next start.
    local_server.restart()
    client = local_server.client()
    done = wait_for_status(client, job.id, {"succeeded", "failed", "cancelled"})
    assert done.status == "succeeded", done.error
    events = list(client.fine_tuning.jobs.list_events(job.id, limit=1000))
    steps = [e.data["step"] for e in events if e.type == "metrics"]
    assert sorted(steps) == list(range(1, 241))  # nothing trained twice, nothing skipped
    messages = [e.message for e in events]
    assert "Fine-tuning job paused" in messages
    assert "Fine-tuning job resumed, moving job to queued state" in messages
    assert any(m.startswith("The server stopped; the job was saved") for m in messages)
    assert messages.count("Fine-tuning job started") == 3


def test_chat_answers_while_a_job_trains(local_server: LocalServer) -> None:
    client = local_server.client()
    job = _long_job(client)
    wait_for_status(client, job.id, {"running"})
    _wait_for_steps(client, job.id, 1)
    reply = client.chat.completions.create(
        model=TINY, messages=[{"role": "user", "content": "hello"}], max_tokens=4
    )
    assert reply.choices[0].message.content is not None
    # The answer came while the job was still training, not after it.
    assert client.fine_tuning.jobs.retrieve(job.id).status == "running"
    client.fine_tuning.jobs.cancel(job.id)


def test_one_job_trains_at_a_time_and_queued_jobs_can_be_cancelled(
    local_server: LocalServer,
) -> None:
    client = local_server.client()
    first = _long_job(client)
    second = _long_job(client)
    wait_for_status(client, first.id, {"running"})
    time.sleep(1.0)
    assert client.fine_tuning.jobs.retrieve(second.id).status == "queued"
    with pytest.raises(openai.ConflictError):  # its training file is still needed
        client.files.delete(first.training_file)
    assert client.fine_tuning.jobs.cancel(second.id).status == "cancelled"
    client.fine_tuning.jobs.cancel(first.id)


def test_restart_during_training_fails_the_job_clearly(local_server: LocalServer) -> None:
    client = local_server.client()
    job = _long_job(client)
    wait_for_status(client, job.id, {"running"})
    _wait_for_steps(client, job.id, 1)
    local_server.kill()
    local_server.start()
    client = local_server.client()
    failed = client.fine_tuning.jobs.retrieve(job.id)
    assert failed.status == "failed" and failed.error is not None
    assert failed.error.code == "server_restarted"
    assert failed.error.message.startswith("Server restarted while the job was running")
    assert client.fine_tuning.jobs.list_events(job.id, limit=1).data[0].level == "error"
    # Events written before the crash are all still there.
    assert any(e.type == "metrics" for e in client.fine_tuning.jobs.list_events(job.id))
