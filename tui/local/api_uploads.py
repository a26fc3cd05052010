"""`/v1/uploads`: large files in parts (create, add parts, complete with order and MD5, cancel),
as the SDK's `client.uploads` drives them; the completed upload is an ordinary file."""

from __future__ import annotations

import os
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tui.local import ids
from tui.local.api_common import context, drain, json_object, ok, require_str
from tui.local.api_files import check_jsonl_name, check_purpose
from tui.local.context import ServerContext
from tui.local.errors import ApiError, bad_request, conflict, not_found
from tui.local.multipart import (
    StreamedUpload,
    multipart_boundary,
    receive_upload,
    sanitize_filename,
)
from tui.local.uploads import MAX_PART_BYTES, MAX_UPLOAD_BYTES
from tui.local.validation import bounded_int

CREATE_FIELDS = frozenset({"bytes", "filename", "mime_type", "purpose", "expires_after"})


def _pending(ctx: ServerContext, upload_id: str) -> dict[str, Any]:
    upload = ctx.uploads.get(upload_id)
    if upload is None:
        raise not_found(f"No such upload: {upload_id}", param="upload_id", code="upload_not_found")
    if upload["status"] != "pending":
        raise conflict(
            f"Upload {upload_id} is {upload['status']}; only pending uploads take this action.",
            param="upload_id",
        )
    return upload


async def create_upload(request: Request) -> Response:
    ctx = context(request)
    body = await json_object(request)
    unknown = sorted(set(body) - CREATE_FIELDS)
    if unknown:
        raise bad_request(f"Unrecognized request argument supplied: {unknown[0]}", param=unknown[0])
    if body.get("expires_after") is not None:
        raise bad_request(
            "expires_after is not supported on uploads by the local server; "
            "set it with files.create instead.",
            param="expires_after",
        )
    size = bounded_int(body.get("bytes"), "bytes", 1, MAX_UPLOAD_BYTES)
    filename = sanitize_filename(require_str(body, "filename"))
    check_jsonl_name(filename, "filename")
    purpose = check_purpose(body.get("purpose"))
    mime_type = require_str(body, "mime_type")
    record = ctx.uploads.create(size=size, filename=filename, purpose=purpose, mime_type=mime_type)
    return ok(record)


async def add_part(request: Request) -> Response:
    ctx = context(request)
    upload_id = request.path_params["upload_id"]
    try:
        upload = _pending(ctx, upload_id)
        boundary = multipart_boundary(request)
        if boundary is None:
            raise bad_request("Parts must be sent as multipart/form-data with a 'data' part.")
    except ApiError:
        await drain(request)
        raise
    part_id = "part_" + ids.random_token(24)
    folder = ctx.uploads.parts_dir(upload_id)
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{part_id}.partial"
    room = upload["bytes"] - ctx.uploads.received_bytes(upload_id)
    stream = StreamedUpload(partial, min(MAX_PART_BYTES, max(0, room)), file_field="data")
    try:
        await receive_upload(request, stream, boundary)
        if stream.too_large:
            raise ApiError(
                413,
                f"Part is too large: parts hold at most {MAX_PART_BYTES} bytes, and all parts "
                f"together the {upload['bytes']} bytes declared for the upload.",
                param="data",
                code="part_too_large",
            )
        if stream.filename is None:
            raise bad_request("Missing required parameter: 'data'.", param="data")
        os.replace(partial, folder / part_id)
    except ApiError:
        await drain(request)
        raise
    except Exception as exc:  # a malformed multipart body
        await drain(request)
        raise bad_request(f"Could not read the multipart part: {exc}") from None
    finally:
        stream.close()
        partial.unlink(missing_ok=True)
    return ok(ctx.uploads.add_part(upload_id, part_id, stream.size))


async def complete_upload(request: Request) -> Response:
    ctx = context(request)
    upload_id = request.path_params["upload_id"]
    upload = _pending(ctx, upload_id)
    body = await json_object(request)
    part_ids = body.get("part_ids")
    if not isinstance(part_ids, list) or not part_ids:
        raise bad_request("'part_ids' must be a non-empty array of part ids.", param="part_ids")
    sizes = ctx.uploads.part_sizes(upload_id)
    unknown = [p for p in part_ids if p not in sizes]
    if unknown or len(set(part_ids)) != len(part_ids):
        what = f"{unknown[0]!r} is not a part of this upload" if unknown else "a part repeats"
        raise bad_request(f"Invalid 'part_ids': {what}.", param="part_ids")
    total = sum(sizes[p] for p in part_ids)
    if total != upload["bytes"]:
        raise bad_request(
            f"The parts hold {total} bytes but the upload was created for {upload['bytes']}.",
            param="part_ids",
        )
    md5 = body.get("md5")
    file_id = ids.file_id()
    target = ctx.file_path(file_id)
    digest = await anyio.to_thread.run_sync(ctx.uploads.assemble, upload_id, part_ids, target)
    if isinstance(md5, str) and md5 and md5.lower() != digest:
        target.unlink(missing_ok=True)
        raise bad_request(
            f"The MD5 of the assembled file is {digest}, not the {md5} sent.", param="md5"
        )
    ctx.store.add_file(file_id, size=total, filename=upload["filename"], purpose=upload["purpose"])
    ctx.uploads.set_status(upload_id, "completed", file_id)
    return ok(ctx.uploads.get(upload_id) or {})


async def cancel_upload(request: Request) -> Response:
    ctx = context(request)
    upload_id = request.path_params["upload_id"]
    _pending(ctx, upload_id)
    ctx.uploads.set_status(upload_id, "cancelled")
    return ok(ctx.uploads.get(upload_id) or {})


def routes() -> list[Route]:
    one = "/v1/uploads/{upload_id}"
    return [
        Route("/v1/uploads", create_upload, methods=["POST"]),
        Route(one + "/parts", add_part, methods=["POST"]),
        Route(one + "/complete", complete_upload, methods=["POST"]),
        Route(one + "/cancel", cancel_upload, methods=["POST"]),
    ]
