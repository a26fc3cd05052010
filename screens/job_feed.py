"""Following one job through the `openai` SDK: the job, its events (newest-first pages, fetched
incrementally and de-duplicated by id), its checkpoints, with backoff on 429/5xx.

`JobFeed.run(connection, on_update)` loops until cancelled; each round calls `on_update` on the
UI loop with what changed. A finished job is fetched once, then the loop only sleeps. Metric
events feed a `MetricsHistory` (over `tui.core.metrics`) whose chart frame costs
O(width · log n), not O(history).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tui.widgets.event_log import LogEntry
from tui.widgets.job_table import TERMINAL_STATUSES, field_of
from tui.widgets.loss_chart import ChartFrame, PlotSeries

LOSS_KEYS = (
    ("train_loss", "train", "bright_cyan"),
    ("valid_loss", "valid", "yellow"),
    ("full_valid_loss", "full valid", "bright_magenta"),
)
ACCURACY_KEYS = (
    ("train_mean_token_accuracy", "train", "bright_cyan"),
    ("valid_mean_token_accuracy", "valid", "yellow"),
    ("full_valid_mean_token_accuracy", "full valid", "bright_magenta"),
)


class MetricsHistory:
    """A job's metric series (`tui.core.metrics`) seen as chart frames."""

    def __init__(self) -> None:
        from tui.core.metrics import MetricsSeries

        self.series = MetricsSeries()

    def add(self, data: Any) -> bool:
        """One metrics event's `data`; returns whether anything new was recorded."""
        return isinstance(data, Mapping) and self.series.add_event_data(data)

    @property
    def last_step(self) -> int:
        return self.series.last_step or 0

    @property
    def first_step(self) -> int:
        return self.series.steps[0] if len(self.series) else 0

    @property
    def total_steps(self) -> int:
        return self.series.total_steps or 0

    @property
    def points(self) -> int:
        return len(self.series)

    def frame(self, width: int, accuracy: bool = False) -> ChartFrame:
        """Each series cut into ≤ `width` step buckets: O(width · log n) whatever the history."""
        keys = ACCURACY_KEYS if accuracy else LOSS_KEYS
        first, last = self.first_step, max(self.last_step, self.total_steps)
        plotted: list[PlotSeries] = []
        for key, label, style in keys:
            latest = self.series.last(key)
            if latest is None:
                continue
            buckets = self.series.downsample(key, width, (first, last))
            plotted.append(
                PlotSeries(
                    label,
                    style,
                    xs=[(b.step_lo + b.step_hi) / 2 for b in buckets],
                    ys=[(b.lo + b.hi) / 2 for b in buckets],
                    last=latest[1],
                    lows=[b.lo for b in buckets],
                    highs=[b.hi for b in buckets],
                )
            )
        return ChartFrame(
            series=plotted,
            x_min=float(first),
            x_max=float(last),
            title="token accuracy" if accuracy else "loss",
            points=self.points,
            empty_text="No metrics yet: they appear once training starts.",
        )


@dataclass
class FeedUpdate:
    job: Any = None
    events: list[LogEntry] = field(default_factory=list)
    new_points: int = 0
    checkpoints: Sequence[Any] | None = None
    backoff: str = ""


def entry_of(event: Any) -> LogEntry:
    return LogEntry(
        id=str(field_of(event, "id", "")),
        created_at=int(field_of(event, "created_at", 0) or 0),
        level=str(field_of(event, "level", "info") or "info"),
        message=str(field_of(event, "message", "") or ""),
        type=str(field_of(event, "type", "message") or "message"),
    )


def decode_result_file(raw: bytes) -> bytes:
    """Result CSVs may come base64-encoded; return the CSV bytes either way."""
    text = raw.strip()
    if b"," in text[:200]:
        return raw
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return raw
    return decoded if decoded[:1].isascii() else raw


class JobFeed:
    """Polls one job. `interval` applies while the job moves; errors back off exponentially."""

    def __init__(
        self,
        job_id: str,
        *,
        interval: float = 2.0,
        page_size: int = 100,
        max_backoff: float = 60.0,
    ) -> None:
        self.job_id = job_id
        self.interval = interval
        self.page_size = page_size
        self.max_backoff = max_backoff
        self.history = MetricsHistory()
        self.started_at: float | None = None
        self.seen: set[str] = set()
        self.job: Any = None
        self._wake = asyncio.Event()
        self._done_fetched = False

    def wake(self) -> None:
        """Poll now instead of waiting for the next round."""
        self._wake.set()

    async def run(self, connection: Any, on_update: Callable[[FeedUpdate], None]) -> None:
        backoff = 0.0
        while True:
            try:
                client = await connection.client()
                update = await self.poll_once(client)
            except Exception as exc:
                from tui.services.errors import describe_error, is_retryable

                if not is_retryable(exc):
                    raise
                backoff = min(self.max_backoff, max(self.interval, backoff * 2))
                connection.report_failure(exc, backoff)
                message = describe_error(exc)
                on_update(FeedUpdate(backoff=f"{message.title}: retrying in {backoff:.0f}s"))
                await self._sleep(backoff)
                continue
            connection.report_success()
            backoff = 0.0
            on_update(update)
            finished = str(field_of(self.job, "status", "")) in TERMINAL_STATUSES
            await self._sleep(self.interval * (15 if finished else 1))

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)

    async def poll_once(self, client: Any) -> FeedUpdate:
        job = await client.fine_tuning.jobs.retrieve(self.job_id)
        status = str(field_of(job, "status", ""))
        finished = status in TERMINAL_STATUSES
        update = FeedUpdate(job=job)
        self.job = job
        if self._done_fetched and finished:
            return update
        events = await self._new_events(client)
        for event in events:
            if field_of(event, "type") == "metrics":
                data = field_of(event, "data")
                if data is not None and self.history.add(data):
                    update.new_points += 1
                    if self.started_at is None:
                        self.started_at = float(field_of(event, "created_at", time.time()))
        update.events = [entry_of(event) for event in events]
        if finished or status == "paused" or not self._done_fetched:
            update.checkpoints = await self._checkpoints(client)
        self._done_fetched = finished
        return update

    async def _new_events(self, client: Any) -> list[Any]:
        """Events not seen yet, oldest first: page back until a known id or the beginning."""
        fresh: list[Any] = []
        after: str | None = None
        while True:
            params: dict[str, Any] = {"limit": self.page_size}
            if after:
                params["after"] = after
            page = await client.fine_tuning.jobs.list_events(self.job_id, **params)
            reached_known = False
            for event in page.data:
                event_id = str(field_of(event, "id", ""))
                if event_id in self.seen:
                    reached_known = True
                    break
                fresh.append(event)
            if reached_known or not page.data or not getattr(page, "has_more", False):
                break
            after = str(field_of(page.data[-1], "id", ""))
        fresh.reverse()
        for event in fresh:
            self.seen.add(str(field_of(event, "id", "")))
        return fresh

    async def _checkpoints(self, client: Any) -> list[Any]:
        page = await client.fine_tuning.jobs.checkpoints.list(self.job_id, limit=100)
        return list(page.data)
