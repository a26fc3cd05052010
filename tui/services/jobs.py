"""Fine-tuning jobs over `AsyncOpenAI`: list, retrieve, create, cancel/pause/resume, checkpoints,
result files and models. Returns the plain types of `job_types`.

    jobs = JobsService(app.connection, cache)               # cache optional (tui.services.cache)
    page = await jobs.list_jobs(limit=20)                   # JobPage(jobs, has_more, last_id)
    offline = jobs.cached_jobs()                            # what the cache remembers
    more = await jobs.list_jobs(after=page.last_id)
    job = await jobs.create(JobSpec(model="gpt-4o-mini-2024-07-18", training_file="file-…",
                                    suffix="recipes", hyperparameters={"n_epochs": 3}))
    await jobs.pause(job.id); await jobs.resume(job.id); await jobs.cancel(job.id)
    ckpts = await jobs.checkpoints(job.id)                   # newest first, every page
    csv_text = await jobs.result_csv(job)                    # base64 decoded when it is base64
    models = await jobs.models()                             # ModelInfo with days_left()

Every call reports success or failure to the connection's health; failures are re-raised
unchanged (turn them into words with `errors.describe_error`). Local checks on a `JobSpec`
raise `JobSpecError` before anything is sent.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from tui.core.hyperparameters import HyperparameterError
from tui.core.hyperparameters import check as check_hyperparameters
from tui.services.errors import ServiceError
from tui.services.job_types import CheckpointInfo, EventInfo, JobInfo, ModelInfo

if TYPE_CHECKING:
    from openai import AsyncOpenAI

    from tui.services.cache import Cache
    from tui.services.connection import Connection

T = TypeVar("T")
METHODS = ("supervised", "dpo")
_B64 = re.compile(rb"^[A-Za-z0-9+/]+={0,2}$")


class JobSpecError(ServiceError):
    """A job request that would be rejected; the message names the field."""

    title = "Invalid job settings"


@dataclass(frozen=True)
class JobPage:
    jobs: list[JobInfo]
    has_more: bool

    @property
    def last_id(self) -> str | None:
        return self.jobs[-1].id if self.jobs else None


@dataclass(frozen=True)
class JobSpec:
    model: str
    training_file: str
    validation_file: str | None = None
    method: str = "supervised"  # or "dpo"
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)  # "auto" or a number each
    suffix: str | None = None
    seed: int | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)

    def validate(self) -> None:
        if not self.model.strip():
            raise JobSpecError("model: choose a base model")
        if not self.training_file.strip():
            raise JobSpecError("training_file: choose or upload a training file")
        if self.validation_file and self.validation_file == self.training_file:
            raise JobSpecError("validation_file: must differ from the training file")
        if self.method not in METHODS:
            raise JobSpecError(f"method: must be one of {', '.join(METHODS)}")
        if self.suffix is not None and not 1 <= len(self.suffix) <= 64:
            raise JobSpecError("suffix: 1 to 64 characters")
        if len(self.metadata) > 16 or any(
            len(k) > 64 or len(v) > 512 for k, v in self.metadata.items()
        ):
            raise JobSpecError("metadata: at most 16 pairs, keys ≤ 64 and values ≤ 512 chars")
        try:  # names and ranges have one owner, shared with the local server and the form
            check_hyperparameters(self.method, dict(self.hyperparameters), "hyperparameters")
        except HyperparameterError as exc:
            raise JobSpecError(exc.message) from None

    def to_create_kwargs(self) -> dict[str, Any]:
        hyper = dict(self.hyperparameters)
        kwargs: dict[str, Any] = {
            "model": self.model,
            "training_file": self.training_file,
            "method": {"type": self.method, self.method: {"hyperparameters": hyper}},
        }
        if self.validation_file:
            kwargs["validation_file"] = self.validation_file
        if self.suffix:
            kwargs["suffix"] = self.suffix
        if self.seed is not None:
            kwargs["seed"] = self.seed
        if self.metadata:
            kwargs["metadata"] = dict(self.metadata)
        return kwargs


def decode_result_content(content: bytes) -> bytes:
    """Result CSVs may arrive base64-encoded; decode only when the whole body is base64 and
    decodes to UTF-8 text (a plain CSV always has commas, which base64 never does)."""
    compact = b"".join(content.split())
    if not compact or len(compact) % 4 or not _B64.match(compact):
        return content
    try:
        decoded = base64.b64decode(compact, validate=True)
        decoded.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return content
    return decoded


class JobsService:
    def __init__(self, connection: Connection, cache: Cache | None = None) -> None:
        self.connection = connection
        self.cache = cache

    def cached_jobs(self, limit: int = 200) -> list[JobInfo]:
        """Jobs listed or followed before with this profile (newest first): the offline list."""
        if self.cache is None:
            return []
        return self.cache.cached_jobs(self.connection.profile.cache_key, limit)

    async def _call(self, fn: Callable[[AsyncOpenAI], Awaitable[T]]) -> T:
        client = await self.connection.client()
        try:
            result = await fn(client)
        except Exception as exc:
            self.connection.report_failure(exc)
            raise
        self.connection.report_success()
        return result

    async def list_jobs(self, *, limit: int = 20, after: str | None = None) -> JobPage:
        """One page, newest first. There is no status filter in the API."""

        async def call(client: AsyncOpenAI) -> JobPage:
            kwargs: dict[str, Any] = {"limit": limit}
            if after:
                kwargs["after"] = after
            page = await client.fine_tuning.jobs.list(**kwargs)
            return JobPage([JobInfo.from_sdk(j) for j in page.data], bool(page.has_more))

        result = await self._call(call)
        if self.cache is not None and result.jobs:
            await asyncio.to_thread(self._remember, result.jobs)
        return result

    def _remember(self, jobs: list[JobInfo]) -> None:
        assert self.cache is not None
        for job in jobs:
            self.cache.save_job(self.connection.profile.cache_key, job)

    async def retrieve(self, job_id: str) -> JobInfo:
        return await self._call(
            lambda c: _job(c.fine_tuning.jobs.retrieve(job_id)),
        )

    async def create(self, spec: JobSpec) -> JobInfo:
        spec.validate()
        kwargs = spec.to_create_kwargs()
        return await self._call(lambda c: _job(c.fine_tuning.jobs.create(**kwargs)))

    async def cancel(self, job_id: str) -> JobInfo:
        return await self._call(lambda c: _job(c.fine_tuning.jobs.cancel(job_id)))

    async def pause(self, job_id: str) -> JobInfo:
        return await self._call(lambda c: _job(c.fine_tuning.jobs.pause(job_id)))

    async def resume(self, job_id: str) -> JobInfo:
        return await self._call(lambda c: _job(c.fine_tuning.jobs.resume(job_id)))

    async def events_page(
        self, job_id: str, *, after: str | None = None, limit: int = 100
    ) -> tuple[list[EventInfo], bool]:
        """One page of events, newest first, and whether older ones exist."""

        async def call(client: AsyncOpenAI) -> tuple[list[EventInfo], bool]:
            kwargs: dict[str, Any] = {"limit": limit}
            if after:
                kwargs["after"] = after
            page = await client.fine_tuning.jobs.list_events(job_id, **kwargs)
            return [EventInfo.from_sdk(e) for e in page.data], bool(page.has_more)

        return await self._call(call)

    async def checkpoints(self, job_id: str) -> list[CheckpointInfo]:
        """Every checkpoint of the job, newest first (SFT keeps the last three epochs)."""

        async def call(client: AsyncOpenAI) -> list[CheckpointInfo]:
            found: list[CheckpointInfo] = []
            async for ckpt in client.fine_tuning.jobs.checkpoints.list(job_id, limit=100):
                found.append(CheckpointInfo.from_sdk(ckpt))
            return found

        return await self._call(call)

    async def download_file(self, file_id: str) -> bytes:
        """A result file's bytes, base64-decoded when the content is base64."""

        async def call(client: AsyncOpenAI) -> bytes:
            response = await client.files.content(file_id)
            return decode_result_content(response.read())

        return await self._call(call)

    async def result_csv(self, job: JobInfo) -> str | None:
        """The job's first result CSV as text, or None when it has none yet."""
        if not job.result_files:
            return None
        data = await self.download_file(job.result_files[0])
        return data.decode("utf-8", errors="replace")

    async def models(self) -> list[ModelInfo]:
        """Every model the key can use; `shutdown_date` gives `ModelInfo.days_left()`."""

        async def call(client: AsyncOpenAI) -> list[ModelInfo]:
            page = await client.models.list()
            return [ModelInfo.from_sdk(m) for m in page.data]

        return await self._call(call)


async def _job(pending: Awaitable[Any]) -> JobInfo:
    return JobInfo.from_sdk(await pending)
