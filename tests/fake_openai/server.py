"""A real HTTP server on loopback that plays OpenAI's protocol, for tests that drive the real SDK.

Files (multipart upload, list, retrieve, delete, content), uploads in parts, fine-tuning jobs
(create, list, retrieve, cancel, pause, resume, events, checkpoints), models (list, retrieve,
delete) and chat completions (streaming and not). Jobs follow a script that the test moves on::

    from tests.fake_openai.server import FakeOpenAI

    with FakeOpenAI() as fake:                      # or the `fake_openai` pytest fixture
        job_id = fake.add_job()                     # success script: validating_files first
        fake.advance(job_id)                        # → queued
        fake.advance(job_id, 3)                     # → running, then metrics events
        fake.run_to_end(job_id)                     # → … paused → running → succeeded
        failing = fake.add_job(script="failure")    # → failed (invalid_n_examples) on advance
        fake.fail_next(429, count=2, path_contains="/events")   # injected errors, Retry-After: 0
        fake.drop_next(path_contains="/jobs/")      # close the connection without an answer
        fake.delay_next(2.0, path_contains="/models")   # answer, but 2 s late
        fake.start_auto_advance(0.5)                # or let time move every job along
        fake.chat.reply = "Hello there"             # scripted chat answer, streamed word by word
        fake.chat.chunk_delay = 0.05                # seconds between stream chunks
        fake.chat.drop_after = 2                    # cut the stream after 2 chunks
        client = openai.AsyncOpenAI(base_url=fake.base_url, api_key=fake.api_key)

Unknown models give OpenAI's 404 `model_not_found`; a bad key gives 401. Every request is
recorded in `fake.requests` as (method, path, query dict) for assertions.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fake_openai.jobs import (
    TERMINAL,
    FakeJob,
    JobPlan,
    Json,
    failure_stages,
    new_job_data,
    success_stages,
)

BASE_MODELS: dict[str, str | None] = {
    "gpt-4o-mini-2024-07-18": "2027-01-14",
    "gpt-4.1-mini-2025-04-14": "2027-01-14",
    "gpt-4.1-nano-2025-04-14": "2026-10-23",
    "gpt-5-chat": None,
}


class HTTPError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        param: str | None = None,
        type_: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.param, self.type = status, code, param, type_


@dataclass
class ChatScript:
    reply: str = "This is a scripted answer from the fake OpenAI server."
    chunk_delay: float = 0.0
    drop_after: int | None = None  # chunks sent before the connection is cut


@dataclass
class _Fault:
    status: int  # 0 = drop the connection, -1 = answer normally after `delay`
    count: int
    path_contains: str
    retry_after: float | None
    delay: float = 0.0


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]


@dataclass
class FakeState:
    api_key: str
    files: dict[str, tuple[Json, bytes]] = field(default_factory=dict)
    uploads: dict[str, tuple[Json, list[tuple[str, bytes]]]] = field(default_factory=dict)
    jobs: dict[str, FakeJob] = field(default_factory=dict)  # insertion order = creation order
    models: dict[str, str | None] = field(default_factory=lambda: dict(BASE_MODELS))
    deleted_models: set[str] = field(default_factory=set)
    faults: list[_Fault] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)
    chat: ChatScript = field(default_factory=ChatScript)
    counter: int = 0

    def next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter:012x}"

    def add_file(self, filename: str, content: bytes, purpose: str) -> Json:
        file_id = self.next_id("file-")
        meta = {
            "object": "file",
            "id": file_id,
            "bytes": len(content),
            "created_at": int(time.time()),
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
            "expires_at": None,
            "status_details": None,
        }
        self.files[file_id] = (meta, content)
        return meta

    def model_names(self) -> dict[str, str | None]:
        names = dict(self.models)
        for job in self.jobs.values():
            base_date = self.models.get(str(job.data["model"]))
            if job.data.get("fine_tuned_model"):
                names[str(job.data["fine_tuned_model"])] = base_date
            for ckpt in job.checkpoints:
                names[str(ckpt["fine_tuned_model_checkpoint"])] = base_date
        return {k: v for k, v in names.items() if k not in self.deleted_models}


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that time out or hang up mid-answer are part of the tests, not errors."""
        return


class FakeOpenAI:
    """Start with `start()` or `with FakeOpenAI() as fake:`; see the module docstring."""

    def __init__(self, api_key: str = "sk-fake-0000000000000000test") -> None:
        self.state = FakeState(api_key=api_key)
        self.lock = threading.RLock()
        self._server: _QuietServer | None = None
        self._thread: threading.Thread | None = None
        self._auto_stop = threading.Event()

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> FakeOpenAI:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = _QuietServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._auto_stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "call start() first"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def api_key(self) -> str:
        return self.state.api_key

    @property
    def chat(self) -> ChatScript:
        return self.state.chat

    @property
    def requests(self) -> list[RecordedRequest]:
        return self.state.requests

    # -- scenario control ----------------------------------------------------------------------
    def add_file(self, filename: str, content: bytes, purpose: str = "fine-tune") -> str:
        with self.lock:
            return str(self.state.add_file(filename, content, purpose)["id"])

    def add_job(
        self,
        *,
        script: str = "success",
        model: str = "gpt-4o-mini-2024-07-18",
        plan: JobPlan | None = None,
        training_file: str | None = None,
        validation_file: str | None = None,
        suffix: str | None = "demo",
        method: Json | None = None,
    ) -> str:
        """Add a job in `validating_files`; `script` is "success", "failure" or "idle"."""
        plan = plan or JobPlan(suffix=suffix)
        with self.lock:
            training_file = training_file or self.add_file("train.jsonl", b"{}\n")
            job_id = self.state.next_id("ftjob-")
            data = new_job_data(
                job_id,
                model=model,
                training_file=training_file,
                validation_file=validation_file,
                suffix=suffix,
                seed=None,
                method=method,
                metadata=None,
                plan=plan,
            )
            job = FakeJob(data)
            job.add_event(f"Created fine-tuning job: {job_id}")
            job.add_event(f"Validating training file: {training_file}")
            if script == "success":
                job.stages = success_stages(plan, self._result_file)
            elif script == "failure":
                job.stages = failure_stages()
            self.state.jobs[job_id] = job
            return job_id

    def _result_file(self, name: str, content: bytes) -> str:
        return str(self.state.add_file(name, content, "fine-tune-results")["id"])

    def job(self, job_id: str) -> FakeJob:
        return self.state.jobs[job_id]

    def advance(self, job_id: str | None = None, n: int = 1) -> None:
        """Move one job (or every job) `n` stages along its script."""
        with self.lock:
            targets = [self.state.jobs[job_id]] if job_id else list(self.state.jobs.values())
            for job in targets:
                for _ in range(n):
                    if job.held or not job.stages or job.status in TERMINAL:
                        break
                    job.stages.pop(0)(job)

    def run_to_end(self, job_id: str) -> None:
        with self.lock:
            job = self.state.jobs[job_id]
            self.advance(job_id, len(job.stages))

    def add_history(self, job_id: str, n_events: int, n_metrics: int) -> None:
        """Bulk history for benchmarks: `n_metrics` metrics events among `n_events` events."""
        with self.lock:
            job = self.state.jobs[job_id]
            job.data["status"] = "running"
            job.stages = []
            plan = JobPlan(total_steps=max(1, n_metrics), n_epochs=3)
            from tests.fake_openai.jobs import metrics_message, step_metrics

            every = max(1, n_events // max(1, n_metrics))
            step = 0
            for i in range(n_events):
                if step < n_metrics and i % every == 0:
                    step += 1
                    data = step_metrics(step, plan.total_steps, plan.steps_per_epoch)
                    job.add_event(metrics_message(data), type_="metrics", data=data)
                else:
                    job.add_event(f"Progress note {i}")

    def add_metrics_steps(self, job_id: str, steps: int, total_steps: int) -> None:
        """Append `steps` more metrics events to a running job (following it live)."""
        from tests.fake_openai.jobs import metrics_message, step_metrics

        with self.lock:
            job = self.state.jobs[job_id]
            done = sum(1 for e in job.events if e["type"] == "metrics")
            for step in range(done + 1, done + steps + 1):
                data = step_metrics(step, total_steps, max(1, total_steps // 3))
                job.add_event(metrics_message(data), type_="metrics", data=data)

    def fail_next(
        self, status: int, count: int = 1, path_contains: str = "", retry_after: float | None = 0
    ) -> None:
        """The next `count` requests whose path contains `path_contains` get `status`."""
        with self.lock:
            self.state.faults.append(_Fault(status, count, path_contains, retry_after))

    def drop_next(self, count: int = 1, path_contains: str = "") -> None:
        """The next `count` matching requests get their connection closed without an answer."""
        with self.lock:
            self.state.faults.append(_Fault(0, count, path_contains, None))

    def delay_next(self, seconds: float, count: int = 1, path_contains: str = "") -> None:
        """The next `count` matching requests are answered normally, `seconds` late."""
        with self.lock:
            self.state.faults.append(_Fault(-1, count, path_contains, None, seconds))

    def start_auto_advance(self, interval: float = 1.0) -> None:
        """Advance every job one stage each `interval` seconds (demos, time-based tests)."""
        self._auto_stop.clear()

        def loop() -> None:
            while not self._auto_stop.wait(interval):
                self.advance()

        threading.Thread(target=loop, daemon=True, name="fake-openai-advance").start()

    def stop_auto_advance(self) -> None:
        self._auto_stop.set()

    def take_fault(self, path: str) -> _Fault | None:
        with self.lock:
            for fault in self.state.faults:
                if fault.count > 0 and fault.path_contains in path:
                    fault.count -= 1
                    return fault
            return None


def _page(items: list[Json], after: str | None, limit: int) -> Json:
    """A cursor page over items already in the API's order."""
    start = 0
    if after is not None:
        ids = [str(item["id"]) for item in items]
        start = ids.index(after) + 1 if after in ids else len(items)
    data = items[start : start + limit]
    return {
        "object": "list",
        "data": data,
        "has_more": start + limit < len(items),
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
    }


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
        if not known:
            raise HTTPError(
                404,
                f"The model `{model}` does not exist or you do not have access to it.",
                "model_not_found",
            )
        if not isinstance(body.get("messages"), list) or not body["messages"]:
            raise HTTPError(400, "messages must be a non-empty array", None, "messages")
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
