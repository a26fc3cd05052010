"""Remote files on any OpenAI-compatible backend: paged listing, a bounded content preview,
download to a local path and delete. No Textual.

Result files of fine-tuning jobs may arrive base64-encoded (the official function-calling cookbook
decodes them before printing); preview and download detect that and decode on the fly, so the user
sees and saves the CSV itself. Content is always streamed: a preview reads a bounded prefix and
closes the stream, a download writes chunk by chunk into a temporary file that replaces the
destination only once it is complete.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from tui.core.byte_sizes import human_size as human_size  # screens import it from here
from tui.core.job_status import is_terminal
from tui.services.errors import ServiceError
from tui.services.file_content import (
    PREVIEW_BYTES,
    PREVIEW_LINES,
    DecodingSink,
    FilePreview,
    preview_from_bytes,
)

if TYPE_CHECKING:
    from openai import AsyncOpenAI

PURPOSES = (
    "fine-tune",
    "fine-tune-results",
    "batch",
    "batch_output",
    "assistants",
    "assistants_output",
    "vision",
    "user_data",
    "evals",
)


class FileActionError(ServiceError):
    """A files action that cannot go ahead; the message says why, the hint what to do."""


class DestinationExists(FileActionError):
    """The download target exists and the caller did not allow overwriting it."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} already exists", "choose another path or confirm overwrite")
        self.path = path


@dataclass(frozen=True)
class RemoteFile:
    id: str
    filename: str
    purpose: str
    bytes: int
    created_at: int
    status: str
    status_details: str | None = None
    expires_at: int | None = None

    @classmethod
    def from_sdk(cls, obj: Any) -> RemoteFile:
        return cls(
            id=str(obj.id),
            filename=str(getattr(obj, "filename", "") or ""),
            purpose=str(getattr(obj, "purpose", "") or ""),
            bytes=int(getattr(obj, "bytes", 0) or 0),
            created_at=int(getattr(obj, "created_at", 0) or 0),
            status=str(getattr(obj, "status", "") or ""),
            status_details=getattr(obj, "status_details", None),
            expires_at=getattr(obj, "expires_at", None),
        )


@dataclass
class FileListing:
    """Files loaded so far, page by page. `complete` turns true after the last page."""

    purpose: str | None = None
    files: list[RemoteFile] = field(default_factory=list)
    complete: bool = False
    cursor: str | None = None

    seen: set[str] = field(default_factory=set)

    def add_page(self, page: list[RemoteFile], has_more: bool) -> list[RemoteFile]:
        """Append a page, skipping ids already seen and files of another purpose.

        A page with nothing new ends the listing: a server that ignores `after` would otherwise
        hand back the same page forever.
        """
        unseen = [f for f in page if f.id not in self.seen]
        self.seen.update(f.id for f in unseen)
        fresh = [f for f in unseen if self.purpose in (None, f.purpose)]
        self.files.extend(fresh)
        if page:
            self.cursor = page[-1].id
        self.complete = not has_more or not unseen
        return fresh


@dataclass(frozen=True)
class DownloadResult:
    path: Path
    bytes_written: int
    decoded_base64: bool


async def _content_chunks(client: AsyncOpenAI, file_id: str) -> AsyncGenerator[bytes, None]:
    async with client.files.with_streaming_response.content(file_id) as response:
        async for chunk in response.iter_bytes():
            yield chunk


class FilesService:
    """Files of one backend, through the `openai` SDK's async client."""

    def __init__(
        self, client: AsyncOpenAI, *, page_size: int = 1000, first_page_size: int = 100
    ) -> None:
        self.client = client
        self.page_size = page_size
        # A small first page paints quickly; bigger later pages mean fewer requests and repaints.
        self.first_page_size = min(first_page_size, page_size)

    async def pages(self, listing: FileListing) -> AsyncIterator[list[RemoteFile]]:
        """Fetch the remaining pages of `listing` (newest first), yielding each new page."""
        while not listing.complete:
            size = self.page_size if listing.cursor else self.first_page_size
            kwargs: dict[str, Any] = {"limit": size, "order": "desc"}
            if listing.purpose:
                kwargs["purpose"] = listing.purpose
            if listing.cursor:
                kwargs["after"] = listing.cursor
            page = await self.client.files.list(**kwargs)
            items = [RemoteFile.from_sdk(obj) for obj in page.data]
            fresh = listing.add_page(items, bool(getattr(page, "has_more", False)))
            yield fresh

    async def newest(self, purpose: str | None = None) -> list[RemoteFile]:
        """The first page (newest files), for a cheap "anything new?" check."""
        kwargs: dict[str, Any] = {"limit": self.first_page_size, "order": "desc"}
        if purpose:
            kwargs["purpose"] = purpose
        page = await self.client.files.list(**kwargs)
        files = [RemoteFile.from_sdk(obj) for obj in page.data]
        return [f for f in files if purpose in (None, f.purpose)]

    async def retrieve(self, file_id: str) -> RemoteFile:
        return RemoteFile.from_sdk(await self.client.files.retrieve(file_id))

    async def preview(
        self,
        file: RemoteFile,
        *,
        max_bytes: int = PREVIEW_BYTES,
        max_lines: int = PREVIEW_LINES,
    ) -> FilePreview:
        """The first lines of a file, reading at most `max_bytes` of its content stream."""
        buffer = bytearray()
        complete = True
        chunks = _content_chunks(self.client, file.id)
        try:
            async for chunk in chunks:
                buffer.extend(chunk)
                if len(buffer) > max_bytes:
                    complete = False
                    break
        finally:
            await chunks.aclose()
        data = bytes(buffer[:max_bytes])
        return preview_from_bytes(file.id, data, complete=complete, max_lines=max_lines)

    async def download(
        self,
        file: RemoteFile,
        destination: Path,
        *,
        overwrite: bool = False,
        decode: bool = True,
        progress: Callable[[int, int], None] | None = None,
    ) -> DownloadResult:
        """Stream a file to `destination` (a directory means `<dir>/<filename>`).

        Never overwrites an existing file unless `overwrite`; a failed download leaves no partial
        file behind. Base64 content is decoded when `decode` is true.
        """
        target = resolve_destination(destination, file)
        if target.exists() and not overwrite:
            raise DestinationExists(target)
        if not target.parent.is_dir():
            raise FileActionError(
                f"folder {target.parent} does not exist", "create it first or pick another path"
            )
        handle, temp_name = _open_partial(target)
        sink = DecodingSink(decode)
        received = 0
        try:
            with os.fdopen(handle, "wb") as out:
                async for chunk in _content_chunks(self.client, file.id):
                    received += len(chunk)
                    out.write(sink.feed(chunk))
                    if progress:
                        progress(received, file.bytes)
                out.write(sink.finish())
            if target.exists():
                os.chmod(temp_name, target.stat().st_mode & 0o777)  # replacing keeps the mode
            os.replace(temp_name, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
            raise
        return DownloadResult(target, sink.written, sink.decoded)

    async def delete(self, file_id: str) -> bool:
        result = await self.client.files.delete(file_id)
        return bool(getattr(result, "deleted", True))

    async def jobs_using(self, file_id: str, *, max_jobs: int = 200) -> list[str]:
        """Ids of unfinished jobs that train or validate on `file_id` (newest `max_jobs` jobs)."""
        found: list[str] = []
        seen = 0
        after: str | None = None
        while seen < max_jobs:
            kwargs: dict[str, Any] = {"limit": min(100, max_jobs - seen)}
            if after:
                kwargs["after"] = after
            page = await self.client.fine_tuning.jobs.list(**kwargs)
            for job in page.data:
                status = str(job.status)
                uses = file_id in (job.training_file, job.validation_file)
                if uses and not is_terminal(status):
                    found.append(job.id)
            seen += len(page.data)
            if not page.data or not getattr(page, "has_more", False):
                break
            after = page.data[-1].id
        return found


def _open_partial(target: Path) -> tuple[int, str]:
    """A new hidden file next to `target`, created with the umask's usual permissions."""
    for _ in range(100):
        name = str(target.parent / f".{target.name}.{secrets.token_hex(4)}.part")
        try:
            return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), name
        except FileExistsError:
            continue
    raise FileActionError(f"cannot create a temporary file in {target.parent}")


def resolve_destination(destination: Path, file: RemoteFile) -> Path:
    destination = destination.expanduser()
    if destination.is_dir():
        return destination / safe_filename(file)
    return destination


def safe_filename(file: RemoteFile) -> str:
    """The remote file's name without any directory part, or its id when it has none."""
    name = Path(file.filename.replace("\\", "/")).name
    return name if name not in ("", ".", "..") else f"{file.id}.bin"


def suggest_download_path(directory: Path, file: RemoteFile) -> Path:
    """`<directory>/<filename>`, with ` (1)`, ` (2)`… added when that name is taken."""
    name = safe_filename(file)
    candidate = directory / name
    stem, suffix = Path(name).stem, Path(name).suffix
    counter = 1
    while candidate.exists():
        candidate = directory / f"{stem} ({counter}){suffix}"
        counter += 1
    return candidate


class _ProgressReader(io.RawIOBase):
    """A binary file whose reads report (bytes read, total) to a callback."""

    def __init__(self, path: Path, progress: Callable[[int, int], None] | None) -> None:
        super().__init__()
        self._handle = path.open("rb")
        self._total = path.stat().st_size
        self._done = 0
        self._progress = progress
        self.name = path.name

    def readable(self) -> bool:
        return True

    # A known length lets the HTTP client send Content-Length instead of a chunked body.
    def fileno(self) -> int:
        return self._handle.fileno()

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        position = self._handle.seek(offset, whence)
        self._done = position
        return position

    def tell(self) -> int:
        return self._handle.tell()

    def read(self, size: int | None = -1) -> bytes:
        data = self._handle.read(-1 if size is None else size)
        self._done += len(data)
        if self._progress:
            self._progress(self._done, self._total)
        return data

    def close(self) -> None:
        self._handle.close()
        super().close()


async def upload_file(
    client: AsyncOpenAI,
    path: Path,
    *,
    purpose: str = "fine-tune",
    progress: Callable[[int, int], None] | None = None,
) -> RemoteFile:
    """Upload one local file through `POST /files`, reporting progress as it is sent."""
    reader = _ProgressReader(path, progress)
    try:
        created = await client.files.create(
            file=(path.name, cast(IO[bytes], reader), "application/jsonl"),
            purpose=purpose,  # type: ignore[arg-type]
        )
    finally:
        reader.close()
    return RemoteFile.from_sdk(created)


_ACTION_HINTS: dict[tuple[str, int], str] = {
    ("delete model", 403): "deleting a fine-tuned model needs the Owner role in the organization;"
    " ask an owner, or use an owner's key",
    ("delete file", 403): "deleting files needs write access to this project's files (an owner, or"
    " a key with Files write permission)",
    ("delete model", 404): "the model is gone or not served yet (a new fine-tuned model can take"
    " a few minutes to appear); press r to refresh",
    ("chat", 404): "the model is not served yet or not visible to this key: a new fine-tuned model"
    " can take a few minutes to appear; press r to refresh",
    ("preview", 404): "the file no longer exists on the server; press r to refresh",
    ("download", 404): "the file no longer exists on the server; press r to refresh",
    ("delete file", 404): "the file was already deleted; press r to refresh",
}
_IN_USE_WORDS = ("in use", "running", "used by", "job")


def explain_error(exc: BaseException, action: str) -> str:
    """One line for a toast: what failed, why, and what to do, specific to the files screen."""
    from tui.services.errors import UserMessage, describe_error

    message = describe_error(exc)
    hint = _ACTION_HINTS.get((action, message.status or 0), "")
    lowered = message.detail.lower()
    in_use = any(word in lowered for word in _IN_USE_WORDS)
    if action == "delete file" and message.status in (400, 409, 412) and in_use:
        hint = (
            "the file is still used by a fine-tuning job: cancel the job (2 Jobs) or wait"
            " until it finishes, then delete again"
        )
    if hint:
        message = UserMessage(
            message.title, message.detail, hint, message.retryable, message.status
        )
    return str(message)
