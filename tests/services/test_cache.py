"""The SQLite cache: finished jobs reopen offline, running jobs fetch only what is new."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.fake_openai import FakeOpenAI
from tests.fake_openai.jobs import JobPlan
from tui.services.cache import Cache, CacheError
from tui.services.connection import connection_for
from tui.services.job_types import EventInfo
from tui.services.poller import JobPoller, JobUpdate


async def test_finished_job_reopens_from_cache_without_network(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    cache = Cache(tmp_path / "cache.sqlite")
    job_id = fake_openai.add_job(plan=JobPlan(total_steps=12, metrics_per_advance=4))
    fake_openai.run_to_end(job_id)
    first = JobPoller(connection_for(), job_id, cache=cache)
    await first.run()
    assert first.job is not None and first.job.status == "succeeded"
    expected_events = [e.id for e in first.events]
    cache.close()
    fake_openai.stop()  # offline from here on

    reopened = JobPoller(connection_for(), job_id, cache=Cache(tmp_path / "cache.sqlite"))
    messages = [m async for m in reopened.updates()]
    assert len(messages) == 1 and isinstance(messages[0], JobUpdate)
    update = messages[0]
    assert update.source == "cache" and update.finished
    assert update.job.fine_tuned_model == first.job.fine_tuned_model
    assert [e.id for e in update.new_events] == expected_events
    assert reopened.metrics.values("train_loss") == first.metrics.values("train_loss")
    assert update.checkpoints is not None and len(update.checkpoints) == 2
    assert update.new_points == 12


async def test_running_job_reopens_and_fetches_only_new_events(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    cache = Cache(tmp_path / "c.sqlite")
    job_id = fake_openai.add_job()
    fake_openai.add_history(job_id, n_events=300, n_metrics=120)
    first = JobPoller(connection_for(), job_id, cache=cache, page_size=50)
    await first.poll_once()
    fake_openai.add_metrics_steps(job_id, 5, total_steps=200)

    second = JobPoller(connection_for(), job_id, cache=cache, page_size=50)
    cached = await second.open_cached()
    assert cached is not None and cached.source == "cache" and len(cached.new_events) == 302
    marker = len(fake_openai.requests)
    update = await second.poll_once()
    event_requests = [r for r in fake_openai.requests[marker:] if r.path.endswith("/events")]
    assert len(event_requests) == 1  # one page: the 5 new events, then a known id
    assert [e.data["step"] for e in update.new_events if e.data] == [121, 122, 123, 124, 125]
    assert len(second.metrics) == 125
    stored = cache.load_job(connection_for().profile.cache_key, job_id)
    assert stored is not None and stored.event_count == 307


def test_append_ignores_known_ids_and_pages_back(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c.sqlite")
    events = [EventInfo(f"ev{i}", i, "info", f"m{i}", "message", None) for i in range(10)]
    assert cache.append_events("p", "j", events[:6]) == 6
    assert cache.append_events("p", "j", events[4:]) == 4
    assert cache.load_job("p", "j") is None  # no job row yet
    older = cache.events_before("p", "j", before_seq=5, limit=3)
    assert [(s, e.id) for s, e in older] == [(2, "ev2"), (3, "ev3"), (4, "ev4")]
    assert cache.events_before("other-profile", "j", 100) == []


def test_unusable_cache_file_gives_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "cache.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(CacheError, match="cannot open the cache"):
        Cache(bad)
    newer = tmp_path / "newer.sqlite"
    db = sqlite3.connect(newer)
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("INSERT INTO meta VALUES ('schema', '99')")
    db.commit()
    db.close()
    with pytest.raises(CacheError, match="schema version 99"):
        Cache(newer)
