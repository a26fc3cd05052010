"""Export objects in the server's SQLite store (table `exports`, schema v3 of `tui.local.store`).

An export object, as the API answers it::

    {"id": "export-…", "object": "export", "created_at": …, "model": "ft:…", "format": "gguf",
     "quantization": "f16", "status": "queued|running|succeeded|failed", "progress": 0.0-1.0,
     "stage": "merging the adapter", "error": null | {"code", "message"}, "finished_at": …,
     "files": ["README.md", "model.gguf"], "bytes": 123, "converter": "gguf-py 0.19.0"}
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from tui.local import ids
from tui.local.store import Store, now

ACTIVE = ("queued", "running")
RESTARTED = "The server stopped while this export ran; start the export again."


def export_id() -> str:
    return "export-" + ids.random_token(24)


class ExportRecords:
    def __init__(self, store: Store) -> None:
        self._store = store

    def create(self, model: str, fmt: str, options: dict[str, Any]) -> dict[str, Any]:
        new_id = export_id()
        with self._store.transaction() as conn:
            conn.execute(
                "INSERT INTO exports (id, created_at, model, format, status, progress, stage,"
                " options) VALUES (?, ?, ?, ?, 'queued', 0, 'queued', ?)",
                (new_id, now(), model, fmt, json.dumps(options)),
            )
        found = self.get(new_id)
        assert found is not None
        return found

    def get(self, export_id: str) -> dict[str, Any] | None:
        row = self._store.query_one("SELECT * FROM exports WHERE id = ?", (export_id,))
        return None if row is None else _object(row)

    def result_dir(self, export_id: str) -> str | None:
        row = self._store.query_one("SELECT result_dir FROM exports WHERE id = ?", (export_id,))
        return None if row is None else row["result_dir"]

    def progress(self, export_id: str, fraction: float, stage: str) -> None:
        with self._store.transaction() as conn:
            conn.execute(
                "UPDATE exports SET status = 'running', progress = ?, stage = ?"
                " WHERE id = ? AND status IN ('queued', 'running')",
                (max(0.0, min(1.0, fraction)), stage, export_id),
            )

    def succeed(
        self, export_id: str, *, result_dir: str, files: list[str], size: int, converter: str
    ) -> None:
        with self._store.transaction() as conn:
            conn.execute(
                "UPDATE exports SET status = 'succeeded', progress = 1, stage = 'done',"
                " finished_at = ?, result_dir = ?, files = ?, bytes = ?, converter = ?"
                " WHERE id = ?",
                (now(), result_dir, json.dumps(files), size, converter or None, export_id),
            )

    def fail(self, export_id: str, code: str, message: str) -> None:
        error = json.dumps({"code": code, "message": message})
        with self._store.transaction() as conn:
            conn.execute(
                "UPDATE exports SET status = 'failed', stage = 'failed', error = ?,"
                " finished_at = ? WHERE id = ?",
                (error, now(), export_id),
            )

    def fail_unfinished(self) -> list[str]:
        """At start: exports a previous server process left running can never finish."""
        rows = self._store.query_all("SELECT id FROM exports WHERE status IN ('queued', 'running')")
        for row in rows:
            self.fail(str(row["id"]), "server_restarted", RESTARTED)
        return [str(r["id"]) for r in rows]

    def delete(self, export_id: str) -> bool:
        with self._store.transaction() as conn:
            return conn.execute("DELETE FROM exports WHERE id = ?", (export_id,)).rowcount > 0


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _object(row: sqlite3.Row) -> dict[str, Any]:
    options = _loads(row["options"]) or {}
    return {
        "id": row["id"],
        "object": "export",
        "created_at": row["created_at"],
        "model": row["model"],
        "format": row["format"],
        "quantization": options.get("quantization"),
        "status": row["status"],
        "progress": float(row["progress"]),
        "stage": row["stage"],
        "error": _loads(row["error"]),
        "finished_at": row["finished_at"],
        "files": _loads(row["files"]) or [],
        "bytes": row["bytes"],
        "converter": row["converter"],
    }
