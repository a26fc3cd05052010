"""`ft-tui eval` throughput.

    python -m benchmarks.eval_bench [fake] [local] [--rows 200] [--rounds 3] [--json]

- `fake`: rows/s of `run_eval` against the HTTP fake OpenAI (real SDK over loopback) whose
  every chat answer takes a fixed `--delay` (default: 100 ms, then 500 ms), at concurrency 8,
  one model. The backend bounds the rate at 8 / delay rows/s (the *ideal*); the baseline is
  the bare SDK doing the same calls with the same 8-way limit and no scoring or storing. Best
  of `--rounds`.
- `local`: a `--rows`-row eval of two models on the real local server (`ft-tui serve` with the
  default SmolLM2-135M-Instruct): the base model and a fine-tune made first (12 rows, 1
  epoch). Reports wall time, rows/s and mean latency per model, against the bare SDK asking the
  same two models the first 20 rows one call at a time.

Sections are functions in `SECTIONS`; the Eval screen's frame-gap measurement is meant to be
added there as another section.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.eval.sentiment import split_rows, write_jsonl

DEFAULT = "HuggingFaceTB/SmolLM2-135M-Instruct"


async def _bare_sdk(base_url: str, key: str, model: str, rows: list[dict[str, Any]], limit: int,
                    **options: Any) -> float:  # fmt: skip
    """Seconds for the bare SDK to ask every row with at most `limit` calls at once."""
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=base_url, api_key=key, max_retries=0, timeout=900)
    gate = asyncio.Semaphore(limit)

    async def one(row: dict[str, Any]) -> None:
        async with gate:
            await client.chat.completions.create(
                model=model, messages=row["messages"][:-1], **options
            )

    started = time.perf_counter()
    await asyncio.gather(*(one(r) for r in rows))
    elapsed = time.perf_counter() - started
    await client.close()
    return elapsed


async def _ft_tui_eval(dataset: Path, models: list[str], concurrency: int, store_dir: Path,
                       **spec_options: Any) -> tuple[float, float, Any]:  # fmt: skip
    """(seconds asking the rows, seconds before the first call (lint + read), summary)."""
    from tui.services.eval import EvalSpec, EvalStore, ModelRef, run_eval
    from tui.services.eval.backends import Backends

    spec = EvalSpec(dataset, [ModelRef.parse(m) for m in models], concurrency=concurrency,
                    **spec_options)  # fmt: skip
    store = EvalStore(store_dir / f"eval-{time.perf_counter_ns()}.sqlite")
    backends = Backends(concurrency)
    started = time.perf_counter()
    rows_started = started

    def on_start(run_id: str, examples: int, done: int) -> None:
        nonlocal rows_started
        rows_started = time.perf_counter()

    try:
        summary = await run_eval(spec, store=store, backends=backends, on_start=on_start)
    finally:
        await backends.aclose()
    return time.perf_counter() - rows_started, rows_started - started, summary


def bench_fake(args: argparse.Namespace) -> dict[str, Any]:
    return {f"delay_{d:g}s": _bench_fake_delay(args, d) for d in args.delay}


def _bench_fake_delay(args: argparse.Namespace, delay: float) -> dict[str, Any]:
    import os

    from tests.fake_openai.server import FakeOpenAI

    concurrency = 8
    _, rows = split_rows(0, args.rows)
    model = "gpt-4o-mini-2024-07-18"

    def responder(_model: str, messages: list[Any]) -> str:
        time.sleep(delay)
        return "positive"

    with FakeOpenAI() as fake, tempfile.TemporaryDirectory() as tmp:
        fake.chat.responder = responder
        os.environ.update(OPENAI_BASE_URL=fake.base_url, OPENAI_API_KEY=fake.api_key,
                          FT_TUI_CONFIG_DIR=str(Path(tmp) / "config"))  # fmt: skip
        os.environ.pop("FT_TUI_PROFILE", None)
        dataset = write_jsonl(Path(tmp) / "rows.jsonl", rows)
        ours, bare, setup = [], [], []
        for _ in range(args.rounds):
            elapsed, before, summary = asyncio.run(
                _ft_tui_eval(dataset, [model], concurrency, Path(tmp))
            )
            assert summary.models[0].answered == len(rows), summary.models[0]
            ours.append(elapsed)
            setup.append(before)
            bare.append(asyncio.run(_bare_sdk(fake.base_url, fake.api_key, model, rows, 8)))
    ideal = concurrency / delay
    result = {
        "rows": len(rows),
        "delay_s": delay,
        "concurrency": concurrency,
        "ideal_rows_per_s": round(ideal, 1),
        "ft_tui_rows_per_s": round(len(rows) / min(ours), 1),
        "bare_sdk_rows_per_s": round(len(rows) / min(bare), 1),
        "ft_tui_setup_s": round(min(setup), 2),  # lint + read, before the first call
    }
    result["ft_tui_vs_ideal"] = round(result["ft_tui_rows_per_s"] / ideal, 3)
    result["ft_tui_vs_bare_sdk"] = round(min(bare) / min(ours), 3)
    return result


def _fine_tune(client: Any, tmp: Path) -> str:
    train, _ = split_rows(12, 0, seed=1)
    file = client.files.create(file=write_jsonl(tmp / "train.jsonl", train), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(
        model=DEFAULT,
        training_file=file.id,
        suffix="bench",
        method={"type": "supervised", "supervised": {"hyperparameters": {
            "n_epochs": 1, "batch_size": 4, "learning_rate_multiplier": 10.0}}},
    )  # fmt: skip
    while True:
        job = client.fine_tuning.jobs.retrieve(job.id)
        if job.status in ("succeeded", "failed", "cancelled"):
            assert job.status == "succeeded", job.error
            return str(job.fine_tuned_model)
        time.sleep(1)


def bench_local(args: argparse.Namespace) -> dict[str, Any]:
    import os

    from tests.local.conftest import API_KEY, LocalServer
    from tests.local.tiny_model import build_tiny_model

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        server = LocalServer(tmp / "server", build_tiny_model(tmp / "tiny"), [])
        server.start()
        try:
            tuned = _fine_tune(server.client(timeout=900), tmp)
            os.environ.update(OPENAI_BASE_URL=server.base_url, OPENAI_API_KEY=API_KEY,
                              FT_TUI_CONFIG_DIR=str(tmp / "config"))  # fmt: skip
            os.environ.pop("FT_TUI_PROFILE", None)
            _, rows = split_rows(0, args.rows, seed=2)
            dataset = write_jsonl(tmp / "rows.jsonl", rows)
            options = {"temperature": 0.0, "max_tokens": 4}
            elapsed, setup, summary = asyncio.run(
                _ft_tui_eval(dataset, [DEFAULT, tuned], 2, tmp, **options)
            )
            sample = rows[:20]
            bare = sum(
                asyncio.run(_bare_sdk(server.base_url, API_KEY, m, sample, 1, **options))
                for m in (DEFAULT, tuned)
            )
        finally:
            server.stop()
    return {
        "rows": len(rows),
        "models": 2,
        "wall_s": round(elapsed + setup, 1),
        "rows_per_s": round(len(rows) / elapsed, 2),
        "calls_per_s": round(2 * len(rows) / elapsed, 2),
        "bare_sdk_sequential_calls_per_s": round(2 * len(sample) / bare, 2),
        "models_detail": [
            {
                "model": m.model,
                "exact": m.scores.get("exact"),
                "errors": m.errors,
                "mean_latency_s": m.mean_latency_s,
            }
            for m in summary.models
        ],  # fmt: skip
    }


SECTIONS: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "fake": bench_fake,
    "local": bench_local,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("sections", nargs="*", metavar="SECTION", help=", ".join(SECTIONS))
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--delay",
        type=float,
        action="append",
        help="fake backend latency in seconds; repeat for several (default 0.1 and 0.5)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    args.delay = args.delay or [0.1, 0.5]
    unknown = [s for s in args.sections if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section {unknown[0]!r} (known: {', '.join(SECTIONS)})")
    results = {name: SECTIONS[name](args) for name in args.sections or ["fake"]}
    if args.json:
        print(json.dumps(results))
    else:
        for name, result in results.items():
            print(f"[{name}]")
            for key, value in result.items():
                print(f"  {key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
