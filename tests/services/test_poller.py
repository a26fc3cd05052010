"""JobPoller against the fake OpenAI server: merging, intervals, backoff, terminal states."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.fake_openai import FakeOpenAI
from tests.fake_openai.jobs import JobPlan
from tui.services.cache import Cache
from tui.services.connection import ConnectionHealth, connection_for
from tui.services.poller import JobPoller, JobUpdate, PollerMessage, PollProblem


def _event_requests(fake: FakeOpenAI, job_id: str) -> list[dict[str, str]]:
    return [r.query for r in fake.requests if r.path == f"/fine_tuning/jobs/{job_id}/events"]


async def test_events_are_merged_in_order_without_duplicates_or_refetch(
    fake_openai: FakeOpenAI,
) -> None:
    job_id = fake_openai.add_job(plan=JobPlan(total_steps=30, metrics_per_advance=7))
    poller = JobPoller(connection_for(), job_id, page_size=4)
    statuses = []
    while True:
        update = await poller.poll_once()
        statuses.append(update.job.status)
        if update.finished:
            break
        fake_openai.advance(job_id)
    server_ids = [e["id"] for e in fake_openai.job(job_id).events]
    assert [e.id for e in poller.events] == server_ids
    assert len(poller.metrics) == 30 and poller.metrics.total_steps == 30
    assert poller.metrics.count("full_valid_loss") == 2
    assert "paused" in statuses and statuses[-1] == "succeeded"
    assert [e.type for e in poller.events].count("moderation_checks") == 1
    assert update.checkpoints is not None and [c.step_number for c in update.checkpoints] == [
        30,
        15,
    ]
    before = len(_event_requests(fake_openai, job_id))
    again = await poller.poll_once()  # nothing new: one events request, nothing re-read
    assert again.new_events == () and again.new_points == 0
    assert len(_event_requests(fake_openai, job_id)) == before + 1


async def test_first_poll_pages_back_through_whole_history(fake_openai: FakeOpenAI) -> None:
    job_id = fake_openai.add_job()
    fake_openai.add_history(job_id, n_events=103, n_metrics=40)
    poller = JobPoller(connection_for(), job_id, page_size=10)
    update = await poller.poll_once()
    assert len(update.new_events) == 105 and update.new_points == 40
    queries = _event_requests(fake_openai, job_id)
    assert len(queries) == 11 and "after" not in queries[0] and "after" in queries[1]
    fake_openai.add_metrics_steps(job_id, 3, total_steps=100)
    update = await poller.poll_once()
    assert [e.data["step"] for e in update.new_events if e.data] == [41, 42, 43]
    assert _event_requests(fake_openai, job_id)[-1] == {"limit": "10"}


async def test_backoff_on_429_and_500_then_recovery(fake_openai: FakeOpenAI) -> None:
    job_id = fake_openai.add_job()
    fake_openai.advance(job_id, 2)  # running
    conn = connection_for()
    health: list[ConnectionHealth] = []
    conn.add_listener(health.append)
    fake_openai.fail_next(429, count=1, path_contains="/fine_tuning/jobs/")
    fake_openai.fail_next(500, count=1, path_contains="/events")
    fake_openai.drop_next(count=1, path_contains="/fine_tuning/jobs/")
    poller = JobPoller(conn, job_id, fast_interval=0.01, backoff_base=0.02, jitter=lambda: 0.0)
    messages: list[PollerMessage] = []
    async for message in poller.updates():
        messages.append(message)
        if isinstance(message, JobUpdate):
            poller.stop()
    problems = [m for m in messages if isinstance(m, PollProblem)]
    assert [(p.attempt, p.retry_in) for p in problems] == [(1, 0.02), (2, 0.04), (3, 0.08)]
    assert problems[0].message.title == "Too many requests"
    assert problems[1].message.title == "Cannot reach the server"  # rules apply in order
    assert problems[2].message.title == "Server error"
    assert isinstance(messages[-1], JobUpdate) and messages[-1].job.status == "running"
    states = [h.state for h in health]
    assert states[-1] == "ok" and "degraded" in states
    degraded = next(h for h in health if h.state == "degraded")
    assert degraded.retry_at is not None and "retry in" in degraded.label()
    assert "Too many requests" in degraded.reason


def test_backoff_grows_exponentially_is_capped_and_honours_retry_after() -> None:
    from unittest.mock import MagicMock

    poller = JobPoller(
        MagicMock(), "ftjob-x", backoff_base=1.0, max_backoff=8.0, jitter=lambda: 1.0
    )
    assert [poller.backoff_delay(a) for a in (1, 2, 3, 4, 5)] == [1.5, 3.0, 6.0, 12.0, 12.0]
    exc = MagicMock()
    exc.response.headers = {"retry-after": "30"}
    assert poller.backoff_delay(1, exc) == 30.0


async def test_stops_on_terminal_status_and_failed_job_error(fake_openai: FakeOpenAI) -> None:
    failing = fake_openai.add_job(script="failure")
    fake_openai.advance(failing)
    seen: list[PollerMessage] = []
    poller = JobPoller(connection_for(), failing, on_update=seen.append)
    await asyncio.wait_for(poller.run(), timeout=5)
    last = seen[-1]
    assert isinstance(last, JobUpdate) and last.finished and last.job.status == "failed"
    assert last.job.error is not None and last.job.error.code == "invalid_n_examples"
    assert last.checkpoints == ()


async def test_healthy_job_with_empty_error_and_paused_status(fake_openai: FakeOpenAI) -> None:
    job_id = fake_openai.add_job(plan=JobPlan(total_steps=10, metrics_per_advance=5))
    fake_openai.advance(job_id, 3)  # running with 5 steps, then paused half way
    poller = JobPoller(connection_for(), job_id, fast_interval=0.5, slow_interval=7.0)
    update = await poller.poll_once()
    assert update.job.error is None and update.job.status == "running"
    assert poller.interval() == 0.5
    fake_openai.advance(job_id)
    update = await poller.poll_once()
    assert update.job.status == "paused" and not update.finished
    assert poller.interval() == 7.0


async def test_unknown_job_ends_with_a_problem_and_stop_is_prompt(fake_openai: FakeOpenAI) -> None:
    poller = JobPoller(connection_for(), "ftjob-nope")
    messages = [m async for m in poller.updates()]
    assert len(messages) == 1 and isinstance(messages[0], PollProblem)
    assert messages[0].retry_in is None and messages[0].message.status == 404
    job_id = fake_openai.add_job()
    slow = JobPoller(connection_for(), job_id, slow_interval=60)
    task = asyncio.create_task(slow.run())
    await asyncio.sleep(0.3)
    slow.stop()
    await asyncio.wait_for(task, timeout=2)
    assert slow.stopped


async def test_wake_polls_immediately(fake_openai: FakeOpenAI) -> None:
    job_id = fake_openai.add_job()
    poller = JobPoller(connection_for(), job_id, slow_interval=60)
    got: list[PollerMessage] = []
    task = asyncio.create_task(poller.run())
    poller.on_update = got.append
    await asyncio.sleep(0.3)
    fake_openai.advance(job_id)
    poller.wake()
    for _ in range(50):
        if any(isinstance(m, JobUpdate) and m.job.status == "queued" for m in got):
            break
        await asyncio.sleep(0.05)
    poller.stop()
    await asyncio.wait_for(task, timeout=2)
    assert any(isinstance(m, JobUpdate) and m.job.status == "queued" for m in got)


@pytest.mark.parametrize("window", [5])
async def test_memory_window_is_bounded(fake_openai: FakeOpenAI, window: int) -> None:
    job_id = fake_openai.add_job()
    fake_openai.add_history(job_id, n_events=50, n_metrics=20)
    poller = JobPoller(connection_for(), job_id, max_events_in_memory=window)
    await poller.poll_once()
    assert len(poller.events) == window and len(poller.metrics) == 20
    fake_openai.add_metrics_steps(job_id, 2, total_steps=30)
    update = await poller.poll_once()
    assert len(update.new_events) == 2


async def test_backend_without_checkpoints_endpoint_still_finishes(
    fake_openai: FakeOpenAI,
) -> None:
    job_id = fake_openai.add_job(script="failure")
    fake_openai.advance(job_id)
    fake_openai.fail_next(404, path_contains="/checkpoints", retry_after=None)
    messages = [m async for m in JobPoller(connection_for(), job_id).updates()]
    assert isinstance(messages[-1], JobUpdate) and messages[-1].finished
    assert messages[-1].checkpoints == ()


async def test_history_pages_can_be_bigger_than_the_live_head_page(
    fake_openai: FakeOpenAI,
) -> None:
    job_id = fake_openai.add_job()
    fake_openai.add_history(job_id, n_events=103, n_metrics=40)
    poller = JobPoller(connection_for(), job_id, page_size=10, history_page_size=50)
    await poller.poll_once()
    assert [q["limit"] for q in _event_requests(fake_openai, job_id)] == ["50", "50", "50"]
    fake_openai.add_metrics_steps(job_id, 25, total_steps=100)
    marker = len(_event_requests(fake_openai, job_id))
    update = await poller.poll_once()
    queries = _event_requests(fake_openai, job_id)[marker:]
    assert [q["limit"] for q in queries] == ["10", "50"] and "after" in queries[1]
    assert len(update.new_events) == 25 and len(set(e.id for e in poller.events)) == 130


async def test_cache_write_failure_does_not_stop_following(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    job_id = fake_openai.add_job()
    cache = Cache(tmp_path / "c.sqlite")
    poller = JobPoller(connection_for(), job_id, cache=cache)
    cache.close()  # every write now fails with sqlite3.ProgrammingError
    update = await poller.poll_once()
    assert update.job.status == "validating_files" and len(update.new_events) == 2
    assert poller.cache is None and poller.cache_problem is not None
    fake_openai.advance(job_id)
    assert (await poller.poll_once()).job.status == "queued"


async def test_a_cycle_failing_at_the_checkpoints_is_repeated_without_double_counting(
    fake_openai: FakeOpenAI,
) -> None:
    job_id = fake_openai.add_job(plan=JobPlan(total_steps=10, metrics_per_advance=10))
    fake_openai.run_to_end(job_id)
    fake_openai.fail_next(500, path_contains="/checkpoints")
    poller = JobPoller(connection_for(), job_id, backoff_base=0.01, jitter=lambda: 0.0)
    messages = [m async for m in poller.updates()]
    assert isinstance(messages[0], PollProblem)
    last = messages[-1]
    assert isinstance(last, JobUpdate) and last.finished and last.new_points == 10
    assert poller.metrics.rejected == 0 and len(poller.metrics) == 10
    assert len(poller.events) == len(fake_openai.job(job_id).events)
