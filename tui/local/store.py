"""SQLite store of the local server: files, jobs, events, checkpoints and fine-tuned models.

One connection per process (the server and each training child open their own); WAL lets the
trainer append events while the server reads them. Schema changes go through `user_version`.
Rows come back as OpenAI-shaped dicts, ready to be sent.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tui.local import ids
from tui.local.validation import dumps, loads_stored

ORGANIZATION = "org-local"

_MIGRATIONS: list[str] = [
    # version 1
    """
    CREATE TABLE files (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, bytes INTEGER NOT NULL,
        created_at INTEGER NOT NULL, filename TEXT NOT NULL, purpose TEXT NOT NULL,
        status TEXT NOT NULL, expires_at INTEGER);
    CREATE TABLE jobs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL,
        created_at INTEGER NOT NULL, model TEXT NOT NULL, training_file TEXT NOT NULL,
        validation_file TEXT, status TEXT NOT NULL, error TEXT, fine_tuned_model TEXT,
        finished_at INTEGER, hyperparameters TEXT NOT NULL, method TEXT NOT NULL,
        seed INTEGER NOT NULL, suffix TEXT, metadata TEXT, integrations TEXT,
        trained_tokens INTEGER, estimated_finish INTEGER, result_files TEXT NOT NULL,
        resume_dir TEXT);
    CREATE INDEX jobs_by_status ON jobs(status, seq);
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, job_id TEXT NOT NULL,
        created_at INTEGER NOT NULL, level TEXT NOT NULL, message TEXT NOT NULL,
        type TEXT NOT NULL, data TEXT);
    CREATE INDEX events_by_job ON events(job_id, seq);
    CREATE TABLE checkpoints (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, job_id TEXT NOT NULL,
        created_at INTEGER NOT NULL, step_number INTEGER NOT NULL, metrics TEXT NOT NULL,
        model TEXT NOT NULL);
    CREATE INDEX checkpoints_by_job ON checkpoints(job_id, seq);
    CREATE TABLE models (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, created INTEGER NOT NULL,
        base TEXT NOT NULL, job_id TEXT NOT NULL, step INTEGER, adapter_dir TEXT NOT NULL);
    """,
    # version 2: the Uploads API (large files in parts)
    """
    CREATE TABLE uploads (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL,
        created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, bytes INTEGER NOT NULL,
        filename TEXT NOT NULL, purpose TEXT NOT NULL, mime_type TEXT NOT NULL,
        status TEXT NOT NULL, file_id TEXT);
    CREATE TABLE upload_parts (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL,
        upload_id TEXT NOT NULL, created_at INTEGER NOT NULL, bytes INTEGER NOT NULL);
    CREATE INDEX parts_by_upload ON upload_parts(upload_id, seq);
    """,
    # version 3: exports of fine-tuned models (tui.local.export.records owns the queries)
    """
    CREATE TABLE exports (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL,
        created_at INTEGER NOT NULL, model TEXT NOT NULL, format TEXT NOT NULL,
        status TEXT NOT NULL, progress REAL NOT NULL, stage TEXT NOT NULL, error TEXT,
        options TEXT NOT NULL, finished_at INTEGER, result_dir TEXT, files TEXT, bytes INTEGER,
        converter TEXT);
    """,
]

_JSON_COLUMNS = frozenset(
    {"error", "hyperparameters", "method", "metadata", "integrations", "result_files"}
)


def now() -> int:
    return int(time.time())


def _loads(text: str | None) -> Any:
    return None if text is None else loads_stored(text)  # NaN an older server wrote -> None


def _dumps(value: Any) -> str | None:
    return None if value is None else dumps(value)  # never stores NaN/Infinity (as null)


class Store:
    """Thread-safe access to the server's SQLite file (one instance per process)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            str(path), timeout=10.0, check_same_thread=False, isolation_level=None
        )
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA busy_timeout=10000")
        self._migrate()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _migrate(self) -> None:
        with self.transaction() as conn:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            for index, script in enumerate(_MIGRATIONS[version:], start=version + 1):
                for statement in script.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version={index}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def query_one(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Row | None:
        with self._lock:
            row: sqlite3.Row | None = self._conn.execute(sql, args).fetchone()
            return row

    def query_all(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return list(self._conn.execute(sql, args).fetchall())

    def _seq_of(self, table: str, object_id: str) -> int | None:
        row = self.query_one(f"SELECT seq FROM {table} WHERE id = ?", (object_id,))
        return None if row is None else int(row["seq"])

    # ---- files -------------------------------------------------------------------------------

    def add_file(
        self,
        file_id: str,
        *,
        size: int,
        filename: str,
        purpose: str,
        expires_at: int | None = None,
    ) -> dict[str, Any]:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO files (id, bytes, created_at, filename, purpose, status, expires_at)"
                " VALUES (?, ?, ?, ?, ?, 'processed', ?)",
                (file_id, size, now(), filename, purpose, expires_at),
            )
        found = self.get_file(file_id)
        assert found is not None
        return found

    def get_file(self, file_id: str) -> dict[str, Any] | None:
        row = self.query_one("SELECT * FROM files WHERE id = ?", (file_id,))
        return None if row is None else _file_object(row)

    def list_files(
        self, *, purpose: str | None, order: str, after: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], bool] | None:
        """A page of files, or None when `after` names no file."""
        clauses: list[str] = []
        args: list[Any] = []
        if purpose:
            clauses.append("purpose = ?")
            args.append(purpose)
        if after:
            seq = self._seq_of("files", after)
            if seq is None:
                return None
            clauses.append("seq > ?" if order == "asc" else "seq < ?")
            args.append(seq)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        direction = "ASC" if order == "asc" else "DESC"
        rows = self.query_all(
            f"SELECT * FROM files {where} ORDER BY seq {direction} LIMIT ?", (*args, limit + 1)
        )
        return [_file_object(r) for r in rows[:limit]], len(rows) > limit

    def expired_files(self, at: int) -> list[str]:
        rows = self.query_all(
            "SELECT id FROM files WHERE expires_at IS NOT NULL AND expires_at <= ?", (at,)
        )
        return [str(r["id"]) for r in rows]

    def active_jobs_using(self, file_id: str) -> list[str]:
        rows = self.query_all(
            "SELECT id FROM jobs WHERE (training_file = ? OR validation_file = ?)"
            " AND status IN ('validating_files', 'queued', 'running', 'paused') ORDER BY seq",
            (file_id, file_id),
        )
        return [str(r["id"]) for r in rows]

    def delete_file(self, file_id: str) -> bool:
        with self.transaction() as conn:
            return conn.execute("DELETE FROM files WHERE id = ?", (file_id,)).rowcount > 0

    # ---- jobs --------------------------------------------------------------------------------

    def add_job(
        self,
        *,
        model: str,
        training_file: str,
        validation_file: str | None,
        hyperparameters: dict[str, Any],
        method: dict[str, Any],
        seed: int,
        suffix: str | None,
        metadata: dict[str, str] | None,
        integrations: list[Any] | None,
        events: Sequence[str] = (),
    ) -> dict[str, Any]:
        """Insert a job and its first `events` in one transaction: all of it or nothing."""
        job_id = ids.job_id()
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO jobs (id, created_at, model, training_file, validation_file, status,"
                " hyperparameters, method, seed, suffix, metadata, integrations, result_files)"
                " VALUES (?, ?, ?, ?, ?, 'validating_files', ?, ?, ?, ?, ?, ?, '[]')",
                (
                    job_id,
                    now(),
                    model,
                    training_file,
                    validation_file,
                    _dumps(hyperparameters),
                    _dumps(method),
                    seed,
                    suffix,
                    _dumps(metadata),
                    _dumps(integrations),
                ),
            )
            for message in events:
                conn.execute(
                    "INSERT INTO events (id, job_id, created_at, level, message, type, data)"
                    " VALUES (?, ?, ?, 'info', ?, 'message', '{}')",
                    (ids.event_id(), job_id, now(), message.replace("{job_id}", job_id)),
                )
        found = self.get_job(job_id)
        assert found is not None
        return found

    def get_job(self, job_id: str) -> dict[str, Any] | None:
        row = self.query_one("SELECT * FROM jobs WHERE id = ?", (job_id,))
        return None if row is None else _job_object(row)

    def job_resume_dir(self, job_id: str) -> str | None:
        row = self.query_one("SELECT resume_dir FROM jobs WHERE id = ?", (job_id,))
        return None if row is None else row["resume_dir"]

    def list_jobs(
        self, *, after: str | None, limit: int, metadata: dict[str, str] | None, no_metadata: bool
    ) -> tuple[list[dict[str, Any]], bool] | None:
        """Newest first; `metadata` keeps jobs carrying all those pairs; None for a bad cursor."""
        args: list[Any] = []
        where = ""
        if after:
            seq = self._seq_of("jobs", after)
            if seq is None:
                return None
            where = "WHERE seq < ?"
            args.append(seq)
        jobs = [
            _job_object(r)
            for r in self.query_all(f"SELECT * FROM jobs {where} ORDER BY seq DESC", args)
        ]
        if no_metadata:
            jobs = [j for j in jobs if not j["metadata"]]
        elif metadata:
            jobs = [
                j
                for j in jobs
                if all((j["metadata"] or {}).get(k) == v for k, v in metadata.items())
            ]
        return jobs[:limit], len(jobs) > limit

    def jobs_with_status(self, *statuses: str) -> list[str]:
        marks = ",".join("?" for _ in statuses)
        rows = self.query_all(
            f"SELECT id FROM jobs WHERE status IN ({marks}) ORDER BY seq", statuses
        )
        return [str(r["id"]) for r in rows]

    def update_job(self, job_id: str, **fields: Any) -> None:
        """Set columns; dict/list values are stored as JSON."""
        if not fields:
            return
        names = ", ".join(f"{name} = ?" for name in fields)
        values = [_dumps(v) if k in _JSON_COLUMNS else v for k, v in fields.items()]
        with self.transaction() as conn:
            conn.execute(f"UPDATE jobs SET {names} WHERE id = ?", (*values, job_id))

    def transition(self, job_id: str, allowed_from: Sequence[str], **fields: Any) -> bool:
        """Update a job only if its status is still one of `allowed_from` (atomic)."""
        names = ", ".join(f"{name} = ?" for name in fields)
        values = [_dumps(v) if k in _JSON_COLUMNS else v for k, v in fields.items()]
        marks = ",".join("?" for _ in allowed_from)
        with self.transaction() as conn:
            cursor = conn.execute(
                f"UPDATE jobs SET {names} WHERE id = ? AND status IN ({marks})",
                (*values, job_id, *allowed_from),
            )
            return cursor.rowcount > 0

    # ---- events ------------------------------------------------------------------------------

    def add_event(
        self,
        job_id: str,
        message: str,
        *,
        level: str = "info",
        type: str = "message",  # noqa: A002 - OpenAI's field name
        data: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        event_id = ids.event_id()
        created = now()
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO events (id, job_id, created_at, level, message, type, data)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (event_id, job_id, created, level, message, type, _dumps(data if data else {})),
            )
        return _event_object(
            {"id": event_id, "created_at": created, "level": level, "message": message}
            | {"type": type, "data": _dumps(data if data else {})}
        )

    def list_events(
        self, job_id: str, *, after: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], bool] | None:
        """Newest first; `after` pages back in time; None for a bad cursor."""
        page = self._job_page("events", job_id, after, limit)
        return None if page is None else ([_event_object(r) for r in page[0]], page[1])

    def _job_page(
        self, table: str, job_id: str, after: str | None, limit: int
    ) -> tuple[list[sqlite3.Row], bool] | None:
        """One page of a job's rows in `table`, newest first, as OpenAI pages events and
        checkpoints: (rows, has_more), or None when `after` names no row."""
        args: list[Any] = [job_id]
        cursor = ""
        if after:
            seq = self._seq_of(table, after)
            if seq is None:
                return None
            cursor = "AND seq < ?"
            args.append(seq)
        rows = self.query_all(
            f"SELECT * FROM {table} WHERE job_id = ? {cursor} ORDER BY seq DESC LIMIT ?",
            (*args, limit + 1),
        )
        return rows[:limit], len(rows) > limit

    def metrics_data(self, job_id: str) -> list[dict[str, Any]]:
        """`data` of every metrics event of a job, oldest first (for the result CSV)."""
        rows = self.query_all(
            "SELECT data FROM events WHERE job_id = ? AND type = 'metrics' ORDER BY seq", (job_id,)
        )
        return [dict(_loads(r["data"]) or {}) for r in rows]

    # ---- checkpoints and models --------------------------------------------------------------

    def add_checkpoint(
        self, job_id: str, *, step: int, metrics: dict[str, float], model: str
    ) -> dict[str, Any]:
        checkpoint_id = ids.checkpoint_id()
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO checkpoints (id, job_id, created_at, step_number, metrics, model)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (checkpoint_id, job_id, now(), step, _dumps(metrics), model),
            )
        row = self.query_one("SELECT * FROM checkpoints WHERE id = ?", (checkpoint_id,))
        assert row is not None
        return _checkpoint_object(row)

    def list_checkpoints(
        self, job_id: str, *, after: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], bool] | None:
        page = self._job_page("checkpoints", job_id, after, limit)
        return None if page is None else ([_checkpoint_object(r) for r in page[0]], page[1])

    def prune_checkpoints(self, job_id: str, *, keep: int) -> None:
        """Drop all but the newest `keep` checkpoints of a job, with their models."""
        with self.transaction() as conn:
            doomed = conn.execute(
                "SELECT id, model FROM checkpoints WHERE job_id = ?"
                " ORDER BY seq DESC LIMIT -1 OFFSET ?",
                (job_id, keep),
            ).fetchall()
            for row in doomed:
                conn.execute("DELETE FROM checkpoints WHERE id = ?", (row["id"],))
                conn.execute("DELETE FROM models WHERE id = ?", (row["model"],))

    def add_model(
        self, model_id: str, *, base: str, job_id: str, adapter_dir: str, step: int | None
    ) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO models (id, created, base, job_id, step, adapter_dir)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (model_id, now(), base, job_id, step, adapter_dir),
            )

    def get_model(self, model_id: str) -> dict[str, Any] | None:
        row = self.query_one("SELECT * FROM models WHERE id = ?", (model_id,))
        return None if row is None else dict(row)

    def list_models(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.query_all("SELECT * FROM models ORDER BY seq")]

    def delete_model(self, model_id: str) -> bool:
        with self.transaction() as conn:
            return conn.execute("DELETE FROM models WHERE id = ?", (model_id,)).rowcount > 0


def _file_object(row: sqlite3.Row) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": row["id"],
        "object": "file",
        "bytes": row["bytes"],
        "created_at": row["created_at"],
        "filename": row["filename"],
        "purpose": row["purpose"],
        "status": row["status"],
    }
    if row["expires_at"] is not None:
        body["expires_at"] = row["expires_at"]
    return body


def _job_object(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "object": "fine_tuning.job",
        "created_at": row["created_at"],
        "model": row["model"],
        "organization_id": ORGANIZATION,
        "training_file": row["training_file"],
        "validation_file": row["validation_file"],
        "status": row["status"],
        "error": _loads(row["error"]),
        "fine_tuned_model": row["fine_tuned_model"],
        "finished_at": row["finished_at"],
        "hyperparameters": _loads(row["hyperparameters"]),
        "method": _loads(row["method"]),
        "seed": row["seed"],
        "user_provided_suffix": row["suffix"],
        "metadata": _loads(row["metadata"]),
        "integrations": _loads(row["integrations"]),
        "trained_tokens": row["trained_tokens"],
        "estimated_finish": row["estimated_finish"],
        "result_files": _loads(row["result_files"]) or [],
    }


def _event_object(row: sqlite3.Row | dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "object": "fine_tuning.job.event",
        "created_at": row["created_at"],
        "level": row["level"],
        "message": row["message"],
        "type": row["type"],
        "data": _loads(row["data"]) or {},
    }


def _checkpoint_object(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "object": "fine_tuning.job.checkpoint",
        "created_at": row["created_at"],
        "fine_tuned_model_checkpoint": row["model"],
        "fine_tuning_job_id": row["job_id"],
        "step_number": row["step_number"],
        "metrics": _loads(row["metrics"]) or {},
    }
