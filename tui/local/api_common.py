"""Helpers shared by the route modules: the context, JSON bodies, cursor-page parameters."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from tui.local.context import ServerContext
from tui.local.errors import ApiError, bad_request

INVALID_JSON = (
    "We could not parse the JSON body of your request. The local server expects a JSON object "
    "(Content-Type: application/json)."
)


def context(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.ctx
    return ctx


def ok(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body)


MAX_JSON_BYTES = 16 * 1024 * 1024


async def json_object(request: Request) -> dict[str, Any]:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():  # read to the end even when too large (see drain)
        size += len(chunk)
        if size <= MAX_JSON_BYTES:
            chunks.append(chunk)
    if size > MAX_JSON_BYTES:
        raise _json_too_large()
    raw = b"".join(chunks)
    if not raw.strip():
        raise bad_request("The request body is empty; expected a JSON object.")
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise bad_request(INVALID_JSON) from None
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    return body


async def drain(request: Request) -> None:
    """Read and drop the rest of a body: answering before the client has sent it all resets
    the connection, and the client then sees a network error (and retries) instead of ours."""
    try:
        async for _ in request.stream():
            pass
    except RuntimeError:  # Starlette: "Stream consumed", nothing left to read
        return


def _json_too_large() -> ApiError:
    return ApiError(
        413, f"The JSON body is larger than {MAX_JSON_BYTES} bytes.", code="request_too_large"
    )


def query_limit(request: Request, default: int, maximum: int) -> int:
    raw = request.query_params.get("limit")
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"Invalid 'limit': {raw!r} is not an integer.", param="limit") from None
    if not 1 <= value <= maximum:
        raise bad_request(
            f"Invalid 'limit': {value}. It must be between 1 and {maximum}.", param="limit"
        )
    return value


def query_after(request: Request) -> str | None:
    return request.query_params.get("after") or None


def bad_cursor(after: str | None) -> Exception:
    return bad_request(f"Invalid 'after': no object with id {after!r} in this list.", param="after")


def cursor_page(
    items: list[dict[str, Any]], has_more: bool, *, with_ids: bool = False
) -> dict[str, Any]:
    body: dict[str, Any] = {"object": "list", "data": items, "has_more": has_more}
    if with_ids:
        body["first_id"] = items[0]["id"] if items else None
        body["last_id"] = items[-1]["id"] if items else None
    return body


def require_str(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None:
        raise bad_request(f"Missing required parameter: '{name}'.", param=name)
    if not isinstance(value, str) or not value:
        raise bad_request(f"Invalid type for '{name}': expected a non-empty string.", param=name)
    return value
