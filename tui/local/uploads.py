"""Uploads API records (large files in parts): pending uploads, their parts, and assembly.

Parts live in `<data_dir>/files/.uploads/<upload-id>/<part-id>` until `complete` joins them,
in the order the client names, into an ordinary file (`files/<file-id>`)."""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path
from typing import Any

from tui.local import ids
from tui.local.store import Store

UPLOAD_TTL_S = 3600  # OpenAI: an upload expires an hour after it was created
MAX_UPLOAD_BYTES = 8 * 1024**3
MAX_PART_BYTES = 64 * 1024**2


class UploadRecords:
    def __init__(self, store: Store, files_dir: Path) -> None:
        self._store = store
        self.parts_root = files_dir / ".uploads"

    def parts_dir(self, upload_id: str) -> Path:
        return self.parts_root / upload_id

    def create(self, *, size: int, filename: str, purpose: str, mime_type: str) -> dict[str, Any]:
        upload_id = "upload_" + ids.random_token(24)
        created = int(time.time())
        with self._store.transaction() as conn:
            conn.execute(
                "INSERT INTO uploads (id, created_at, expires_at, bytes, filename, purpose,"
                " mime_type, status) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')",
                (upload_id, created, created + UPLOAD_TTL_S, size, filename, purpose, mime_type),
            )
        found = self.get(upload_id)
        assert found is not None
        return found

    def get(self, upload_id: str) -> dict[str, Any] | None:
        """The upload object (its `file` filled once completed); expiry is applied on read."""
        row = self._store.query_one("SELECT * FROM uploads WHERE id = ?", (upload_id,))
        if row is None:
            return None
        if row["status"] == "pending" and row["expires_at"] <= time.time():
            self.set_status(upload_id, "expired")
            return self.get(upload_id)
        body: dict[str, Any] = {
            "id": row["id"],
            "object": "upload",
            "bytes": row["bytes"],
            "created_at": row["created_at"],
            "expires_at": row["expires_at"],
            "filename": row["filename"],
            "purpose": row["purpose"],
            "status": row["status"],
            "file": self._store.get_file(row["file_id"]) if row["file_id"] else None,
        }
        return body

    def set_status(self, upload_id: str, status: str, file_id: str | None = None) -> None:
        with self._store.transaction() as conn:
            conn.execute(
                "UPDATE uploads SET status = ?, file_id = ? WHERE id = ?",
                (status, file_id, upload_id),
            )
        if status != "pending":
            shutil.rmtree(self.parts_dir(upload_id), ignore_errors=True)

    def received_bytes(self, upload_id: str) -> int:
        row = self._store.query_one(
            "SELECT COALESCE(SUM(bytes), 0) AS total FROM upload_parts WHERE upload_id = ?",
            (upload_id,),
        )
        return int(row["total"]) if row is not None else 0

    def add_part(self, upload_id: str, part_id: str, size: int) -> dict[str, Any]:
        created = int(time.time())
        with self._store.transaction() as conn:
            conn.execute(
                "INSERT INTO upload_parts (id, upload_id, created_at, bytes) VALUES (?, ?, ?, ?)",
                (part_id, upload_id, created, size),
            )
        return {
            "id": part_id,
            "object": "upload.part",
            "created_at": created,
            "upload_id": upload_id,
        }

    def part_sizes(self, upload_id: str) -> dict[str, int]:
        rows = self._store.query_all(
            "SELECT id, bytes FROM upload_parts WHERE upload_id = ?", (upload_id,)
        )
        return {str(r["id"]): int(r["bytes"]) for r in rows}

    def assemble(self, upload_id: str, part_ids: list[str], target: Path) -> str:
        """Join the parts in order into `target`; returns the MD5 hex digest of the result."""
        digest = hashlib.md5(usedforsecurity=False)
        with target.open("wb") as out:
            for part_id in part_ids:
                with (self.parts_dir(upload_id) / part_id).open("rb") as part:
                    while chunk := part.read(1024 * 1024):
                        digest.update(chunk)
                        out.write(chunk)
        return digest.hexdigest()
