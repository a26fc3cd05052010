"""Benchmark the job view as a user meets it: a job with 100k events and 50k metric points.

    python -m benchmarks.chart_bench [--events 100000] [--metrics 50000] [--cycles 20]

The fake OpenAI server runs in a child process (its memory and CPU are not counted). This
process runs the real app headless (`FtApp.run_test`) and measures:

- time to open the job view: from pushing the screen to the header showing the last step with
  every metric point in the chart (cold: no cache), then again once the job has finished
  (reopen: from the SQLite cache, no network);
- time per poll cycle as the screen sees it: the poller's request round plus applying the update
  to the header, event log and chart (5 new metric points per cycle);
- time per chart redraw against history size, outside the app: a full frame (any resize:
  O(width · log n) over `tui.core.metrics`), a live frame (5 new points: only the buckets they
  fall in) and the braille render (O(width × height));
- peak memory: the process's max RSS before and after opening the view.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing as mp
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

from tui.core.metrics import MetricsSeries
from tui.widgets.loss_chart import FrameCache, frame_from_series, render_frame

CHART_SIZE = (160, 30)  # cells of the chart widget in a 200×50 terminal


def _serve(pipe: Pipe, events: int, metrics: int) -> None:
    from tests.fake_openai.server import FakeOpenAI

    fake = FakeOpenAI().start()
    job_id = fake.add_job()
    fake.add_history(job_id, n_events=events, n_metrics=metrics)
    pipe.send((fake.base_url, fake.api_key, job_id))
    while True:
        command = pipe.recv()
        if command == "stop":
            break
        if command == "finish":
            with fake.lock:
                fake.job(job_id).data.update(status="succeeded", finished_at=int(time.time()))
        else:
            fake.add_metrics_steps(job_id, int(command), total_steps=metrics * 2)
        pipe.send("ok")
    fake.stop()


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _until(pilot: Any, predicate: Callable[[], bool], timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        await pilot.pause(0.01)


async def _in_app(args: argparse.Namespace, job_id: str, pipe: Pipe) -> None:
    from screens import job_detail
    from screens.job_detail import JobDetailScreen
    from tui.app import FtApp
    from tui.services.connection import connection_for
    from tui.widgets.event_log import EventLog
    from tui.widgets.loss_chart import LossChart

    job_detail.FAST_INTERVAL = 3600.0  # cycles are driven by hand below
    job_detail.SLOW_INTERVAL = 3600.0
    app = FtApp(Path.cwd(), connection=connection_for())
    async with app.run_test(size=(200, 50)) as pilot:
        rss_before = _rss_mib()
        screen = JobDetailScreen(job_id)
        start = time.perf_counter()
        await app.push_screen(screen)
        await _until(pilot, lambda: screen.job is not None)
        first_paint = time.perf_counter() - start
        await _until(
            pilot, lambda: screen.poller is not None and len(screen.poller.metrics) >= args.metrics
        )
        await _until(pilot, lambda: screen.query_one(EventLog).entry_count >= args.events)
        await pilot.pause()
        cold = time.perf_counter() - start
        assert screen.poller is not None
        print(f"open, cold: header with the job's status after {_ms(first_paint)}")
        print(
            f"open, cold (no cache): everything after {_ms(cold)} — "
            f"{screen.query_one(EventLog).entry_count:,} events in the log, "
            f"{len(screen.poller.metrics):,} points in the chart, "
            f"{screen.poller.requests} requests"
        )
        print(f"max RSS: {rss_before:.0f} MiB before opening, {_rss_mib():.0f} MiB after")

        chart = screen.query_one(LossChart)
        applied: list[float] = []
        original = screen._apply

        def timed(message: Any) -> None:
            begin = time.perf_counter()
            original(message)
            applied.append(time.perf_counter() - begin)

        screen.poller.on_update = timed
        cycles: list[float] = []
        redraws: list[float] = []
        for _ in range(args.cycles):
            pipe.send(5)
            pipe.recv()
            begin = time.perf_counter()
            update = await screen.poller.poll_once()
            timed(update)
            cycles.append(time.perf_counter() - begin)
            begin = time.perf_counter()
            chart.mark_dirty()
            chart.render()
            redraws.append(time.perf_counter() - begin)
        print(
            f"poll cycle (5 new points; request round + screen update): median "
            f"{_ms(statistics.median(cycles))}, max {_ms(max(cycles))}; of which applying to "
            f"the widgets: median {_ms(statistics.median(applied))}"
        )
        print(
            f"chart redraw in the app ({chart.content_size.width}×{chart.content_size.height}, "
            f"{len(screen.poller.metrics):,} points): median {_ms(statistics.median(redraws))}"
        )
        pipe.send("finish")
        pipe.recv()
        screen.poller.wake()
        screen.action_refresh()
        await _until(pilot, lambda: screen.job is not None and screen.job.is_terminal)
        await _until(pilot, lambda: not screen.polling)
        app.pop_screen()
        await pilot.pause()

        again = JobDetailScreen(job_id)
        start = time.perf_counter()
        await app.push_screen(again)
        await _until(pilot, lambda: again.poller is not None and len(again.poller.metrics) > 0)
        await _until(pilot, lambda: "succeeded" in str(again.query_one("#job-header").render()))
        await pilot.pause()
        warm = time.perf_counter() - start
        assert again.poller is not None
        print(
            f"reopen the finished job (from the cache): {_ms(warm)} — "
            f"{len(again.poller.metrics):,} points, {again.poller.requests} requests"
        )


def _rows(first: int, last: int, total: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for step in range(first, last + 1):
        row: dict[str, object] = {
            "step": step,
            "total_steps": total,
            "train_loss": 2.0 * math.exp(-step / (total / 3)) + 0.05 * math.sin(step),
            "train_mean_token_accuracy": 0.5 + 0.4 * step / total,
        }
        if step % 10 == 0:
            row["valid_loss"] = 2.1 * math.exp(-step / (total / 3))
        rows.append(row)
    return rows


def _series(points: int, total: int) -> MetricsSeries:
    series = MetricsSeries()
    series.extend(_rows(1, points, total))  # one batch, as the poller appends a page
    return series


def _redraw_table() -> None:
    width, height = CHART_SIZE
    dots = (width - 8) * 2
    print(f"chart redraw at {width}×{height} cells vs history size (medians of 20)")
    print(f"{'points':>9} {'full frame':>11} {'live frame':>11} {'render':>9} {'live redraw':>12}")
    for points in (3, 1_000, 10_000, 50_000, 200_000):
        series = _series(points, total=points * 2)
        full: list[float] = []
        for _ in range(20):
            begin = time.perf_counter()
            frame_from_series(series, dots, False)
            full.append(time.perf_counter() - begin)
        cache = FrameCache()
        cache.frame(series, dots, False)
        live: list[float] = []
        renders: list[float] = []
        step = points
        for _ in range(20):  # what a running job costs: 5 new points, then a redraw
            series.extend(_rows(step + 1, step + 5, points * 2))
            step += 5
            begin = time.perf_counter()
            frame = cache.frame(series, dots, False)
            middle = time.perf_counter()
            render_frame(frame, width, height)
            live.append(middle - begin)
            renders.append(time.perf_counter() - middle)
        full_ms, live_ms = statistics.median(full), statistics.median(live)
        render_ms = statistics.median(renders)
        print(
            f"{points:>9,} {_ms(full_ms):>11} {_ms(live_ms):>11} {_ms(render_ms):>9} "
            f"{_ms(live_ms + render_ms):>12}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--metrics", type=int, default=50_000)
    parser.add_argument("--cycles", type=int, default=20)
    args = parser.parse_args(argv)
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    server = ctx.Process(target=_serve, args=(child, args.events, args.metrics), daemon=True)
    server.start()
    base_url, key, job_id = parent.recv()
    print(f"fake job {job_id}: {args.events:,} events, {args.metrics:,} metric points")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ.update(OPENAI_BASE_URL=base_url, OPENAI_API_KEY=key)
            os.environ["FT_TUI_CONFIG_DIR"] = str(Path(tmp) / "config")
            os.environ["FT_TUI_DATA_DIR"] = str(Path(tmp) / "data")
            os.environ.pop("FT_TUI_PROFILE", None)
            asyncio.run(_in_app(args, job_id, parent))
    finally:
        parent.send("stop")
        server.join(timeout=10)
    print()
    _redraw_table()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
