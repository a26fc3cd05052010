"""`/v1/files`: upload (multipart, streamed to disk), list, retrieve, delete, content.

Files are stored as `<data_dir>/files/<file-id>`; the client's filename is sanitised and only
echoed back, so no name can reach outside that directory."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from tui.local import ids
from tui.local.api_common import (
    bad_cursor,
    context,
    cursor_page,
    drain,
    ok,
    query_after,
    query_limit,
)
from tui.local.context import ServerContext
from tui.local.errors import ApiError, bad_request, conflict, not_found

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

UPLOAD_PURPOSES = ("fine-tune",)
KNOWN_PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
MAX_FIELD_BYTES = 64 * 1024
EXPIRY_RANGE = (3600, 2592000)
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")


def sanitize_filename(raw: str) -> str:
    """The last path component, without control characters, at most 255 characters."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("", name).strip().lstrip(".")
    return name[:255] or "upload.jsonl"


class _UploadParser:
    """Multipart callbacks: text fields into memory, the `file` part straight into `target`."""

    def __init__(self, target: Path, max_bytes: int) -> None:
        self.target = target
        self.max_bytes = max_bytes
        self.fields: dict[str, str] = {}
        self.filename: str | None = None
        self.size = 0
        self.too_large = False
        self._header_name = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._part_name = ""
        self._buffer = bytearray()
        self._handle: Any = None

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_val,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _part_begin(self) -> None:
        self._headers = {}
        self._buffer = bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_val(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header_name.lower()] = self._header_value
        self._header_name, self._header_value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._part_name = options.get(b"name", b"").decode("utf-8", "replace")
        raw_filename = options.get(b"filename")
        if self._part_name == "file" and raw_filename is not None:
            if self._handle is not None:
                raise bad_request("Send exactly one 'file' part.", param="file")
            self.filename = sanitize_filename(raw_filename.decode("utf-8", "replace"))
            self._handle = self.target.open("wb")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._part_name == "file" and self._handle is not None:
            self.size += len(chunk)
            if self.size > self.max_bytes:
                self.too_large = True
            if not self.too_large:
                self._handle.write(chunk)
        elif len(self._buffer) + len(chunk) <= MAX_FIELD_BYTES:
            self._buffer += chunk
        else:
            raise bad_request(f"Form field '{self._part_name}' is too long.", param=self._part_name)

    def _part_end(self) -> None:
        if self._part_name == "file" and self._handle is not None:
            self._handle.close()
        elif self._part_name:
            self.fields[self._part_name] = self._buffer.decode("utf-8", "replace")

    def close(self) -> None:
        if self._handle is not None and not self._handle.closed:
            self._handle.close()


async def create_file(request: Request) -> Response:
    ctx = context(request)
    content_type, options = parse_options_header(request.headers.get("content-type"))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        await drain(request)
        raise bad_request("Uploads must be sent as multipart/form-data with a 'file' part.")
    limit = ctx.settings.max_upload_bytes
    file_id = ids.file_id()
    partial = ctx.settings.files_dir / f".{file_id}.partial"
    upload = _UploadParser(partial, limit)
    parser = MultipartParser(boundary, upload.callbacks())
    try:
        async for chunk in request.stream():
            if not upload.too_large:
                parser.write(chunk)
        if upload.too_large:
            raise _too_large(limit)
        parser.finalize()
        record = _register(ctx, upload, file_id, partial)
    except ApiError:
        await drain(request)
        raise
    except Exception as exc:  # a malformed multipart body
        await drain(request)
        raise bad_request(f"Could not read the multipart upload: {exc}") from None
    finally:
        upload.close()
        partial.unlink(missing_ok=True)
    return ok(record)


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        f"File is too large: the local server accepts files up to {limit} bytes "
        "(ft-tui serve --max-upload-size).",
        param="file",
        code="file_too_large",
    )


def _register(
    ctx: ServerContext, upload: _UploadParser, file_id: str, partial: Path
) -> dict[str, Any]:
    purpose = upload.fields.get("purpose")
    if not purpose:
        raise bad_request("Missing required parameter: 'purpose'.", param="purpose")
    if purpose not in UPLOAD_PURPOSES:
        known = purpose in KNOWN_PURPOSES
        reason = "is not supported by the local server" if known else "is not a valid purpose"
        raise bad_request(
            f"Invalid value for 'purpose': {purpose!r} {reason}; use 'fine-tune'.",
            param="purpose",
        )
    if upload.filename is None:
        raise bad_request("Missing required parameter: 'file'.", param="file")
    if not upload.filename.lower().endswith(".jsonl"):
        raise bad_request(
            f"Invalid file format for Fine-Tuning API. Must be .jsonl (got {upload.filename!r}).",
            param="file",
        )
    expires_at = _expires_at(upload.fields)
    os.replace(partial, ctx.file_path(file_id))
    record: dict[str, Any] = ctx.store.add_file(
        file_id, size=upload.size, filename=upload.filename, purpose=purpose, expires_at=expires_at
    )
    return record


def _expires_at(fields: dict[str, str]) -> int | None:
    anchor = fields.get("expires_after[anchor]")
    seconds = fields.get("expires_after[seconds]")
    if anchor is None and seconds is None:
        return None
    if anchor != "created_at":
        raise bad_request("expires_after[anchor] must be 'created_at'.", param="expires_after")
    low, high = EXPIRY_RANGE
    if seconds is None or not seconds.isdigit() or not low <= int(seconds) <= high:
        raise bad_request(
            f"expires_after[seconds] must be an integer from {low} to {high}.",
            param="expires_after",
        )
    return int(time.time()) + int(seconds)


def _purge_expired(ctx: ServerContext) -> None:
    for file_id in ctx.store.expired_files(int(time.time())):
        ctx.store.delete_file(file_id)
        ctx.file_path(file_id).unlink(missing_ok=True)


def _file_or_404(ctx: ServerContext, file_id: str) -> dict[str, Any]:
    _purge_expired(ctx)
    record: dict[str, Any] | None = ctx.store.get_file(file_id)
    if record is None:
        raise not_found(f"No such File object: {file_id}", param="id", code="file_not_found")
    return record


async def list_files(request: Request) -> Response:
    ctx = context(request)
    _purge_expired(ctx)
    order = request.query_params.get("order", "desc")
    if order not in ("asc", "desc"):
        raise bad_request(f"Invalid 'order': {order!r}; use 'asc' or 'desc'.", param="order")
    after = query_after(request)
    page = ctx.store.list_files(
        purpose=request.query_params.get("purpose") or None,
        order=order,
        after=after,
        limit=query_limit(request, 10000, 10000),
    )
    if page is None:
        raise bad_cursor(after)
    return ok(cursor_page(page[0], page[1], with_ids=True))


async def retrieve_file(request: Request) -> Response:
    return ok(_file_or_404(context(request), request.path_params["file_id"]))


async def delete_file(request: Request) -> Response:
    ctx = context(request)
    file_id = request.path_params["file_id"]
    _file_or_404(ctx, file_id)
    users = ctx.store.active_jobs_using(file_id)
    if users:
        raise conflict(
            f"File {file_id} is used by {users[0]}, which has not finished; cancel it first.",
            param="file_id",
        )
    ctx.store.delete_file(file_id)
    ctx.file_path(file_id).unlink(missing_ok=True)
    return ok({"id": file_id, "object": "file", "deleted": True})


async def file_content(request: Request) -> Response:
    ctx = context(request)
    file_id = request.path_params["file_id"]
    record = _file_or_404(ctx, file_id)
    path = ctx.file_path(file_id)
    if not path.is_file():
        raise not_found(f"The content of {file_id} is missing from the data directory.")
    media = "text/csv" if record["purpose"] == "fine-tune-results" else "application/octet-stream"
    return FileResponse(path, media_type=media, filename=record["filename"])


def routes() -> list[Route]:
    return [
        Route("/v1/files", create_file, methods=["POST"]),
        Route("/v1/files", list_files, methods=["GET"]),
        Route("/v1/files/{file_id}", retrieve_file, methods=["GET"]),
        Route("/v1/files/{file_id}", delete_file, methods=["DELETE"]),
        Route("/v1/files/{file_id}/content", file_content, methods=["GET"]),
    ]
