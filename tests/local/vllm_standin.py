"""A small loopback HTTP stand-in for a vLLM OpenAI server started with `--enable-lora` and
runtime LoRA updating: it records every call and answers as vLLM does, without a model.

* `POST /v1/load_lora_adapter {"lora_name", "lora_path"}`: 200, or 400 when the path holds no
  adapter or the name is loaded already (vLLM's wording);
* `POST /v1/unload_lora_adapter {"lora_name"}`: 200, or 404 when unknown;
* `POST /v1/chat/completions`: the served base model or a loaded adapter answers
  `"[<model>] <last user message>"`, word by word when streamed (SSE, `[DONE]`, a usage chunk
  with `stream_options.include_usage`); an unknown model is a 404.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class VllmStandIn:
    def __init__(self, base_model: str) -> None:
        self.base_model = base_model
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.loaded: dict[str, str] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> VllmStandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def paths(self) -> list[str]:
        return [path for path, _ in self.calls]

    def chats(self) -> list[dict[str, Any]]:
        return [body for path, body in self.calls if path == "/v1/chat/completions"]

    # -- answers ---------------------------------------------------------------------------------

    def answer(self, path: str, body: dict[str, Any]) -> tuple[int, Any]:
        self.calls.append((path, body))
        if path == "/v1/load_lora_adapter":
            name, where = body.get("lora_name"), Path(str(body.get("lora_path")))
            if name in self.loaded:
                return 400, _error(f"The lora adapter '{name}' has already been loaded.")
            if not (where / "adapter_config.json").is_file():
                return 400, _error(f"Loading lora {name} failed: No adapter found for {where}")
            self.loaded[str(name)] = str(where)
            return 200, f"Success: LoRA adapter '{name}' added successfully."
        if path == "/v1/unload_lora_adapter":
            if self.loaded.pop(str(body.get("lora_name")), None) is None:
                return 404, _error(f"The lora adapter '{body.get('lora_name')}' cannot be found.")
            return 200, "Success"
        if path == "/v1/chat/completions":
            model = body.get("model")
            if model != self.base_model and model not in self.loaded:
                return 404, _error(f"The model `{model}` does not exist.", code=404)
            return 200, None
        return 404, _error("Not Found")

    def words(self, body: dict[str, Any]) -> list[str]:
        last = next(m for m in reversed(body["messages"]) if m["role"] == "user")
        words = f"[{body['model']}] {last['content']}".split(" ")
        return [w if i == 0 else " " + w for i, w in enumerate(words)]


def _error(message: str, code: int = 400) -> dict[str, Any]:
    return {"error": {"message": message, "type": "BadRequestError", "param": None, "code": code}}


def _handler(standin: VllmStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
            return

        def do_POST(self) -> None:  # noqa: N802 - stdlib's name
            length = int(self.headers.get("content-length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            status, payload = standin.answer(self.path, body)
            self.close_connection = True  # no keep-alive: `stop()` ends every connection
            if status != 200 or self.path != "/v1/chat/completions":
                self._send(status, payload)
            elif body.get("stream"):
                self._stream(body)
            else:
                self._send(200, self._completion(body))

        def _send(self, status: int, payload: Any) -> None:
            raw = (json.dumps(payload) if not isinstance(payload, str) else payload).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(raw)))
            self.send_header("connection", "close")
            self.end_headers()
            self.wfile.write(raw)

        def _limit(self, body: dict[str, Any]) -> tuple[list[str], str]:
            words = standin.words(body)
            limit = body.get("max_tokens")
            if limit is not None and limit < len(words):
                return words[:limit], "length"
            return words, "stop"

        def _completion(self, body: dict[str, Any]) -> dict[str, Any]:
            words, finish = self._limit(body)
            choices = [
                {
                    "index": i,
                    "message": {"role": "assistant", "content": "".join(words)},
                    "logprobs": None,
                    "finish_reason": finish,
                }
                for i in range(body.get("n", 1))
            ]
            usage = {"prompt_tokens": 7, "completion_tokens": len(words) * len(choices)}
            usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
            return {"id": "chatcmpl-standin", "object": "chat.completion", "created": 0,
                    "model": body["model"], "choices": choices, "usage": usage}  # fmt: skip

        def _stream(self, body: dict[str, Any]) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("transfer-encoding", "chunked")
            self.send_header("connection", "close")
            self.end_headers()
            words, finish = self._limit(body)
            head = {"id": "chatcmpl-standin", "object": "chat.completion.chunk", "created": 0}
            head["model"] = body["model"]
            n = body.get("n", 1)
            for word in words:
                for i in range(n):
                    logprobs = None
                    if body.get("logprobs"):
                        logprobs = {"content": [{"token": word, "logprob": -0.5, "bytes": None,
                                                 "top_logprobs": []}]}  # fmt: skip
                    choice = {"index": i, "delta": {"content": word}, "logprobs": logprobs,
                              "finish_reason": None}  # fmt: skip
                    self._event(head | {"choices": [choice]})
            for i in range(n):
                self._event(
                    head | {"choices": [{"index": i, "delta": {}, "finish_reason": finish}]}
                )
            if (body.get("stream_options") or {}).get("include_usage"):
                usage = {"prompt_tokens": 7, "completion_tokens": len(words) * n}
                usage["total_tokens"] = 7 + len(words) * n
                self._event(head | {"choices": [], "usage": usage})
            self._chunk(b"data: [DONE]\n\n")
            self._chunk(b"")

        def _event(self, payload: dict[str, Any]) -> None:
            self._chunk(b"data: " + json.dumps(payload).encode() + b"\n\n")

        def _chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

    return Handler
