"""`ft-tui serve --inference vllm --vllm-url URL`: chat completions answered by an external vLLM
OpenAI-compatible server, for a base model and its LoRA fine-tunes.

vLLM must serve the base model under its ft-tui name (`vllm serve DIR --served-model-name NAME
--enable-lora`, with `VLLM_ALLOW_RUNTIME_LORA_UPDATING=True`) and must be able to read the
adapters at the paths this server stores them (same machine or a shared file system). The first
request for a fine-tune or checkpoint loads its adapter with `POST /v1/load_lora_adapter
{"lora_name": <ft: id>, "lora_path": <adapter dir>}`; the `ft:` id is then the `model` of the
request to vLLM, so clients see the same ids as with the in-process engine. Deleting a model
unloads its adapter (`POST /v1/unload_lora_adapter`).

Each request is sent to vLLM streaming, whatever the client asked, and vLLM's chunks become the
driver's items, so n, logprobs, stop strings, tool-call parsing, usage and cancellation behave as
with the in-process engine; closing the upstream stream is how vLLM learns that a client left.
Tools are passed to vLLM's chat template with `tool_choice: "none"` (vLLM's own tool parsers need
server flags); the calls are parsed from the text here, as for local models.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tui.local.inference.types import (
    ChatJob,
    Finish,
    FinishReason,
    InferenceError,
    Item,
    Piece,
    TokenLogprob,
    TopLogprob,
    Usage,
)

CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 600.0  # a long prompt on a busy GPU server can take a while to its first token


class VllmDriver:
    def __init__(self, base_url: str, *, client: Any = None) -> None:
        import httpx2

        root = base_url.rstrip("/")
        self.base_url = root if root.endswith("/v1") else root + "/v1"
        timeout = httpx2.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)
        self._client = client if client is not None else httpx2.Client(timeout=timeout)
        self._loaded: dict[str, Path] = {}  # lora_name -> adapter dir
        self._lock = threading.Lock()

    # -- the driver API -------------------------------------------------------------------------

    def chat(self, job: ChatJob, cancel: threading.Event | None = None) -> Iterator[Item]:
        cancel = cancel if cancel is not None else threading.Event()
        if job.adapter_dir is not None:
            self._ensure_adapter(job.model, job.adapter_dir)
        model = job.base if job.adapter_dir is None else job.model
        payload = self._payload(job, model)
        open_choices = set(range(job.params.n))
        usage: Usage | None = None
        first_finish: FinishReason = "stop"
        try:
            with self._client.stream(
                "POST", f"{self.base_url}/chat/completions", json=payload
            ) as response:
                if response.status_code != 200:
                    response.read()
                    raise self._upstream_error(response.status_code, response.text)
                for line in response.iter_lines():
                    if cancel.is_set():
                        break
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    chunk = json.loads(data)
                    if "error" in chunk and not chunk.get("choices"):
                        raise self._upstream_error(500, data)
                    for item in _items_of(chunk):
                        if isinstance(item, Usage):
                            usage = item
                            continue
                        if isinstance(item, Finish):
                            open_choices.discard(item.index)
                            if item.index == 0:
                                first_finish = item.reason
                        yield item
        except InferenceError:
            raise
        except Exception as exc:  # httpx2 network errors, a malformed chunk
            raise InferenceError(
                "engine_unavailable",
                f"The vLLM server at {self.base_url} failed to answer: {exc}",
                status=502,
            ) from None
        for index in sorted(open_choices):  # cancelled, or vLLM ended without saying why
            yield Finish(index, "stop")
        if usage is None:
            usage = Usage(prompt_tokens=0, completion_tokens=0)
        usage.finish_reason = first_finish
        yield usage

    def unload_adapter(self, adapter_dir: Path) -> None:
        key = adapter_dir.resolve()
        with self._lock:
            names = [name for name, path in self._loaded.items() if path == key]
            for name in names:
                del self._loaded[name]
        for name in names:
            # vLLM gone or the adapter already unloaded: nothing is loaded there any more.
            with contextlib.suppress(Exception):
                self._client.post(f"{self.base_url}/unload_lora_adapter", json={"lora_name": name})

    # -- helpers ---------------------------------------------------------------------------------

    def _ensure_adapter(self, name: str, adapter_dir: Path) -> None:
        path = adapter_dir.resolve()
        with self._lock:
            if self._loaded.get(name) == path:
                return
            if not (path / "adapter_config.json").is_file():
                raise InferenceError("model_not_found", f"no LoRA adapter in {adapter_dir}")
            try:
                response = self._client.post(
                    f"{self.base_url}/load_lora_adapter",
                    json={"lora_name": name, "lora_path": str(path)},
                )
            except Exception as exc:
                raise InferenceError(
                    "engine_unavailable",
                    f"The vLLM server at {self.base_url} cannot be reached: {exc}",
                    status=502,
                ) from None
            if response.status_code != 200 and "already" not in response.text.lower():
                raise self._upstream_error(
                    response.status_code, response.text, f"loading the adapter of {name}"
                )
            self._loaded[name] = path

    def _payload(self, job: ChatJob, model: str) -> dict[str, Any]:
        params = job.params
        payload: dict[str, Any] = {
            "model": model,
            "messages": job.messages,
            "stream": True,
            "stream_options": {"include_usage": True},
            "temperature": params.temperature,
            "top_p": params.top_p,
            "n": params.n,
        }
        if params.max_tokens is not None:
            payload["max_tokens"] = params.max_tokens
        if params.stop:
            payload["stop"] = params.stop
        if params.seed is not None:
            payload["seed"] = params.seed
        if params.logprobs:
            payload["logprobs"] = True
            payload["top_logprobs"] = params.top_logprobs
        if job.tools:
            payload["tools"] = job.tools
            payload["tool_choice"] = "none"
        return payload

    def _upstream_error(self, status: int, text: str, doing: str = "") -> InferenceError:
        detail = text.strip()
        try:
            body = json.loads(text)
            error = body.get("error", body) if isinstance(body, dict) else {}
            detail = str(error.get("message") or body.get("message") or detail)
        except (ValueError, AttributeError):
            pass
        where = f" while {doing}" if doing else ""
        message = f"The vLLM server at {self.base_url} answered {status}{where}: {detail[:500]}"
        if 400 <= status < 500:
            return InferenceError("upstream_rejected", message, status=400)
        return InferenceError("engine_unavailable", message, status=502)


def _items_of(chunk: dict[str, Any]) -> Iterator[Item]:
    for choice in chunk.get("choices") or []:
        index = int(choice.get("index", 0))
        delta = choice.get("delta") or {}
        text = delta.get("content") or ""
        logprobs = tuple(_logprobs((choice.get("logprobs") or {}).get("content") or []))
        if text or logprobs:
            yield Piece(index, text, logprobs)
        reason = choice.get("finish_reason")
        if reason:
            yield Finish(index, "length" if reason == "length" else "stop")
    usage = chunk.get("usage")
    if isinstance(usage, dict):
        yield Usage(
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
        )


def _logprobs(entries: list[dict[str, Any]]) -> Iterator[TokenLogprob]:
    for entry in entries:
        top = tuple(
            TopLogprob(
                token=str(t.get("token", "")),
                logprob=float(t.get("logprob", 0.0)),
                bytes=list(t.get("bytes") or []),
            )
            for t in entry.get("top_logprobs") or []
        )
        yield TokenLogprob(
            token=str(entry.get("token", "")),
            logprob=float(entry.get("logprob", 0.0)),
            bytes=list(entry.get("bytes") or []),
            top=top,
        )
