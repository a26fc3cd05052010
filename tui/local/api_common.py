"""Helpers shared by the route modules: the context, JSON bodies, cursor-page parameters."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from tui.local.context import ServerContext
from tui.local.errors import ApiError, bad_request
from tui.local.validation import dumps, parse_json_object, read_body, timed_chunks


def context(request: Request) -> ServerContext:
    ctx: ServerContext = request.app.state.ctx
    return ctx


class FiniteJSONResponse(JSONResponse):
    """A JSON response that never fails to serialise: non-finite floats are written as null."""

    def render(self, content: Any) -> bytes:
        return dumps(content).encode("utf-8")


def ok(body: dict[str, Any]) -> JSONResponse:
    return FiniteJSONResponse(body)


def body_timeout_s(request: Request) -> float:
    """Seconds a request body may stall (`ft-tui serve --body-timeout`)."""
    return float(context(request).settings.body_timeout_s)


async def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object: size, depth and finite numbers checked (tui.local.validation);
    a body that stalls is a 408."""
    raw = await read_body(request.stream(), timeout_s=body_timeout_s(request))
    return parse_json_object(raw)


async def drain(request: Request) -> None:
    """Read and drop the rest of a body: answering before the client has sent it all resets
    the connection, and the client then sees a network error (and retries) instead of ours."""
    try:
        async for _ in timed_chunks(request.stream(), body_timeout_s(request)):
            pass
    except (RuntimeError, ApiError):  # "Stream consumed" (nothing left), or the body stalled
        return


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
