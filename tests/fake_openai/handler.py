"""HTTP plumbing of the fake OpenAI server: auth, injected faults, JSON, multipart, chat SSE."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from tests.fake_openai.jobs import Json
from tests.fake_openai.state import ChatScript, HTTPError, RecordedRequest

if TYPE_CHECKING:
    from tests.fake_openai.server import FakeOpenAI


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOpenAI
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes

    def log_message(self, fmt: str, *args: Any) -> None:  # keep test output quiet
        return

    # -- plumbing -------------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _json_body(self, raw: bytes) -> Json:
        try:
            value = json.loads(raw or b"{}")
        except ValueError:
            raise HTTPError(400, "We could not parse the JSON body of your request.") from None
        if not isinstance(value, dict):
            raise HTTPError(400, "The body must be a JSON object.")
        return value

    def _send_json(self, status: int, payload: Json, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _send_error(self, err: HTTPError, headers: dict[str, str] | None = None) -> None:
        self._send_json(
            err.status,
            {
                "error": {
                    "message": str(err),
                    "type": err.type,
                    "param": err.param,
                    "code": err.code,
                }
            },
            headers,
        )

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _dispatch(self, method: str) -> None:
        split = urlsplit(self.path)
        path = split.path.removeprefix("/v1")
        query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        raw = self._body()
        fake = self.fake
        with fake.lock:
            fake.state.requests.append(RecordedRequest(method, path, query))
        auth = self.headers.get("Authorization", "")
        key = auth.removeprefix("Bearer ").strip() or self.headers.get("api-key", "")
        if key != fake.api_key:
            self._send_error(HTTPError(401, "Incorrect API key provided.", "invalid_api_key"))
            return
        fault = fake.take_fault(path)
        if fault is not None and fault.status == -1:
            time.sleep(fault.delay)
            fault = None
        if fault is not None:
            if fault.status == 0:
                self._drop()
                return
            headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
            if fault.status == 429:
                code, kind = "rate_limit_exceeded", "requests"
            elif fault.status >= 500:
                code, kind = "server_error", "server_error"
            else:
                code, kind = None, "invalid_request_error"
            self._send_error(
                HTTPError(fault.status, f"Injected {fault.status}", code, None, kind), headers
            )
            return
        try:
            if method == "POST" and path == "/chat/completions":
                self._chat(self._json_body(raw))
                return
            with fake.lock:
                status, payload = _route(fake, method, path, query, raw, self)
        except HTTPError as err:
            self._send_error(err)
            return
        if isinstance(payload, bytes):
            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        else:
            self._send_json(status, payload)

    # -- chat -----------------------------------------------------------------------------------
    def _chat(self, body: Json) -> None:
        fake = self.fake
        model = str(body.get("model", ""))
        with fake.lock:
            known = model in fake.state.model_names()
            script = ChatScript(fake.chat.reply, fake.chat.chunk_delay, fake.chat.drop_after)
            responder = fake.chat.responder
        if not known:
            raise HTTPError(
                404,
                f"The model `{model}` does not exist or you do not have access to it.",
                "model_not_found",
            )
        if not isinstance(body.get("messages"), list) or not body["messages"]:
            raise HTTPError(400, "messages must be a non-empty array", None, "messages")
        if responder is not None:
            script.reply = responder(model, body["messages"])
        created, chat_id = int(time.time()), f"chatcmpl-{time.time_ns():x}"
        words = script.reply.split(" ")
        usage = {
            "prompt_tokens": 10,
            "completion_tokens": len(words),
            "total_tokens": 10 + len(words),
        }
        if not body.get("stream"):
            self._send_json(
                200,
                {
                    "id": chat_id,
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "logprobs": None,
                            "message": {
                                "role": "assistant",
                                "content": script.reply,
                                "refusal": None,
                            },
                        }
                    ],
                    "usage": usage,
                },
            )
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        pieces = [{"role": "assistant", "content": ""}] + [
            {"content": w if i == 0 else " " + w} for i, w in enumerate(words)
        ]
        for i, delta in enumerate(pieces):
            if script.drop_after is not None and i >= script.drop_after:
                self.wfile.write(b'40\r\ndata: {"partial')  # half a chunk, then the cut
                self.wfile.flush()
                self._drop()
                return
            chunk = {
                "id": chat_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
            }
            self._write_chunk(f"data: {json.dumps(chunk)}\n\n".encode())
            if script.chunk_delay:
                time.sleep(script.chunk_delay)
        final = {
            "id": chat_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
            "usage": usage if (body.get("stream_options") or {}).get("include_usage") else None,
        }
        self._write_chunk(f"data: {json.dumps(final)}\n\n".encode())
        self._write_chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def multipart(self, raw: bytes) -> dict[str, tuple[str | None, bytes]]:
        """Form fields of a multipart body: name → (filename, bytes)."""
        header = f"Content-Type: {self.headers.get('Content-Type', '')}\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(header + raw)
        if not message.is_multipart():
            raise HTTPError(400, "expected a multipart/form-data body")
        fields: dict[str, tuple[str | None, bytes]] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(payload, bytes):
                fields[name] = (part.get_filename(), payload)
        return fields


def _route(
    fake: FakeOpenAI, method: str, path: str, query: dict[str, str], raw: bytes, handler: _Handler
) -> tuple[int, Json | bytes]:
    from tests.fake_openai.routes import route

    return route(fake.state, method, path, query, raw, handler, fake)
