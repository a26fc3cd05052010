"""Follow one fine-tuning job: status, events merged by id, metrics, checkpoints at the end.

One poller per visible job. Each cycle retrieves the job, then reads events newest first
(`limit=page_size`; `history_page_size` when paging further back or on a first open) and pages
back only until it meets an id it already has, so history is never refetched and nothing is
skipped or duplicated. It waits `fast_interval` while the job is
running, `slow_interval` while validating, queued or paused, and stops on a terminal status
(after fetching the checkpoints) or on `stop()`. Rate limits, 5xx and network errors back off
exponentially with jitter (honouring `Retry-After`) and set the connection to degraded; the
first success sets it back to ok. Other errors (401, 404…) end the poller with a `PollProblem`.

    poller = JobPoller(app.connection, job_id, cache=cache, on_update=handle)
    await poller.run()                      # in a worker; returns when finished or stopped
    # or: async for message in poller.updates(): ...
    poller.stop(); poller.wake()            # from the UI: end, or poll right now

Messages are `JobUpdate` (with only the *new* events and the number of new metric points; the
whole `poller.metrics` series and a bounded window `poller.events` are on the poller) or
`PollProblem`. When a cache is given, the first message comes from it (`source="cache"`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import sqlite3
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import orjson

from tui.core.job_status import FAST_POLL_STATUSES
from tui.core.metrics import MetricsSeries
from tui.services.errors import (
    ServiceError,
    UserMessage,
    describe_error,
    is_retryable,
    retry_after_seconds,
)
from tui.services.job_types import CheckpointInfo, EventInfo, JobInfo

if TYPE_CHECKING:
    from openai import AsyncOpenAI

    from tui.services.cache import Cache
    from tui.services.connection import Connection

log = logging.getLogger("ft-tui.services")


class ResponseError(ServiceError):
    """The server answered with something that is not the API's shape."""

    title = "Unexpected answer from the server"


@dataclass(frozen=True)
class JobUpdate:
    job: JobInfo
    new_events: tuple[EventInfo, ...]  # oldest first
    new_points: int  # metric points added to poller.metrics by this update
    checkpoints: tuple[CheckpointInfo, ...] | None  # set once, when known
    source: Literal["cache", "network"]

    @property
    def finished(self) -> bool:
        return self.job.is_terminal and self.checkpoints is not None


@dataclass(frozen=True)
class PollProblem:
    message: UserMessage
    retry_in: float | None  # None: the poller gave up
    attempt: int


PollerMessage = JobUpdate | PollProblem


class JobPoller:
    def __init__(
        self,
        connection: Connection,
        job_id: str,
        *,
        cache: Cache | None = None,
        on_update: Callable[[PollerMessage], None] | None = None,
        fast_interval: float = 2.0,
        slow_interval: float = 10.0,
        page_size: int = 100,
        history_page_size: int | None = None,
        backoff_base: float = 1.0,
        max_backoff: float = 60.0,
        max_events_in_memory: int = 5000,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.connection = connection
        self.job_id = job_id
        self.cache = cache
        self.on_update = on_update
        self.fast_interval = fast_interval
        self.slow_interval = slow_interval
        self.page_size = page_size
        # Paging back through history: the bundled server accepts 1000 per page; other
        # backends keep the head page size (OpenAI documents no maximum).
        if history_page_size is None:
            history_page_size = 1000 if connection.profile.is_local else page_size
        self.history_page_size = history_page_size
        self.backoff_base = backoff_base
        self.max_backoff = max_backoff
        self.jitter = jitter
        self.job: JobInfo | None = None
        self.events: deque[EventInfo] = deque()
        self.max_events_in_memory = max_events_in_memory
        self.metrics = MetricsSeries()
        self.checkpoints: tuple[CheckpointInfo, ...] | None = None
        self.requests = 0  # API requests made, for tests and benchmarks
        self.cache_problem: str | None = None  # set when a cache write failed (cache dropped)
        self._known: set[str] = set()
        self._newest_id: str | None = None
        self._stopped = False
        self._wake = asyncio.Event()

    @property
    def cache_key(self) -> str:
        return self.connection.profile.cache_key

    # -- control ------------------------------------------------------------------------------
    def stop(self) -> None:
        self._stopped = True
        self._wake.set()

    def wake(self) -> None:
        """Poll now instead of waiting out the interval (e.g. after pause/resume)."""
        self._wake.set()

    @property
    def stopped(self) -> bool:
        return self._stopped

    # -- cache --------------------------------------------------------------------------------
    async def open_cached(self) -> JobUpdate | None:
        if self.cache is None:
            return None
        cached = await asyncio.to_thread(self.cache.load_job, self.cache_key, self.job_id)
        if cached is None:
            return None
        self.job = cached.job
        self.metrics = cached.metrics
        self.checkpoints = tuple(cached.checkpoints) if cached.checkpoints is not None else None
        self._remember(cached.events)
        self._newest_id = cached.newest_event_id
        return JobUpdate(
            cached.job, tuple(cached.events), len(cached.metrics), self.checkpoints, "cache"
        )

    def _remember(self, events: list[EventInfo]) -> None:
        for event in events:
            self.events.append(event)
            self._known.add(event.id)
            self._newest_id = event.id
        while len(self.events) > self.max_events_in_memory:
            self._known.discard(self.events.popleft().id)

    # -- one cycle ----------------------------------------------------------------------------
    async def poll_once(self) -> JobUpdate:
        client = (await self.connection.client()).with_options(max_retries=0)
        self.requests += 1
        job = JobInfo.from_sdk(await client.fine_tuning.jobs.retrieve(self.job_id))
        new_events = await self._fetch_new_events(client)
        checkpoints: tuple[CheckpointInfo, ...] | None = None
        if job.is_terminal and self.checkpoints is None:
            try:
                checkpoints = tuple(await self._fetch_checkpoints(client))
            except Exception as exc:
                # Some compatible backends have no checkpoints endpoint: the job still ends.
                if getattr(exc, "status_code", None) not in (400, 404, 405, 501):
                    raise
                checkpoints = ()
        # Only now that every request of the cycle succeeded does the state change, so a
        # failed cycle is simply repeated.
        points = self.metrics.extend([e.data for e in new_events if e.data and e.is_metrics])
        self.job = job
        self._remember(new_events)
        if checkpoints is not None:
            self.checkpoints = checkpoints
        if self.cache is not None:
            try:
                await asyncio.to_thread(self._store, job, new_events, checkpoints)
            except (sqlite3.Error, OSError) as exc:
                # A full disk or a locked file must not stop following the job.
                log.warning("cache disabled for %s: %s", self.job_id, exc)
                self.cache_problem = f"cache disabled: {exc}"
                self.cache = None
        self.connection.report_success()
        return JobUpdate(job, tuple(new_events), points, self.checkpoints, "network")

    def _store(
        self, job: JobInfo, events: list[EventInfo], ckpts: tuple[CheckpointInfo, ...] | None
    ) -> None:
        assert self.cache is not None
        self.cache.save_job(self.cache_key, job)
        if events:
            self.cache.append_events(self.cache_key, self.job_id, events)
        if ckpts is not None:
            self.cache.save_checkpoints(self.cache_key, self.job_id, list(ckpts))

    async def _fetch_new_events(self, client: AsyncOpenAI) -> list[EventInfo]:
        """Events newer than the newest known one, oldest first. Pages back with `after` until a
        known id (or the start of history); a failure drops the partial batch, so the next
        cycle refetches it whole: no gaps, no duplicates."""
        collected: list[EventInfo] = []
        seen_now: set[str] = set()
        after: str | None = None
        while True:
            cold = not self._known and self._newest_id is None
            head = after is None and not cold
            kwargs: dict[str, Any] = {"limit": self.page_size if head else self.history_page_size}
            if after is not None:
                kwargs["after"] = after
            self.requests += 1
            # The raw body parsed with orjson: 3× cheaper than building SDK models per event,
            # which matters when a first open pages through 100k events.
            response = await client.fine_tuning.jobs.with_raw_response.list_events(
                self.job_id, **kwargs
            )
            page = _event_page(response.content)
            met_known = False
            for raw in page[0]:
                event_id = str(raw.get("id") or "")
                if not event_id:
                    continue
                if event_id in self._known or event_id == self._newest_id:
                    met_known = True
                    break
                if event_id not in seen_now:
                    seen_now.add(event_id)
                    collected.append(EventInfo.from_wire(raw))
            if met_known or not page[1] or not page[0]:
                break
            after = str(page[0][-1].get("id", ""))
        collected.reverse()
        return collected

    async def _fetch_checkpoints(self, client: AsyncOpenAI) -> list[CheckpointInfo]:
        found: list[CheckpointInfo] = []
        self.requests += 1
        async for ckpt in client.fine_tuning.jobs.checkpoints.list(self.job_id, limit=100):
            found.append(CheckpointInfo.from_sdk(ckpt))
        return found

    # -- the loop -----------------------------------------------------------------------------
    def backoff_delay(self, attempt: int, exc: BaseException | None = None) -> float:
        """Exponential (base · 2^(attempt-1), capped) with up to +50 % jitter; never below the
        server's Retry-After."""
        delay = min(self.max_backoff, self.backoff_base * 2.0 ** max(0, attempt - 1))
        delay *= 1 + 0.5 * self.jitter()
        server = retry_after_seconds(exc) if exc is not None else None
        return float(max(delay, server or 0.0))

    def interval(self) -> float:
        if self.job is not None and self.job.status in FAST_POLL_STATUSES:
            return self.fast_interval
        return self.slow_interval

    async def updates(self) -> AsyncIterator[PollerMessage]:
        """Every message until the job finishes, a fatal error, or `stop()`."""
        if self.job is None:
            cached = await self.open_cached()
            if cached is not None:
                yield cached
                if cached.finished:  # nothing can change any more: stay offline
                    return
        attempt = 0
        while not self._stopped:
            try:
                update = await self.poll_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # every failure becomes a PollProblem, never a traceback
                if not is_retryable(exc):
                    self.connection.report_failure(exc)
                    yield PollProblem(describe_error(exc), None, attempt)
                    return
                attempt += 1
                delay = self.backoff_delay(attempt, exc)
                self.connection.report_failure(exc, delay)
                yield PollProblem(describe_error(exc), delay, attempt)
            else:
                attempt = 0
                yield update
                if update.finished:
                    return
                delay = self.interval()
            await self._sleep(delay)

    async def run(self) -> None:
        """Consume `updates()`, handing each message to `on_update`."""
        async for message in self.updates():
            if self.on_update is not None:
                self.on_update(message)

    async def _sleep(self, seconds: float) -> None:
        if self._stopped:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        self._wake.clear()


def _event_page(body: bytes) -> tuple[list[dict[str, Any]], bool]:
    """(events, has_more) from a list-events response body, tolerating odd shapes."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise ResponseError("the server sent an events page that is not JSON") from None
    data = payload.get("data") if isinstance(payload, dict) else None
    events = [e for e in data if isinstance(e, dict)] if isinstance(data, list) else []
    return events, bool(payload.get("has_more")) if isinstance(payload, dict) else False
