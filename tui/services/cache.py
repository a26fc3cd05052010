"""The local cache (SQLite, `tui.config.data_dir()/cache.sqlite`): jobs, events, metrics and
checkpoints keyed by profile (`Profile.cache_key`) and job id.

A finished job opens from here instantly and offline; a running job opens from here and the
poller then fetches only what is newer than the newest cached event.

    cache = Cache()                                   # or Cache(path) in tests
    cache.save_job(key, job)
    cache.append_events(key, job.id, new_events)      # oldest first; known ids are ignored
    cached = cache.load_job(key, job.id)              # CachedJob | None (recent events only)
    older = cache.events_before(key, job.id, cached.first_seq, limit=500)   # for scrolling back

Metrics are stored as one row of floats per step, so reopening a 50k-step job parses no JSON.
All methods are synchronous and thread-safe (one connection behind a lock); call them through
`asyncio.to_thread` from the event loop, as `JobPoller` does.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import orjson

from tui import config
from tui.core.metrics import COLUMNS, MetricsSeries
from tui.services.errors import ServiceError
from tui.services.job_types import CheckpointInfo, EventInfo, JobInfo

log = logging.getLogger("ft-tui.cache")

SCHEMA_VERSION = 1
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    profile TEXT NOT NULL, job_id TEXT NOT NULL, status TEXT NOT NULL, created_at INTEGER,
    json BLOB NOT NULL, updated_at REAL NOT NULL, PRIMARY KEY (profile, job_id));
CREATE TABLE IF NOT EXISTS events (
    profile TEXT NOT NULL, job_id TEXT NOT NULL, seq INTEGER NOT NULL, event_id TEXT NOT NULL,
    json BLOB NOT NULL, PRIMARY KEY (profile, job_id, seq)) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS events_by_id ON events (profile, job_id, event_id);
CREATE TABLE IF NOT EXISTS metrics (
    profile TEXT NOT NULL, job_id TEXT NOT NULL, step INTEGER NOT NULL, total_steps INTEGER,
    {", ".join(f"{c} REAL" for c in COLUMNS)},
    PRIMARY KEY (profile, job_id, step)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (
    profile TEXT NOT NULL, job_id TEXT NOT NULL, json BLOB NOT NULL,
    PRIMARY KEY (profile, job_id));
"""


class CacheError(ServiceError):
    """The cache file cannot be used (the app keeps working without it)."""

    title = "Cache unavailable"


@dataclass(frozen=True)
class CachedJob:
    job: JobInfo
    events: list[EventInfo]  # the most recent ones, oldest first
    first_seq: int  # seq of events[0]; older ones via Cache.events_before
    event_count: int
    newest_event_id: str | None
    metrics: MetricsSeries
    checkpoints: list[CheckpointInfo] | None  # None: not fetched yet


def default_cache_path() -> Path:
    return config.data_dir() / "cache.sqlite"


class Cache:
    def __init__(self, path: Path | None = None) -> None:
        self.path = default_cache_path() if path is None else path
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._check_version()
        except (OSError, sqlite3.Error) as exc:
            raise CacheError(
                f"cannot open the cache {self.path}: {exc}",
                "delete the file to start a fresh cache",
            ) from None

    def _check_version(self) -> None:
        row = self._db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        if row is None:
            self._db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        elif row[0] != str(SCHEMA_VERSION):
            raise sqlite3.DatabaseError(f"schema version {row[0]}, expected {SCHEMA_VERSION}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- writes -------------------------------------------------------------------------------
    def save_job(self, profile: str, job: JobInfo) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO jobs VALUES (?, ?, ?, ?, ?, ?)",
                (
                    profile,
                    job.id,
                    job.status,
                    job.created_at,
                    orjson.dumps(dict(job.raw)),
                    time.time(),
                ),
            )

    def append_events(self, profile: str, job_id: str, events: Iterable[EventInfo]) -> int:
        """Store new events (oldest first) and their metrics rows; returns how many were new."""
        with self._lock:
            db = self._db
            row = db.execute(
                "SELECT MAX(seq) FROM events WHERE profile=? AND job_id=?", (profile, job_id)
            ).fetchone()
            seq = row[0] if row and row[0] is not None else -1
            added = 0
            db.execute("BEGIN")
            try:
                for event in events:
                    cursor = db.execute(
                        "INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?, ?)",
                        (profile, job_id, seq + 1, event.id, orjson.dumps(event.to_wire())),
                    )
                    if cursor.rowcount != 1:
                        continue
                    seq += 1
                    added += 1
                    if event.is_metrics and event.data is not None:
                        self._insert_metrics(profile, job_id, event.data)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return added

    def _insert_metrics(self, profile: str, job_id: str, data: object) -> None:
        assert isinstance(data, dict)
        step = data.get("step")
        if not isinstance(step, int) or isinstance(step, bool):
            return
        values = [data.get(c) if isinstance(data.get(c), int | float) else None for c in COLUMNS]
        total = data.get("total_steps")
        self._db.execute(
            f"INSERT OR REPLACE INTO metrics VALUES (?, ?, ?, ?, {', '.join('?' * len(COLUMNS))})",
            (profile, job_id, step, total if isinstance(total, int) else None, *values),
        )

    def save_checkpoints(self, profile: str, job_id: str, ckpts: list[CheckpointInfo]) -> None:
        blob = orjson.dumps([c.to_wire() for c in ckpts])
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO checkpoints VALUES (?, ?, ?)", (profile, job_id, blob)
            )

    # -- reads --------------------------------------------------------------------------------
    def load_job(self, profile: str, job_id: str, *, event_limit: int = 2000) -> CachedJob | None:
        with self._lock:
            db = self._db
            row = db.execute(
                "SELECT json FROM jobs WHERE profile=? AND job_id=?", (profile, job_id)
            ).fetchone()
            if row is None:
                return None
            job = JobInfo.from_wire(orjson.loads(row[0]))
            count_row = db.execute(
                "SELECT COUNT(*) FROM events WHERE profile=? AND job_id=?", (profile, job_id)
            ).fetchone()
            rows = db.execute(
                "SELECT seq, json FROM events WHERE profile=? AND job_id=? "
                "ORDER BY seq DESC LIMIT ?",
                (profile, job_id, event_limit),
            ).fetchall()
            metric_rows = db.execute(
                f"SELECT step, total_steps, {', '.join(COLUMNS)} FROM metrics "
                "WHERE profile=? AND job_id=? ORDER BY step",
                (profile, job_id),
            ).fetchall()
            ckpt_row = db.execute(
                "SELECT json FROM checkpoints WHERE profile=? AND job_id=?", (profile, job_id)
            ).fetchone()
        rows.reverse()
        events = [EventInfo.from_wire(orjson.loads(blob)) for _, blob in rows]
        series = MetricsSeries()
        if metric_rows:
            steps, totals, *values = zip(*metric_rows, strict=True)
            series.extend_columns(
                steps, dict(zip(COLUMNS, values, strict=True)), totals[-1] or None
            )
        checkpoints = None
        if ckpt_row is not None:
            checkpoints = [CheckpointInfo.from_wire(c) for c in orjson.loads(ckpt_row[0])]
        return CachedJob(
            job=job,
            events=events,
            first_seq=rows[0][0] if rows else 0,
            event_count=int(count_row[0]) if count_row else 0,
            newest_event_id=events[-1].id if events else None,
            metrics=series,
            checkpoints=checkpoints,
        )

    def events_before(
        self, profile: str, job_id: str, before_seq: int, limit: int = 500
    ) -> list[tuple[int, EventInfo]]:
        """Older events for scrolling back: (seq, event), oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, json FROM events WHERE profile=? AND job_id=? AND seq<? "
                "ORDER BY seq DESC LIMIT ?",
                (profile, job_id, before_seq, limit),
            ).fetchall()
        return [(seq, EventInfo.from_wire(orjson.loads(blob))) for seq, blob in reversed(rows)]

    def cached_jobs(self, profile: str, limit: int = 200) -> list[JobInfo]:
        """Jobs seen before with this profile, newest first: the offline job list."""
        with self._lock:
            rows = self._db.execute(
                "SELECT json FROM jobs WHERE profile=? "
                "ORDER BY created_at DESC, job_id DESC LIMIT ?",
                (profile, limit),
            ).fetchall()
        return [JobInfo.from_wire(orjson.loads(blob)) for (blob,) in rows]


def open_cache() -> Cache | None:
    """The SQLite cache, or None when it cannot be opened (screens then work online only)."""
    try:
        return Cache()
    except CacheError as exc:
        log.warning("job cache unavailable: %s", exc)
        return None
