"""State of the fake OpenAI server: files, uploads, jobs, models, injected faults, requests."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.fake_openai.jobs import FakeJob, Json

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
    # When set, the answer to (model, messages) instead of `reply`: models that differ.
    responder: Callable[[str, list[Any]], str] | None = None


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
