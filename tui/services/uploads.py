"""Upload a (linted) dataset file for fine-tuning, with progress.

    uploader = Uploader(app.connection)
    uploaded = await uploader.upload(Path("train.jsonl"), on_progress=bar.update)
    uploaded.id                                         # "file-…", ready for JobSpec

Files up to `multipart_threshold` (512 MB, the Files API limit) go in one `files.create`
request (progress: 0 %, then 100 %). Bigger files use the Uploads API: `uploads.create`, then
parts of `part_size` (64 MB) one after another with a progress callback after each, then
`uploads.complete` with the parts in order and an MD5 of the whole file. A failure or a
cancellation (`asyncio.CancelledError`) cancels the pending upload on the server. Both
thresholds are constructor arguments so tests can exercise the parts path with small files.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from tui.services.errors import ServiceError

if TYPE_CHECKING:
    from tui.core.lint.report import LintReport
    from tui.services.connection import Connection

SINGLE_REQUEST_LIMIT = 512 * 1024 * 1024
PART_SIZE = 64 * 1024 * 1024
UPLOAD_LIMIT = 8 * 1024 * 1024 * 1024
Purpose = Literal["fine-tune", "batch", "assistants", "vision", "user_data", "evals"]


async def lint_before_upload(path: Path, model: str | None = None) -> LintReport:
    """Lint a dataset the way every upload does first (the rules of the Datasets screen and
    `ft-tui lint`, for `model`'s tokenizer and limits), in a thread. Errors block an upload,
    warnings need the user's yes: callers decide how to ask. Raises `LintFailed` when the file
    cannot be read."""
    from tui.core.lint import lint_path

    return await asyncio.to_thread(lint_path, path, model=model)


class UploadError(ServiceError):
    """The file cannot be uploaded as it is; the message says why."""

    title = "Cannot upload"


@dataclass(frozen=True)
class UploadProgress:
    sent: int
    total: int
    parts_done: int
    parts: int
    phase: Literal["uploading", "completing", "done"]

    @property
    def fraction(self) -> float:
        return 1.0 if self.total == 0 else self.sent / self.total


@dataclass(frozen=True)
class UploadedFile:
    id: str
    filename: str
    bytes: int
    purpose: str
    status: str | None

    @classmethod
    def from_sdk(cls, obj: Any) -> UploadedFile:
        return cls(
            id=str(obj.id),
            filename=str(obj.filename),
            bytes=int(obj.bytes),
            purpose=str(obj.purpose),
            status=str(obj.status) if getattr(obj, "status", None) else None,
        )


ProgressCallback = Callable[[UploadProgress], None]


class Uploader:
    def __init__(
        self,
        connection: Connection,
        *,
        multipart_threshold: int = SINGLE_REQUEST_LIMIT,
        part_size: int = PART_SIZE,
    ) -> None:
        if part_size <= 0 or part_size > PART_SIZE:
            raise ValueError("part_size must be between 1 byte and 64 MB")
        self.connection = connection
        self.multipart_threshold = multipart_threshold
        self.part_size = part_size

    def check(self, path: Path, purpose: str) -> int:
        """The file's size, or `UploadError` when it cannot be uploaded."""
        try:
            stat = path.stat()
        except FileNotFoundError:
            raise UploadError(f"{path} does not exist") from None
        except OSError as exc:
            raise UploadError(f"cannot read {path}: {exc.strerror}") from None
        if not path.is_file():
            raise UploadError(f"{path} is not a file")
        if stat.st_size == 0:
            raise UploadError(f"{path} is empty")
        if stat.st_size > UPLOAD_LIMIT:
            raise UploadError(
                f"{path} is {stat.st_size / 1024**3:.1f} GB; the limit is 8 GB", "split the dataset"
            )
        if purpose == "fine-tune" and path.suffix.lower() != ".jsonl":
            raise UploadError(
                f"{path.name}: fine-tuning accepts only .jsonl files",
                "convert it first: ft-tui convert",
            )
        return stat.st_size

    async def upload(
        self,
        path: Path,
        *,
        purpose: Purpose = "fine-tune",
        on_progress: ProgressCallback | None = None,
    ) -> UploadedFile:
        size = self.check(path, purpose)

        def report(progress: UploadProgress) -> None:
            if on_progress is not None:
                on_progress(progress)

        client = await self.connection.client()
        try:
            if size <= self.multipart_threshold:
                report(UploadProgress(0, size, 0, 1, "uploading"))
                content = await asyncio.to_thread(path.read_bytes)
                created = await client.files.create(file=(path.name, content), purpose=purpose)
                result = UploadedFile.from_sdk(created)
                report(UploadProgress(size, size, 1, 1, "done"))
            else:
                result = await self._upload_parts(path, size, purpose, report)
        except (asyncio.CancelledError, ServiceError, OSError):
            raise
        except Exception as exc:
            self.connection.report_failure(exc)
            raise
        self.connection.report_success()
        return result

    async def _upload_parts(
        self, path: Path, size: int, purpose: Purpose, report: ProgressCallback
    ) -> UploadedFile:
        client = await self.connection.client()
        parts = -(-size // self.part_size)
        upload = await client.uploads.create(
            bytes=size, filename=path.name, mime_type="text/jsonl", purpose=purpose
        )
        report(UploadProgress(0, size, 0, parts, "uploading"))
        try:
            digest = hashlib.md5(usedforsecurity=False)
            part_ids: list[str] = []
            sent = 0
            with open(path, "rb") as handle:
                while sent < size:
                    chunk = await asyncio.to_thread(handle.read, self.part_size)
                    if not chunk:
                        raise UploadError(f"{path} shrank while it was being uploaded")
                    digest.update(chunk)
                    part = await client.uploads.parts.create(upload.id, data=chunk)
                    part_ids.append(part.id)
                    sent += len(chunk)
                    report(UploadProgress(sent, size, len(part_ids), parts, "uploading"))
            report(UploadProgress(size, size, parts, parts, "completing"))
            done = await client.uploads.complete(
                upload.id, part_ids=part_ids, md5=digest.hexdigest()
            )
        except BaseException:
            with contextlib.suppress(Exception):
                await asyncio.shield(client.uploads.cancel(upload.id))
            raise
        if done.file is None:
            raise UploadError(f"the server completed upload {upload.id} without a file")
        report(UploadProgress(size, size, parts, parts, "done"))
        return UploadedFile.from_sdk(done.file)
