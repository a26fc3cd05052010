"""`/v1/files`: upload (multipart, streamed to disk), list, retrieve, delete, content.

Files are stored as `<data_dir>/files/<file-id>`; the client's filename is sanitised and only
echoed back, so no name can reach outside that directory."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

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
from tui.local.multipart import StreamedUpload, multipart_boundary, receive_upload

UPLOAD_PURPOSES = ("fine-tune",)
KNOWN_PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
EXPIRY_RANGE = (3600, 2592000)


async def create_file(request: Request) -> Response:
    ctx = context(request)
    boundary = multipart_boundary(request)
    if boundary is None:
        await drain(request)
        raise bad_request("Uploads must be sent as multipart/form-data with a 'file' part.")
    limit = ctx.settings.max_upload_bytes
    file_id = ids.file_id()
    partial = ctx.settings.files_dir / f".{file_id}.partial"
    upload = StreamedUpload(partial, limit)
    try:
        await receive_upload(request, upload, boundary)
        if upload.too_large:
            raise _too_large(limit)
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
    ctx: ServerContext, upload: StreamedUpload, file_id: str, partial: Path
) -> dict[str, Any]:
    purpose = check_purpose(upload.fields.get("purpose"))
    if upload.filename is None:
        raise bad_request("Missing required parameter: 'file'.", param="file")
    check_jsonl_name(upload.filename, "file")
    expires_at = _expires_at(upload.fields)
    os.replace(partial, ctx.file_path(file_id))
    record: dict[str, Any] = ctx.store.add_file(
        file_id, size=upload.size, filename=upload.filename, purpose=purpose, expires_at=expires_at
    )
    return record


def check_purpose(purpose: object) -> str:
    if not purpose:
        raise bad_request("Missing required parameter: 'purpose'.", param="purpose")
    if purpose not in UPLOAD_PURPOSES:
        known = purpose in KNOWN_PURPOSES
        reason = "is not supported by the local server" if known else "is not a valid purpose"
        raise bad_request(
            f"Invalid value for 'purpose': {purpose!r} {reason}; use 'fine-tune'.",
            param="purpose",
        )
    return str(purpose)


def check_jsonl_name(filename: str, param: str) -> None:
    if filename.lower().endswith(".jsonl") and not filename[: -len(".jsonl")].strip("."):
        raise bad_request(
            f"Invalid file name {filename!r}: there is no name before the .jsonl extension; "
            "name the file, e.g. train.jsonl.",
            param=param,
        )
    if not filename.lower().endswith(".jsonl"):
        raise bad_request(
            f"Invalid file format for Fine-Tuning API. Must be .jsonl (got {filename!r}).",
            param=param,
        )


def _expires_at(fields: dict[str, str]) -> int | None:
    anchor = fields.get("expires_after[anchor]")
    seconds = fields.get("expires_after[seconds]")
    if anchor is None and seconds is None:
        return None
    if anchor != "created_at":
        raise bad_request("expires_after[anchor] must be 'created_at'.", param="expires_after")
    low, high = EXPIRY_RANGE
    digits = seconds is not None and seconds.isascii() and seconds.isdigit()
    if seconds is None or not digits or not low <= int(seconds) <= high:
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
