"""`/v1/exports`: take a fine-tuned model out of the server (ft-tui's own resource; OpenAI has
no equivalent, since its weights cannot be downloaded).

    POST   /v1/exports                {"model", "format", "quantization"?} -> export object
    GET    /v1/exports/{id}           the export object (status, progress, stage, error)
    GET    /v1/exports/{id}/content   the finished folder as an uncompressed tar archive
    DELETE /v1/exports/{id}           forget a finished export and free its disk space

Exports run one at a time on the server's export thread (`tui.local.export.job`).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from tui.local.api_common import context, json_object, ok, require_str
from tui.local.errors import ApiError, bad_request, conflict, not_found
from tui.local.export import FORMATS, QUANTIZATIONS, ExportError
from tui.local.export.archive import iter_tar, tar_size
from tui.local.export.job import ExportRunner
from tui.local.export.source import lookup

KNOWN_FIELDS = frozenset({"model", "format", "quantization"})


def runner(request: Request) -> ExportRunner:
    found: ExportRunner = request.app.state.exports
    return found


def _export_not_found(export_id: str) -> ApiError:
    return not_found(f"No export with id {export_id!r}.", param="id", code="export_not_found")


def _get(request: Request) -> dict[str, Any]:
    export_id = request.path_params["export_id"]
    found = runner(request).records.get(export_id)
    if found is None:
        raise _export_not_found(export_id)
    return found


def _options(body: dict[str, Any], fmt: str) -> dict[str, Any]:
    quantization = body.get("quantization")
    if quantization is None:
        return {"quantization": "f16"}
    if quantization not in QUANTIZATIONS:
        raise bad_request(
            f"Invalid 'quantization': {quantization!r}. Use one of {', '.join(QUANTIZATIONS)}.",
            param="quantization",
        )
    if fmt not in ("gguf", "ollama"):
        raise bad_request(
            f"'quantization' applies to the gguf and ollama formats, not {fmt!r}.",
            param="quantization",
        )
    return {"quantization": quantization}


async def create_export(request: Request) -> Response:
    ctx = context(request)
    body = await json_object(request)
    unknown = sorted(set(body) - KNOWN_FIELDS)
    if unknown:
        raise bad_request(f"Unrecognized request argument supplied: {unknown[0]}", param=unknown[0])
    model = require_str(body, "model")
    fmt = require_str(body, "format")
    if fmt not in FORMATS:
        raise bad_request(
            f"Invalid 'format': {fmt!r}. Use one of {', '.join(FORMATS)}.", param="format"
        )
    options = _options(body, fmt)
    try:
        lookup(ctx.store, ctx.registry.names(), model)
    except ExportError as exc:
        status = 404 if exc.code == "model_not_found" else 400
        raise ApiError(status, exc.message, param="model", code=exc.code) from None
    exports = runner(request)
    created = exports.records.create(model, fmt, options)
    exports.submit(str(created["id"]))
    return ok(created)


async def retrieve_export(request: Request) -> Response:
    return ok(_get(request))


async def export_content(request: Request) -> Response:
    found = _get(request)
    if found["status"] != "succeeded":
        detail = (found.get("error") or {}).get("message") if found["status"] == "failed" else None
        message = f"Export {found['id']} is {found['status']}, not ready to download"
        raise conflict(
            message + (f": {detail}" if detail else "."), param="id", code="export_not_ready"
        )
    folder = Path(runner(request).records.result_dir(str(found["id"])) or "")
    if not folder.is_dir():
        raise ApiError(
            410, f"The files of export {found['id']} are gone from the server.", code="gone"
        )
    size = await anyio.to_thread.run_sync(tar_size, folder)
    filename = f"{found['id']}.tar"
    return StreamingResponse(
        iter_tar(folder),
        media_type="application/x-tar",
        headers={
            "content-length": str(size),
            "content-disposition": f'attachment; filename="{filename}"',
        },
    )


async def delete_export(request: Request) -> Response:
    found = _get(request)
    if found["status"] in ("queued", "running"):
        raise conflict(
            f"Export {found['id']} is still {found['status']}.", param="id", code="export_running"
        )
    exports = runner(request)
    folder = exports.records.result_dir(str(found["id"]))
    if folder:
        await anyio.to_thread.run_sync(shutil.rmtree, folder, True)
    exports.records.delete(str(found["id"]))
    return ok({"id": found["id"], "object": "export.deleted", "deleted": True})


def routes() -> list[Route]:
    return [
        Route("/v1/exports", create_export, methods=["POST"]),
        Route("/v1/exports/{export_id}", retrieve_export, methods=["GET"]),
        Route("/v1/exports/{export_id}/content", export_content, methods=["GET"]),
        Route("/v1/exports/{export_id}", delete_export, methods=["DELETE"]),
    ]
