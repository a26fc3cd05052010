"""Eval runs and their rows in SQLite (`tui.config.data_dir()/eval.sqlite`).

Each finished row is committed on its own, so a run killed at any moment keeps every row it
finished and `run_eval(..., resume_run_id=…)` asks only for the rest.

    store = EvalStore()                       # or EvalStore(path) in tests
    run_id = store.create_run(spec)
    store.save_row(run_id, row)               # one committed transaction per row
    store.done_lines(run_id)                  # {1, 2, 5, …}
    store.get_run(run_id)                     # RunSummary with aggregates of the rows so far

A run whose process died while it was `running` (killed, crashed) reads as `cancelled`: it can
be resumed. Thread-safe (one connection behind a lock), synchronous; each call takes a few
milliseconds.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import orjson

from tui import config
from tui.services.eval.summary import summarize
from tui.services.eval.types import (
    RUN_STATUSES,
    Answer,
    EvalError,
    EvalSpec,
    RowResult,
    RunStatus,
    RunSummary,
)
from tui.services.local_server import pid_alive

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, dataset TEXT NOT NULL, created_at REAL NOT NULL,
    status TEXT NOT NULL, examples INTEGER NOT NULL, spec BLOB NOT NULL,
    profiles BLOB NOT NULL, pid INTEGER);
CREATE TABLE IF NOT EXISTS rows (
    run_id TEXT NOT NULL, line INTEGER NOT NULL, json BLOB NOT NULL,
    PRIMARY KEY (run_id, line)) WITHOUT ROWID;
"""


def default_store_path() -> Path:
    return config.data_dir() / "eval.sqlite"


def new_run_id(now: float | None = None) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return f"eval-{stamp}-{secrets.token_hex(2)}"


def _row_to_blob(row: RowResult) -> bytes:
    return orjson.dumps(
        {
            "prompt": row.prompt,
            "reference": row.reference,
            "answers": {k: a.to_dict() for k, a in row.answers.items()},
            "judge": row.judge,
        }
    )


def _row_from_blob(line: int, blob: bytes) -> RowResult:
    data = orjson.loads(blob)
    return RowResult(
        line=line,
        prompt=data["prompt"],
        reference=data["reference"],
        answers={k: Answer.from_dict(v) for k, v in data["answers"].items()},
        judge=data.get("judge"),
    )


T = TypeVar("T")


def _retry_when_locked(step: Callable[[], T], attempts: int = 50) -> T:
    for attempt in range(attempts):
        try:
            return step()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.02 + 0.01 * attempt)
    raise AssertionError("attempts must be at least 1")


class EvalStore:
    def __init__(self, path: Path | None = None) -> None:
        self.path = default_store_path() if path is None else path
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA busy_timeout=5000")
            row = _retry_when_locked(self._prepare)
            if row is None or row[0] != str(SCHEMA_VERSION):
                found = row[0] if row else None
                raise sqlite3.DatabaseError(f"schema version {found}, expected {SCHEMA_VERSION}")
        except (OSError, sqlite3.Error) as exc:
            raise EvalError(
                f"cannot open the eval store {self.path}: {exc}",
                "move the file away to start a fresh store",
            ) from None

    def _prepare(self) -> tuple[Any, ...] | None:
        """WAL, the schema and its version. Two openers of a new file (the app and a CLI run)
        may get here at once: the version row is inserted once, and switching to WAL can be
        refused while the other switches (SQLite answers 'locked' without waiting)."""
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
        found: tuple[Any, ...] | None = self._db.execute(
            "SELECT value FROM meta WHERE key='schema'"
        ).fetchone()
        return found

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- runs -----------------------------------------------------------------------------------
    def create_run(
        self,
        spec: EvalSpec,
        *,
        examples: int = 0,
        profiles: dict[str, tuple[str | None, bool]] | None = None,
    ) -> str:
        """A new run in status `running`. `profiles`: label → (profile name, is local)."""
        run_id = new_run_id()
        resolved = {k: list(v) for k, v in (profiles or {}).items()}
        with self._lock:
            self._db.execute(
                "INSERT INTO runs VALUES (?, ?, ?, 'running', ?, ?, ?, ?)",
                (
                    run_id,
                    str(spec.dataset),
                    time.time(),
                    examples,
                    orjson.dumps(spec.to_dict()),
                    orjson.dumps(resolved),
                    os.getpid(),
                ),
            )
        return run_id

    def set_status(self, run_id: str, status: RunStatus, *, examples: int | None = None) -> None:
        if status not in RUN_STATUSES:
            raise ValueError(f"unknown run status {status!r}")
        with self._lock:
            if examples is None:
                cur = self._db.execute(
                    "UPDATE runs SET status=?, pid=? WHERE run_id=?", (status, os.getpid(), run_id)
                )
            else:
                cur = self._db.execute(
                    "UPDATE runs SET status=?, examples=?, pid=? WHERE run_id=?",
                    (status, examples, os.getpid(), run_id),
                )
        if cur.rowcount != 1:
            raise EvalError(f"no eval run {run_id!r}")

    def set_profiles(self, run_id: str, profiles: dict[str, tuple[str | None, bool]]) -> None:
        blob = orjson.dumps({k: list(v) for k, v in profiles.items()})
        with self._lock:
            self._db.execute("UPDATE runs SET profiles=? WHERE run_id=?", (blob, run_id))

    def _meta(self, run_id: str) -> tuple[Any, ...]:
        with self._lock:
            row = self._db.execute(
                "SELECT run_id, dataset, created_at, status, examples, spec, profiles, pid "
                "FROM runs WHERE run_id=?",
                (run_id,),
            ).fetchone()
        if row is None:
            raise EvalError(f"no eval run {run_id!r}", "`ft-tui eval` lists nothing; check the id")
        return tuple(row)

    def spec(self, run_id: str) -> EvalSpec:
        return EvalSpec.from_dict(orjson.loads(self._meta(run_id)[5]))

    def _summary(self, meta: tuple[Any, ...], rows: list[RowResult]) -> RunSummary:
        run_id, dataset, created_at, status, examples, spec_blob, prof_blob, pid = meta
        if status == "running" and pid != os.getpid() and not pid_alive(int(pid or 0)):
            status = "cancelled"  # its process died (killed, crashed): resumable
        spec = EvalSpec.from_dict(orjson.loads(spec_blob))
        profiles = {k: (v[0], bool(v[1])) for k, v in orjson.loads(prof_blob).items()}
        models, pairwise = summarize(spec, rows, profiles)
        return RunSummary(
            run_id=run_id,
            dataset=dataset,
            created_at=float(created_at),
            status=status,
            examples=int(examples),
            done_rows=len(rows),
            spec=spec,
            models=models,
            pairwise=pairwise,
        )

    def get_run(self, run_id: str) -> RunSummary:
        """The run with aggregates over the rows stored so far. Raises `EvalError`."""
        meta = self._meta(run_id)
        return self._summary(meta, self.rows(run_id))

    def get_run_meta(self, run_id: str) -> RunSummary:
        """The run without reading its rows (no aggregates, `done_rows` 0)."""
        return self._summary(self._meta(run_id), [])

    def list_runs(self) -> list[RunSummary]:
        """Every run, newest first."""
        with self._lock:
            ids = [
                r[0] for r in self._db.execute("SELECT run_id FROM runs ORDER BY created_at DESC")
            ]
        return [self.get_run(run_id) for run_id in ids]

    def delete_run(self, run_id: str) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM rows WHERE run_id=?", (run_id,))
            self._db.execute("DELETE FROM runs WHERE run_id=?", (run_id,))
            self._db.execute("COMMIT")

    # -- rows -----------------------------------------------------------------------------------
    def save_row(self, run_id: str, row: RowResult) -> None:
        """Store one finished row (replacing an earlier copy of the same line)."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO rows VALUES (?, ?, ?)",
                (run_id, row.line, _row_to_blob(row)),
            )

    def rows(self, run_id: str) -> list[RowResult]:
        """The finished rows in line order."""
        with self._lock:
            found = self._db.execute(
                "SELECT line, json FROM rows WHERE run_id=? ORDER BY line", (run_id,)
            ).fetchall()
        return [_row_from_blob(int(line), blob) for line, blob in found]

    def done_lines(self, run_id: str) -> set[int]:
        with self._lock:
            found = self._db.execute("SELECT line FROM rows WHERE run_id=?", (run_id,)).fetchall()
        return {int(r[0]) for r in found}
