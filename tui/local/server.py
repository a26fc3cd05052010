"""The local OpenAI-compatible fine-tuning server: a Starlette app over the store and runner.

`create_app(settings)` builds it; `ft-tui serve` runs it with uvicorn. Every route needs
`Authorization: Bearer <key>` except `/health`. Errors are OpenAI-shaped; an unexpected
exception becomes a 500 with its message (and a traceback in `<data_dir>/server.log`), never a
traceback on the terminal.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tui import __version__
from tui.local import api_chat, api_exports, api_files, api_jobs, api_models, api_uploads
from tui.local.base_models import BaseModelRegistry
from tui.local.context import ServerContext
from tui.local.drivers import InferenceDriver, SpawnTrainingDriver, TrainingDriver
from tui.local.errors import ApiError, error_body, unauthorized
from tui.local.export.job import ExportRunner
from tui.local.model_gate import ModelGate
from tui.local.runner import JobRunner
from tui.local.settings import ServerSettings
from tui.local.store import Store
from tui.local.uploads import UploadRecords

log = logging.getLogger("ft_tui.server")

MISSING_KEY = (
    "You didn't provide an API key. Send it in an Authorization header using Bearer auth "
    "(Authorization: Bearer YOUR_KEY); `ft-tui serve` prints it at start."
)
WRONG_KEY = "Incorrect API key provided. Use the key `ft-tui serve` printed at start."


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class GuardMiddleware:
    """Checks the bearer key and turns any exception into an OpenAI-shaped error response."""

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app = app
        self._key = api_key.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # /health answers without a key (autostart probes); a key that is sent must be right,
        # so a client can tell its own server from another one on the same port.
        if scope["path"] != "/health" or self._header(scope):
            problem = self._auth_problem(scope)
            if problem is not None:
                await _send_json(send, problem.status, problem.body())
                return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except ApiError as exc:
            if not started:
                await _send_json(send, exc.status, exc.body())
        except Exception as exc:
            log.exception("unexpected error on %s %s", scope.get("method"), scope["path"])
            if not started:
                message = f"The server had an error while processing your request: {exc}"
                await _send_json(send, 500, error_body(message, type="server_error"))

    @staticmethod
    def _header(scope: Scope) -> bytes:
        for name, value in scope["headers"]:
            if name == b"authorization":
                return bytes(value)
        return b""

    def _auth_problem(self, scope: Scope) -> ApiError | None:
        header = self._header(scope)
        scheme, _, token = header.partition(b" ")
        if not header or scheme.lower() != b"bearer" or not token.strip():
            return unauthorized(MISSING_KEY)
        if not hmac.compare_digest(token.strip(), self._key):
            return unauthorized(WRONG_KEY)
        return None


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 404:
        message = f"Unknown request URL: {request.method} {request.url.path}."
        body = error_body(message, code="unknown_url")
    elif status == 405:
        body = error_body(f"Method {request.method} is not allowed on {request.url.path}.")
    else:
        body = error_body(str(getattr(exc, "detail", exc)))
    return JSONResponse(body, status_code=status)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return JSONResponse(exc.body(), status_code=exc.status)


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok", "version": __version__})


def create_app(
    settings: ServerSettings,
    *,
    training: TrainingDriver | None = None,
    inference: InferenceDriver | None = None,
) -> Starlette:
    settings.ensure_dirs()
    for partial in settings.files_dir.glob(".*.partial"):  # uploads cut off by a crash
        partial.unlink(missing_ok=True)
    store = Store(settings.db_path)
    registry = BaseModelRegistry(
        settings.data_dir,
        settings.extra_models,
        models=settings.models,
        chat_templates=settings.chat_templates,
    )
    runner = JobRunner(
        settings,
        store,
        registry.resolve,
        training or SpawnTrainingDriver(),
        model_gate=ModelGate(registry, store),
    )
    if inference is None:
        from tui.local.inference.engine import InferenceEngine

        inference = InferenceEngine()
    uploads = UploadRecords(store, settings.files_dir)
    ctx = ServerContext(settings, store, runner, registry, inference, uploads)
    exports = ExportRunner(settings, store, registry)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runner.start()
        exports.start()
        try:
            yield
        finally:
            exports.stop()
            runner.stop()
            store.close()

    routes = [
        Route("/health", health),
        *api_files.routes(),
        *api_uploads.routes(),
        *api_jobs.routes(),
        *api_models.routes(),
        *api_chat.routes(),
        *api_exports.routes(),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_error, ApiError: _api_error},
    )
    app.state.ctx = ctx
    app.state.exports = exports
    app.add_middleware(GuardMiddleware, api_key=settings.api_key)
    return app
