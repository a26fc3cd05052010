"""`/v1/chat/completions` with `stream` true (SSE `chat.completion.chunk`s, `data: [DONE]`) and
false (`usage` filled), for base models, fine-tuned models and checkpoints."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from tui.local import ids
from tui.local.api_common import context, json_object, ok, require_str
from tui.local.api_models import model_not_found
from tui.local.base_models import BaseModelError
from tui.local.context import ServerContext
from tui.local.errors import ApiError, bad_request
from tui.local.inference.engine import GenerationParams, InferenceError, Usage

ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
# Accepted and ignored: they change nothing a local single-choice generation can honour.
IGNORED = frozenset(
    {"user", "metadata", "store", "service_tier", "frequency_penalty", "presence_penalty"}
    | {"logit_bias", "parallel_tool_calls", "prompt_cache_key", "safety_identifier"}
)
HANDLED = frozenset(
    {"model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens"}
    | {"temperature", "top_p", "stop", "seed", "n", "logprobs"}
)
_END = object()
DONE = b"data: [DONE]\n\n"


def _text_of(message: dict[str, Any], index: int) -> str:
    content = message.get("content")
    if content is None or isinstance(content, str):
        return content or ""
    if isinstance(content, list):
        parts: list[str] = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "text":
                raise bad_request(
                    f"messages[{index}]: the local server accepts only text content parts.",
                    param=f"messages[{index}].content",
                )
            parts.append(str(part.get("text", "")))
        return "".join(parts)
    raise bad_request(
        f"messages[{index}].content must be a string or a list of text parts.",
        param=f"messages[{index}].content",
    )


def _messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    raw = body.get("messages")
    if raw is None:
        raise bad_request("Missing required parameter: 'messages'.", param="messages")
    if not isinstance(raw, list) or not raw:
        raise bad_request("'messages' must be a non-empty array.", param="messages")
    messages: list[dict[str, Any]] = []
    for index, message in enumerate(raw):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise bad_request(
                f"messages[{index}] must be an object with a role among "
                f"{', '.join(sorted(ROLES))}.",
                param=f"messages[{index}].role",
            )
        role = "system" if message["role"] == "developer" else message["role"]
        messages.append({"role": role, "content": _text_of(message, index)})
    return messages


def _number(body: dict[str, Any], name: str, low: float, high: float, default: float) -> float:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise bad_request(f"Invalid '{name}': expected a number from {low} to {high}.", param=name)
    return float(value)


def _params(body: dict[str, Any]) -> GenerationParams:
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    if max_tokens is not None and (
        isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1
    ):
        raise bad_request("Invalid 'max_tokens': expected an integer >= 1.", param="max_tokens")
    stop = body.get("stop")
    stops = [stop] if isinstance(stop, str) else stop or []
    if not isinstance(stops, list) or len(stops) > 4 or not all(isinstance(s, str) for s in stops):
        raise bad_request("Invalid 'stop': a string or up to 4 strings.", param="stop")
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise bad_request("Invalid 'seed': expected an integer.", param="seed")
    return GenerationParams(
        max_tokens=max_tokens,
        temperature=_number(body, "temperature", 0.0, 2.0, 1.0),
        top_p=_number(body, "top_p", 0.0, 1.0, 1.0),
        stop=[s for s in stops if s],
        seed=seed,
    )


def _check_request(body: dict[str, Any]) -> None:
    for key in body:
        if key in ("tools", "tool_choice", "functions", "function_call", "response_format"):
            if body[key] not in (None, [], "none"):
                raise bad_request(f"'{key}' is not supported by the local server.", param=key)
        elif key not in HANDLED and key not in IGNORED:
            raise bad_request(f"Unrecognized request argument supplied: {key}", param=key)
    if body.get("n") not in (None, 1):
        raise bad_request("The local server generates one choice: 'n' must be 1.", param="n")
    if body.get("logprobs"):
        raise bad_request("'logprobs' is not supported by the local server.", param="logprobs")


def _resolve(ctx: ServerContext, model: str) -> tuple[Path, Path | None]:
    if model in ctx.registry.names():
        return ctx.registry.resolve(model), None
    row = ctx.store.get_model(model)
    if row is None:
        raise model_not_found(model)
    return ctx.registry.resolve(str(row["base"])), Path(row["adapter_dir"])


def _produce(
    items: Iterator[str | Usage], loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[object]
) -> None:
    """Runs in a thread: pushes the engine's items (or its exception) into the asyncio queue."""
    try:
        for item in items:
            loop.call_soon_threadsafe(queue.put_nowait, item)
    except BaseException as exc:  # handed to the request, which answers it
        loop.call_soon_threadsafe(queue.put_nowait, exc)
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()
        loop.call_soon_threadsafe(queue.put_nowait, _END)


async def _items(
    ctx: ServerContext,
    model_dir: Path,
    adapter_dir: Path | None,
    messages: list[dict[str, Any]],
    params: GenerationParams,
    cancel: threading.Event,
) -> AsyncIterator[str | Usage]:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue()
    stream = ctx.inference.stream_chat(model_dir, adapter_dir, messages, params, cancel)
    worker = threading.Thread(target=_produce, args=(stream, loop, queue), daemon=True)
    worker.start()
    try:
        while True:
            item = await queue.get()
            if item is _END:
                return
            if isinstance(item, InferenceError | BaseModelError):  # the request cannot be served
                raise bad_request(item.message, code=item.code)
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, str | Usage)
            yield item
    finally:
        cancel.set()


def _chunk(base: dict[str, Any], delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    return base | {"choices": [choice]}


def _sse(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"


def _usage(usage: Usage | None) -> dict[str, int]:
    if usage is None:
        return {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


async def create_chat_completion(request: Request) -> Response:
    ctx = context(request)
    body = await json_object(request)
    _check_request(body)
    model = require_str(body, "model")
    messages = _messages(body)
    params = _params(body)
    stream = bool(body.get("stream"))
    options = body.get("stream_options") or {}
    if not isinstance(options, dict):
        raise bad_request("Invalid 'stream_options': expected an object.", param="stream_options")
    include_usage = stream and bool(options.get("include_usage"))
    try:  # the first use of the bundled model converts it: keep that off the event loop
        model_dir, adapter_dir = await anyio.to_thread.run_sync(_resolve, ctx, model)
    except ApiError:
        raise
    except Exception as exc:  # the registry could not prepare the base model
        message = str(getattr(exc, "message", exc))
        raise ApiError(400, message, param="model", code="model_not_available") from None
    cancel = threading.Event()
    items = _items(ctx, model_dir, adapter_dir, messages, params, cancel)
    base = {
        "id": ids.completion_id(),
        "object": "chat.completion.chunk" if stream else "chat.completion",
        "created": int(time.time()),
        "model": model,
    }
    # Pull the first item before answering, so engine errors still become a 400.
    first = await anext(items, None)
    if not stream:
        return ok(await _complete(base, first, items))
    return StreamingResponse(
        _stream(base, first, items, include_usage, cancel), media_type="text/event-stream"
    )


async def _complete(
    base: dict[str, Any], first: str | Usage | None, items: AsyncIterator[str | Usage]
) -> dict[str, Any]:
    pieces: list[str] = []
    usage: Usage | None = None
    item = first
    while item is not None:
        if isinstance(item, Usage):
            usage = item
        else:
            pieces.append(item)
        item = await anext(items, None)
    message = {"role": "assistant", "content": "".join(pieces), "refusal": None}
    choice = {
        "index": 0,
        "message": message,
        "logprobs": None,
        "finish_reason": usage.finish_reason if usage else "stop",
    }
    return base | {"choices": [choice], "usage": _usage(usage)}


async def _stream(
    base: dict[str, Any],
    first: str | Usage | None,
    items: AsyncIterator[str | Usage],
    include_usage: bool,
    cancel: threading.Event,
) -> AsyncIterator[bytes]:
    head = base | {"usage": None} if include_usage else base
    usage: Usage | None = None
    try:
        yield _sse(_chunk(head, {"role": "assistant", "content": ""}, None))
        item = first
        while item is not None:
            if isinstance(item, Usage):
                usage = item
            elif item:
                yield _sse(_chunk(head, {"content": item}, None))
            item = await anext(items, None)
        yield _sse(_chunk(head, {}, usage.finish_reason if usage else "stop"))
        if include_usage:
            yield _sse(base | {"choices": [], "usage": _usage(usage)})
        yield DONE
    except ApiError as exc:  # headers are sent: report in-band, as OpenAI does
        yield _sse(exc.body())
        yield DONE
    finally:
        cancel.set()


def routes() -> list[Route]:
    return [Route("/v1/chat/completions", create_chat_completion, methods=["POST"])]
