"""Benchmark following a long job: poll cycles, cold open, reopen from cache, memory, charts.

    python -m benchmarks.jobs_bench [--events 100000] [--metrics 50000] [--cycles 40]

The fake OpenAI server runs in a child process (so its memory and CPU are not counted) with one
job of `--events` events, `--metrics` of them metrics events. This process then measures:

- cold open: the first poll with no cache (pages back through the whole history);
- live follow: `--cycles` poll cycles while the fake appends 5 metric steps per cycle;
- reopen from the SQLite cache (recent events + all metric points), no network;
- peak traced memory (tracemalloc) of the client side and the process's max RSS;
- `MetricsSeries`: append cost per point and `downsample(width=120)` cost vs history size,
  next to a plain O(n) min/max scan for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import resource
import statistics
import tempfile
import time
import tracemalloc
from multiprocessing.connection import Connection as Pipe
from pathlib import Path

from tui.core.metrics import MetricsSeries
from tui.services.cache import Cache
from tui.services.connection import connection_for
from tui.services.poller import JobPoller

WIDTH = 120


def _serve(pipe: Pipe, events: int, metrics: int) -> None:
    from tests.fake_openai import FakeOpenAI

    fake = FakeOpenAI().start()
    job_id = fake.add_job()
    fake.add_history(job_id, n_events=events, n_metrics=metrics)
    pipe.send((fake.base_url, fake.api_key, job_id))
    total = metrics * 2
    while True:
        command = pipe.recv()
        if command == "stop":
            break
        fake.add_metrics_steps(job_id, int(command), total_steps=total)
        pipe.send("ok")
    fake.stop()


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


async def _follow(
    args: argparse.Namespace, base_url: str, key: str, job_id: str, pipe: Pipe, workdir: Path
) -> None:
    os.environ.update(OPENAI_BASE_URL=base_url, OPENAI_API_KEY=key)
    os.environ["FT_TUI_CONFIG_DIR"] = str(workdir / "config")
    os.environ.pop("FT_TUI_PROFILE", None)
    cache = Cache(workdir / "cache.sqlite")
    connection = connection_for()
    await connection.client()  # import openai and build the client outside the timings
    poller = JobPoller(
        connection,
        job_id,
        cache=cache,
        page_size=args.page_size,
        history_page_size=args.history_page_size,
    )
    start = time.perf_counter()
    first = await poller.poll_once()
    cold = time.perf_counter() - start
    print(
        f"cold open (no cache): {_ms(cold)} for {len(first.new_events)} events, "
        f"{first.new_points} metric points, {poller.requests} requests "
        f"(page size {args.history_page_size} while paging back)"
    )

    cycles: list[float] = []
    for _ in range(args.cycles):
        pipe.send(5)
        pipe.recv()
        start = time.perf_counter()
        update = await poller.poll_once()
        cycles.append(time.perf_counter() - start)
        assert update.new_points == 5, update.new_points
    cycles.sort()
    print(
        f"live poll cycle (5 new points, retrieve + 1 events page + cache write): "
        f"median {_ms(statistics.median(cycles))}, "
        f"p95 {_ms(cycles[int(len(cycles) * 0.95) - 1])}, max {_ms(cycles[-1])}"
    )
    print(f"kept in memory: {len(poller.events)} events, {len(poller.metrics)} metric points")

    reopened = JobPoller(connection, job_id, cache=Cache(workdir / "cache.sqlite"))
    start = time.perf_counter()
    cached = await reopened.open_cached()
    took = time.perf_counter() - start
    assert cached is not None
    print(
        f"reopen from cache: {_ms(took)} ({len(cached.new_events)} recent events, "
        f"{len(reopened.metrics)} metric points, no network)"
    )
    start = time.perf_counter()
    update = await reopened.poll_once()
    print(
        f"first poll after reopen: {_ms(time.perf_counter() - start)}, "
        f"{len(update.new_events)} new events, {reopened.requests} requests"
    )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"client process max RSS: {rss:.0f} MiB (includes the openai SDK import)")
    # Peak memory of a cold open and of following, measured apart (tracemalloc slows Python).
    tracemalloc.start()
    fresh = JobPoller(
        connection,
        job_id,
        page_size=args.page_size,
        history_page_size=args.history_page_size,
    )
    await fresh.poll_once()
    _, cold_peak = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    for _ in range(10):
        pipe.send(5)
        pipe.recv()
        await fresh.poll_once()
    _, follow_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"peak traced memory: cold open {cold_peak / 1024**2:.1f} MiB, "
        f"following {follow_peak / 1024**2:.1f} MiB"
    )


def _downsample_table() -> None:
    print(f"\nMetricsSeries: append and downsample(width={WIDTH}) vs history size")
    print(f"{'points':>9} {'append/pt':>10} {'downsample':>11} {'naive O(n) scan':>16}")
    for n in (1_000, 10_000, 100_000, 1_000_000):
        series = MetricsSeries()
        datas = [
            {
                "step": s,
                "train_loss": 1.0 / s,
                "train_mean_token_accuracy": 0.5,
                **({"valid_loss": 2.0 / s} if s % 10 == 0 else {}),
            }
            for s in range(1, n + 1)
        ]
        start = time.perf_counter()
        series.extend(datas)
        append = (time.perf_counter() - start) / n
        repeats = 20
        start = time.perf_counter()
        for _ in range(repeats):
            series.downsample("train_loss", WIDTH)
        down = (time.perf_counter() - start) / repeats
        values = [v for _, v in series.values("train_loss")]
        start = time.perf_counter()
        for _ in range(repeats):
            chunk = max(1, len(values) // WIDTH)
            [
                (min(values[i : i + chunk]), max(values[i : i + chunk]))
                for i in range(0, len(values), chunk)
            ]
        naive = (time.perf_counter() - start) / repeats
        print(f"{n:>9,} {append * 1e6:>8.2f}µs {_ms(down):>11} {_ms(naive):>16}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--metrics", type=int, default=50_000)
    parser.add_argument("--cycles", type=int, default=40)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--history-page-size", type=int, default=100)
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    server = ctx.Process(target=_serve, args=(child, args.events, args.metrics), daemon=True)
    server.start()
    base_url, key, job_id = parent.recv()
    print(f"fake job {job_id}: {args.events:,} events, {args.metrics:,} metric points")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(_follow(args, base_url, key, job_id, parent, Path(tmp)))
    finally:
        parent.send("stop")
        server.join(timeout=10)
    _downsample_table()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
