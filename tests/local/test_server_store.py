"""The store and the error guard, in-process: migrations, paging, durability, the 500 path."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from tui.local.server import GuardMiddleware
from tui.local.store import Store


def _job(store: Store, metadata: dict[str, str] | None = None) -> str:
    job = store.add_job(
        model="tiny",
        training_file="file-a",
        validation_file=None,
        hyperparameters={"n_epochs": "auto"},
        method={"type": "supervised"},
        seed=1,
        suffix=None,
        metadata=metadata,
        integrations=None,
    )
    return str(job["id"])


def test_schema_is_versioned_and_reopening_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    store = Store(path)
    job_id = _job(store)
    store.add_event(job_id, "hello", data={"x": 1})
    store.close()
    from tui.local.store import _MIGRATIONS

    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(_MIGRATIONS)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    reopened = Store(path)
    job = reopened.get_job(job_id)
    assert job is not None and job["status"] == "validating_files"
    page = reopened.list_events(job_id, after=None, limit=10)
    assert page is not None and page[0][0]["data"] == {"x": 1}


def test_events_page_newest_first_and_bad_cursors_are_reported(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    job_id = _job(store)
    for i in range(5):
        store.add_event(job_id, f"event {i}")
    first = store.list_events(job_id, after=None, limit=2)
    assert first is not None
    assert [e["message"] for e in first[0]] == ["event 4", "event 3"] and first[1] is True
    rest = store.list_events(job_id, after=first[0][-1]["id"], limit=10)
    assert rest is not None
    assert [e["message"] for e in rest[0]] == ["event 2", "event 1", "event 0"] and not rest[1]
    assert store.list_events(job_id, after="ftevent-unknown", limit=2) is None


def test_jobs_filter_by_metadata_and_page(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    a = _job(store, {"team": "x"})
    b = _job(store, None)
    c = _job(store, {"team": "x", "run": "2"})
    page = store.list_jobs(after=None, limit=10, metadata={"team": "x"}, no_metadata=False)
    assert page is not None and [j["id"] for j in page[0]] == [c, a]
    bare = store.list_jobs(after=None, limit=10, metadata=None, no_metadata=True)
    assert bare is not None and [j["id"] for j in bare[0]] == [b]
    older = store.list_jobs(after=c, limit=1, metadata=None, no_metadata=False)
    assert older is not None and [j["id"] for j in older[0]] == [b] and older[1] is True


def test_transitions_only_apply_from_the_expected_status(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    job_id = _job(store)
    assert store.transition(job_id, ("validating_files",), status="queued")
    assert not store.transition(job_id, ("running",), status="succeeded")
    job = store.get_job(job_id)
    assert job is not None and job["status"] == "queued"


def _call(app: Any, headers: list[tuple[bytes, bytes]], path: str = "/v1/x") -> dict[str, Any]:
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "headers": headers}
    asyncio.run(GuardMiddleware(app, "secret")(scope, receive, send))
    body = json.loads(
        b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    )
    return {"status": sent[0]["status"], "body": body}


def test_unexpected_exceptions_become_an_openai_shaped_500(caplog: Any) -> None:
    async def broken(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("disk on fire")

    result = _call(broken, [(b"authorization", b"Bearer secret")])
    assert result["status"] == 500
    assert result["body"]["error"]["type"] == "server_error"
    assert "disk on fire" in result["body"]["error"]["message"]
    assert "disk on fire" in caplog.text  # logged, with the traceback, for the log file


def test_guard_rejects_before_the_app_runs() -> None:
    async def must_not_run(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("reached the app")

    assert _call(must_not_run, [(b"authorization", b"Bearer wrong")])["status"] == 401
    assert _call(must_not_run, [(b"authorization", b"Basic secret")])["status"] == 401
    assert _call(must_not_run, [])["body"]["error"]["code"] == "invalid_api_key"


def test_a_version_1_database_is_upgraded_in_place(tmp_path: Path) -> None:
    from tui.local.store import _MIGRATIONS

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(_MIGRATIONS[0])
        conn.execute(
            "INSERT INTO files (id, bytes, created_at, filename, purpose, status)"
            " VALUES ('file-old', 3, 1, 'a.jsonl', 'fine-tune', 'processed')"
        )
        conn.execute("PRAGMA user_version=1")
    store = Store(path)
    assert store.get_file("file-old") is not None
    assert store.query_one("SELECT COUNT(*) AS n FROM uploads") is not None
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(_MIGRATIONS)
