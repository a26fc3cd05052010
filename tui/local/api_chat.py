"""`/v1/chat/completions` with `stream` true (SSE `chat.completion.chunk`s, `data: [DONE]`) and
false (`usage` filled), for base models, fine-tuned models and checkpoints.

Beyond text: `n` choices, `logprobs` / `top_logprobs`, and `tools` (calls parsed back into
`tool_calls`, see `tui.local.inference.tools`). A request without `temperature` / `top_p` gets
its base model's defaults; one without `max_tokens` is capped at `ft-tui serve
--max-tokens-default`. A client that disconnects stops its generation, streaming or not.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from tui.local import api_chat_params, ids
from tui.local.api_chat_params import ChatBody
from tui.local.api_common import context, json_object, ok
from tui.local.api_models import model_not_found
from tui.local.base_models import BaseModelError
from tui.local.context import ServerContext
from tui.local.errors import ApiError
from tui.local.inference.defaults import defaults_for
from tui.local.inference.tools import parse_tool_calls
from tui.local.inference.types import (
    ChatJob,
    Finish,
    GenerationParams,
    InferenceError,
    Item,
    Piece,
    TokenLogprob,
    Usage,
)

log = logging.getLogger("ft_tui.chat")
_END = object()
DONE = b"data: [DONE]\n\n"


@dataclass
class _Choice:
    pieces: list[str] = field(default_factory=list)
    logprobs: list[dict[str, Any]] = field(default_factory=list)
    finish: str = "stop"


def _resolve(ctx: ServerContext, model: str) -> tuple[str, Path, Path | None]:
    if model in ctx.registry.names():
        return model, ctx.registry.resolve(model), None
    row = ctx.store.get_model(model)
    if row is None:
        raise model_not_found(model)
    base = str(row["base"])
    return base, ctx.registry.resolve(base), Path(row["adapter_dir"])


def _api_error(exc: InferenceError | BaseModelError) -> ApiError:
    status = getattr(exc, "status", 400)
    kind = "server_error" if status >= 500 else "invalid_request_error"
    return ApiError(status, exc.message, type=kind, code=exc.code)


def _produce(
    items: Iterator[Item], loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[object]
) -> None:
    """Runs in a thread: pushes the driver's items (or its exception) into the asyncio queue."""
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


async def _items(ctx: ServerContext, job: ChatJob, cancel: threading.Event) -> AsyncIterator[Item]:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue()
    items = ctx.inference.chat(job, cancel)
    worker = threading.Thread(target=_produce, args=(items, loop, queue), daemon=True)
    worker.start()
    try:
        while True:
            item = await queue.get()
            if item is _END:
                return
            if isinstance(item, InferenceError | BaseModelError):
                raise _api_error(item)
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, Piece | Finish | Usage)
            yield item
    finally:
        cancel.set()


async def _watch_disconnect(request: Request, cancel: threading.Event) -> None:
    """Sets `cancel` when the client goes away (its body has been read already)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            if not cancel.is_set():
                log.info("chat client disconnected: generation stopped")
            cancel.set()
            return


def _params(ctx: ServerContext, body: ChatBody, base: str, model_dir: Path) -> GenerationParams:
    defaults = defaults_for(base, model_dir, ctx.settings.sampling)
    assert defaults.temperature is not None and defaults.top_p is not None
    max_tokens = body.max_tokens if body.max_tokens is not None else ctx.settings.max_tokens_default
    return GenerationParams(
        max_tokens=max_tokens,
        temperature=body.temperature if body.temperature is not None else defaults.temperature,
        top_p=body.top_p if body.top_p is not None else defaults.top_p,
        stop=body.stop,
        seed=body.seed,
        n=body.n,
        logprobs=body.logprobs,
        top_logprobs=body.top_logprobs,
    )


async def create_chat_completion(request: Request) -> Response:
    ctx = context(request)
    body = api_chat_params.parse(await json_object(request))
    try:  # the first use of the bundled model converts it: keep that off the event loop
        base, model_dir, adapter_dir = await anyio.to_thread.run_sync(_resolve, ctx, body.model)
    except ApiError:
        raise
    except Exception as exc:  # the registry could not prepare the base model
        raise api_chat_params.model_error(str(getattr(exc, "message", exc))) from None
    job = ChatJob(
        model=body.model,
        base=base,
        model_dir=model_dir,
        adapter_dir=adapter_dir,
        messages=body.messages,
        params=_params(ctx, body, base, model_dir),
        tools=body.tools,
    )
    cancel = threading.Event()
    watcher = asyncio.create_task(_watch_disconnect(request, cancel))
    items = _items(ctx, job, cancel)
    head = {
        "id": ids.completion_id(),
        "object": "chat.completion.chunk" if body.stream else "chat.completion",
        "created": int(time.time()),
        "model": body.model,
    }
    streaming = False
    try:
        # Pull the first item before answering, so errors before any text get their status.
        first = await anext(items, None)
        if not body.stream:
            return ok(await _complete(head, body, first, items))
        streaming = True  # from here the stream owns the watcher
        return StreamingResponse(
            _stream(head, body, first, items, cancel, watcher), media_type="text/event-stream"
        )
    finally:
        if not streaming:
            watcher.cancel()


def _logprob_json(entry: TokenLogprob) -> dict[str, Any]:
    return {
        "token": entry.token,
        "logprob": entry.logprob,
        "bytes": entry.bytes,
        "top_logprobs": [
            {"token": top.token, "logprob": top.logprob, "bytes": top.bytes} for top in entry.top
        ],
    }


def _usage(usage: Usage | None) -> dict[str, int]:
    if usage is None:
        return {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


def _message(body: ChatBody, text: str) -> tuple[dict[str, Any], bool]:
    """The assistant message for a choice's text, and whether it calls tools."""
    content: str | None = text
    message: dict[str, Any] = {"role": "assistant"}
    called = False
    if body.parse_tools and body.tools:
        names = {tool["function"]["name"] for tool in body.tools}
        content, calls = parse_tool_calls(text, names)
        if calls:
            message["tool_calls"] = [call.as_openai() for call in calls]
            called = True
    message |= {"content": content, "refusal": None}
    return message, called


async def _complete(
    head: dict[str, Any], body: ChatBody, first: Item | None, items: AsyncIterator[Item]
) -> dict[str, Any]:
    choices = {index: _Choice() for index in range(body.n)}
    usage: Usage | None = None
    item = first
    while item is not None:
        if isinstance(item, Usage):
            usage = item
        elif isinstance(item, Finish):
            choices[item.index].finish = item.reason
        else:
            choice = choices[item.index]
            choice.pieces.append(item.text)
            choice.logprobs.extend(_logprob_json(entry) for entry in item.logprobs)
        item = await anext(items, None)
    out: list[dict[str, Any]] = []
    for index, choice in choices.items():
        message, called = _message(body, "".join(choice.pieces))
        out.append(
            {
                "index": index,
                "message": message,
                "logprobs": {"content": choice.logprobs, "refusal": None}
                if body.logprobs
                else None,
                "finish_reason": "tool_calls" if called else choice.finish,
            }
        )
    return head | {"choices": out, "usage": _usage(usage)}


def _sse(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"


def _chunk(
    head: dict[str, Any],
    index: int,
    delta: dict[str, Any],
    finish: str | None = None,
    logprobs: list[dict[str, Any]] | None = None,
) -> bytes:
    lp = {"content": logprobs, "refusal": None} if logprobs is not None else None
    choice = {"index": index, "delta": delta, "logprobs": lp, "finish_reason": finish}
    return _sse(head | {"choices": [choice]})


async def _stream(
    base: dict[str, Any],
    body: ChatBody,
    first: Item | None,
    items: AsyncIterator[Item],
    cancel: threading.Event,
    watcher: asyncio.Task[None],
) -> AsyncIterator[bytes]:
    head = base | {"usage": None} if body.include_usage else base
    buffered = {index: _Choice() for index in range(body.n)}  # text held for tool parsing
    usage: Usage | None = None
    try:
        for index in range(body.n):
            yield _chunk(head, index, {"role": "assistant", "content": ""})
        item = first
        while item is not None:
            if isinstance(item, Usage):
                usage = item
            elif isinstance(item, Piece):
                logprobs = [_logprob_json(e) for e in item.logprobs] if body.logprobs else None
                if body.parse_tools:
                    buffered[item.index].pieces.append(item.text)
                    buffered[item.index].logprobs.extend(logprobs or [])
                elif item.text or logprobs:
                    yield _chunk(head, item.index, {"content": item.text}, None, logprobs)
            else:
                for chunk in _finish_chunks(head, body, item, buffered[item.index]):
                    yield chunk
            item = await anext(items, None)
        if body.include_usage:
            yield _sse(base | {"choices": [], "usage": _usage(usage)})
        yield DONE
    except ApiError as exc:  # headers are sent: report in-band, as OpenAI does
        yield _sse(exc.body())
        yield DONE
    finally:
        cancel.set()
        watcher.cancel()


def _finish_chunks(
    head: dict[str, Any], body: ChatBody, finish: Finish, held: _Choice
) -> Iterator[bytes]:
    reason: str = finish.reason
    if body.parse_tools:
        message, called = _message(body, "".join(held.pieces))
        logprobs = held.logprobs if body.logprobs else None
        if message["content"] or logprobs:
            yield _chunk(head, finish.index, {"content": message["content"] or ""}, None, logprobs)
        if called:
            calls = [call | {"index": i} for i, call in enumerate(message["tool_calls"])]
            yield _chunk(head, finish.index, {"tool_calls": calls})
            reason = "tool_calls"
    yield _chunk(head, finish.index, {}, reason)


def routes() -> list[Route]:
    return [Route("/v1/chat/completions", create_chat_completion, methods=["POST"])]
