"""`run_eval`: ask every model every row, score, judge, and store each row as it finishes.

Rows run concurrently; each backend (profile) allows `spec.concurrency` calls at a time. A
failed call (after retries, see `backends`) is an error for that model on that row; the run
goes on. Each finished row is committed to the store before the next is reported, so a run
killed at any moment resumes (`resume_run_id`) without asking any finished row again.
Setting `cancel` stops the run: rows in flight are abandoned and the run is `cancelled`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import replace
from itertools import combinations
from typing import Any

from tui.core.eval.judge import combine, judge_messages, parse_choice
from tui.core.eval.pairwise import Verdict
from tui.core.eval.rows import EvalRow, reference_text
from tui.core.eval.scorers import JUDGE, Reply, ScorerError, score_all, validate_scorers
from tui.services.eval.backends import Backends, RetryPolicy
from tui.services.eval.dataset import load_dataset
from tui.services.eval.store import EvalStore
from tui.services.eval.summary import pair_key, summarize
from tui.services.eval.types import Answer, EvalError, EvalSpec, RowResult, RunSummary

OnRow = Callable[[RowResult, RunSummary], None]
SNAPSHOT_INTERVAL_S = 0.2


def check_spec(spec: EvalSpec) -> EvalSpec:
    """The spec with `judge` added to the scorers when a judge is given. Raises `EvalError`."""
    if not spec.models:
        raise EvalError("give at least one --model")
    labels = [m.label for m in spec.models]
    if len(set(labels)) != len(labels):
        raise EvalError("a --model is given twice")
    scorers = list(spec.scorers)
    if spec.judge is not None and JUDGE not in scorers:
        scorers.append(JUDGE)
    try:
        validate_scorers(scorers)
    except ScorerError as exc:
        raise EvalError(f"--scorer: {exc}") from None
    if JUDGE in scorers and spec.judge is None:
        raise EvalError("the judge scorer needs --judge MODEL")
    if JUDGE in scorers and len(spec.models) < 2:
        raise EvalError("the judge compares answers pairwise: give at least two --model")
    if not scorers:
        raise EvalError("give at least one --scorer")
    if spec.concurrency < 1:
        raise EvalError(f"--concurrency must be at least 1, got {spec.concurrency}")
    if spec.limit is not None and spec.limit < 1:
        raise EvalError(f"--limit must be at least 1, got {spec.limit}")
    if spec.max_tokens is not None and spec.max_tokens < 1:
        raise EvalError(f"--max-tokens must be at least 1, got {spec.max_tokens}")
    if spec.temperature is not None and not 0 <= spec.temperature <= 2:
        raise EvalError(f"--temperature must be from 0 to 2, got {spec.temperature:g}")
    return EvalSpec(
        dataset=spec.dataset,
        models=list(spec.models),
        scorers=scorers,
        judge=spec.judge,
        limit=spec.limit,
        concurrency=spec.concurrency,
        temperature=spec.temperature,
        max_tokens=spec.max_tokens,
        seed=spec.seed,
    )


async def _judge_pair(
    backends: Backends, spec: EvalSpec, row: EvalRow, a: Answer, b: Answer
) -> Verdict:
    if a.error is not None or b.error is not None:
        if a.error is None:
            return "a"
        return "b" if b.error is None else "tie"
    assert spec.judge is not None
    ref = reference_text(row.reference)
    text_a = a.text or str(a.tool_calls or "")
    text_b = b.text or str(b.tool_calls or "")
    first, second = await asyncio.gather(
        backends.chat(spec.judge, judge_messages(row.prompt, ref, text_a, text_b), temperature=0),
        backends.chat(spec.judge, judge_messages(row.prompt, ref, text_b, text_a), temperature=0),
    )
    return combine(parse_choice(first.text), parse_choice(second.text))


async def evaluate_row(backends: Backends, spec: EvalSpec, row: EvalRow) -> RowResult:
    """Every model's answer to one row, scored (and judged)."""
    answers = await asyncio.gather(
        *(
            backends.chat(
                ref,
                row.prompt,
                tools=row.tools,
                temperature=spec.temperature,
                max_tokens=spec.max_tokens,
                seed=spec.seed,
            )
            for ref in spec.models
        )
    )
    by_label: dict[str, Answer] = {}
    for ref, answer in zip(spec.models, answers, strict=True):
        if answer.error is None:
            reply = Reply(answer.text, answer.tool_calls)
            answer.scores = score_all(spec.scorers, reply, row.reference)
        by_label[ref.label] = answer
    result = RowResult(row.line, row.prompt, row.reference, by_label)
    if spec.judge is not None:
        pairs = list(combinations([m.label for m in spec.models], 2))
        verdicts = await asyncio.gather(
            *(_judge_pair(backends, spec, row, by_label[a], by_label[b]) for a, b in pairs)
        )
        result.judge = {pair_key(a, b): v for (a, b), v in zip(pairs, verdicts, strict=True)}
        points = {label: [0.0, 0] for label in by_label}
        for (a, b), verdict in zip(pairs, verdicts, strict=True):
            gain_a = 1.0 if verdict == "a" else 0.5 if verdict == "tie" else 0.0
            points[a][0] += gain_a
            points[b][0] += 1.0 - gain_a
            points[a][1] += 1
            points[b][1] += 1
        for label, answer in by_label.items():
            if answer.error is None:
                answer.scores[JUDGE] = points[label][0] / max(1, int(points[label][1]))
    return result


async def run_eval(
    spec: EvalSpec,
    *,
    store: EvalStore,
    resume_run_id: str | None = None,
    on_row: OnRow | None = None,
    cancel: asyncio.Event | None = None,
    backends: Backends | None = None,
    on_start: Callable[[str, int, int], None] | None = None,
) -> RunSummary:
    """Run (or resume) an eval; returns the final `RunSummary`. Raises `EvalError` for bad
    input before any call is made. With `resume_run_id` the stored spec is used and `spec` is
    ignored; rows already stored are not asked again. `on_start(run_id, examples,
    already_done)` is called once the dataset is read; `on_row` after each stored row.
    `backends`: by default one is made from the profiles and closed at the end; pass one (e.g.
    `Backends(k, connect=…)` with the app's connections) to share connections."""
    if resume_run_id is not None:
        spec = store.spec(resume_run_id)
    spec = check_spec(spec)
    rows = await asyncio.to_thread(load_dataset, spec.dataset, spec.limit)
    own = backends is None
    pool = backends or Backends(spec.concurrency, policy=RetryPolicy())
    try:
        profiles: dict[str, tuple[str | None, bool]] = {}
        for ref in [*spec.models, *([spec.judge] if spec.judge else [])]:
            profile = pool.profile(ref)
            profiles[ref.label] = (profile.name, profile.is_local)
        if resume_run_id is None:
            run_id = store.create_run(spec, examples=len(rows), profiles=profiles)
            done: set[int] = set()
        else:
            run_id = resume_run_id
            store.set_status(run_id, "running", examples=len(rows))
            store.set_profiles(run_id, profiles)
            done = store.done_lines(run_id)
        if on_start is not None:
            on_start(run_id, len(rows), len(done & {r.line for r in rows}))
        todo = [r for r in rows if r.line not in done]
        await _run_rows(pool, spec, store, run_id, todo, profiles, on_row, cancel)
        cancelled = cancel is not None and cancel.is_set()
        store.set_status(run_id, "cancelled" if cancelled else "completed")
        return store.get_run(run_id)
    except asyncio.CancelledError:
        if "run_id" in locals():
            with contextlib.suppress(Exception):
                store.set_status(run_id, "cancelled")
        raise
    finally:
        if own:
            await pool.aclose()


async def _run_rows(
    pool: Backends,
    spec: EvalSpec,
    store: EvalStore,
    run_id: str,
    todo: list[EvalRow],
    profiles: dict[str, tuple[str | None, bool]],
    on_row: OnRow | None,
    cancel: asyncio.Event | None,
) -> None:
    # Enough rows in flight to keep every backend's `concurrency` slots busy.
    workers = max(1, min(len(todo), spec.concurrency * 2))
    queue = iter(todo)
    stored = store.rows(run_id) if on_row is not None else []
    snapshots = _Snapshots(store, run_id, spec, profiles)
    remaining = len(todo)

    async def worker() -> None:
        nonlocal remaining
        for row in queue:
            if cancel is not None and cancel.is_set():
                return
            result = await evaluate_row(pool, spec, row)
            store.save_row(run_id, result)
            remaining -= 1
            if on_row is not None:
                stored.append(result)
                on_row(result, snapshots.after(stored, last=remaining == 0))

    tasks = [asyncio.create_task(worker()) for _ in range(workers)]
    waiter = asyncio.create_task(cancel.wait()) if cancel is not None else None
    try:
        pending: set[asyncio.Task[Any]] = set(tasks)
        if waiter is not None:
            pending.add(waiter)
        while any(not t.done() for t in tasks):
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for t in done:
                failure = None if t is waiter else t.exception()
                if failure is not None:
                    raise failure
            if waiter is not None and waiter.done():
                break
    finally:
        for t in [*tasks, *([waiter] if waiter else [])]:
            t.cancel()
        await asyncio.gather(*tasks, *([waiter] if waiter else []), return_exceptions=True)


class _Snapshots:
    """The run as it stands after each row, for `on_row`. Aggregating costs O(rows done), so
    it is recomputed at most every `SNAPSHOT_INTERVAL_S` (and after the last row); in between
    only `done_rows` moves on. This keeps a long run linear instead of quadratic."""

    def __init__(
        self,
        store: EvalStore,
        run_id: str,
        spec: EvalSpec,
        profiles: dict[str, tuple[str | None, bool]],
    ) -> None:
        self.base = store.get_run_meta(run_id)
        self.spec, self.profiles = spec, profiles
        self.last: RunSummary | None = None
        self.at = 0.0

    def after(self, rows: list[RowResult], *, last: bool) -> RunSummary:
        now = time.monotonic()
        if self.last is None or last or now - self.at >= SNAPSHOT_INTERVAL_S:
            models, pairwise = summarize(self.spec, rows, self.profiles)
            self.last = replace(self.base, models=models, pairwise=pairwise)
            self.at = now
        return replace(self.last, done_rows=len(rows))
