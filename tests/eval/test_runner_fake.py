"""run_eval against the HTTP fake OpenAI through the real SDK: scores, retries, errors,
the JSON contract, cancel and resume."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.eval.conftest import BASE, OTHER, oracle, sentiment_rows, user_text, write_jsonl
from tests.fake_openai.server import FakeOpenAI
from tui.services.eval import EvalError, EvalSpec, ModelRef, RowResult, RunSummary
from tui.services.eval.backends import Backends, RetryPolicy
from tui.services.eval.runner import run_eval
from tui.services.eval.store import EvalStore

FAST = RetryPolicy(attempts=4, base_s=0.01, cap_s=0.05)


def _spec(path: Path, *models: str, **kw: Any) -> EvalSpec:
    return EvalSpec(path, [ModelRef.parse(m) for m in models], **kw)


def _run(
    spec: EvalSpec, store: EvalStore, sleeps: list[float] | None = None, **kw: Any
) -> RunSummary:
    async def sleep(seconds: float) -> None:
        if sleeps is not None:
            sleeps.append(seconds)
        await asyncio.sleep(seconds)

    async def go() -> RunSummary:
        backends = Backends(spec.concurrency, policy=FAST, sleep=sleep)
        try:
            return await run_eval(spec, store=store, backends=backends, **kw)
        finally:
            await backends.aclose()

    return asyncio.run(go())


def test_scores_pairwise_and_json_contract(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    fake_openai.chat.responder = oracle
    data = write_jsonl(tmp_path / "held.jsonl", sentiment_rows(12))
    store = EvalStore(tmp_path / "eval.sqlite")
    summary = _run(_spec(data, BASE, OTHER), store)
    assert summary.status == "completed" and summary.examples == 12 and summary.done_rows == 12
    out = summary.to_json()
    assert list(out) == ["run_id", "dataset", "examples", "models", "pairwise"]
    base, other = out["models"]
    assert list(base) == [
        "model", "profile", "scores", "ci95", "answered", "errors", "mean_latency_s",
        "prompt_tokens", "completion_tokens", "cost_usd",
    ]  # fmt: skip
    assert base["model"] == BASE and base["profile"] == "env"
    assert base["scores"] == {"exact": 1.0, "normalized": 1.0, "f1": 1.0}
    # OTHER says "Positive." to everything: exact never matches, normalized matches half
    assert other["scores"]["exact"] == 0.0 and other["scores"]["normalized"] == 0.5
    lo, hi = other["ci95"]["normalized"]
    assert 0.2 < lo < 0.5 < hi < 0.8  # Wilson interval of 6/12
    assert base["answered"] == 12 and base["errors"] == 0
    assert base["prompt_tokens"] == 120 and base["completion_tokens"] == 12
    assert base["cost_usd"] is None  # a base model: no inference price in the table
    assert out["pairwise"] == [{"a": BASE, "b": OTHER, "wins_a": 12, "wins_b": 0, "ties": 0}]
    assert [r.line for r in store.rows(summary.run_id)] == list(range(1, 13))
    assert store.list_runs()[0].run_id == summary.run_id


def test_429_and_5xx_are_retried_honouring_retry_after(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    fake_openai.chat.responder = oracle
    fake_openai.fail_next(429, count=3, path_contains="/chat/completions", retry_after=0.3)
    fake_openai.fail_next(503, count=2, path_contains="/chat/completions", retry_after=None)
    data = write_jsonl(tmp_path / "held.jsonl", sentiment_rows(4))
    sleeps: list[float] = []
    summary = _run(_spec(data, BASE, concurrency=1), EvalStore(tmp_path / "e.sqlite"), sleeps)
    model = summary.models[0]
    assert model.errors == 0 and model.answered == 4 and model.scores["exact"] == 1.0
    assert sorted(sleeps)[-3:] == [0.3, 0.3, 0.3]  # the server's Retry-After, as sent
    assert len(sleeps) == 5 and all(s <= FAST.cap_s for s in sorted(sleeps)[:2])  # backoff
    chats = [r for r in fake_openai.requests if r.path == "/chat/completions"]
    assert len(chats) == 4 + 5


def test_a_failed_call_is_an_error_for_that_model_and_row_only(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    def responder(model: str, messages: list[Any]) -> str:
        return oracle(model, messages)

    fake_openai.chat.responder = responder
    # more 500s than the retry policy allows, for the first request only (concurrency 1)
    fake_openai.fail_next(500, count=4, path_contains="/chat/completions", retry_after=None)
    data = write_jsonl(tmp_path / "held.jsonl", sentiment_rows(5))
    store = EvalStore(tmp_path / "e.sqlite")
    summary = _run(_spec(data, BASE, "no-such-model", concurrency=1), store)
    assert summary.status == "completed"
    base, missing = summary.models
    assert missing.errors == 5 and missing.answered == 0 and missing.scores == {}
    assert base.errors + base.answered == 5 and base.errors in (0, 1)
    rows = store.rows(summary.run_id)
    err = rows[0].answers["no-such-model"].error
    assert err is not None and "does not exist" in err
    assert summary.pairwise[0].wins_a == base.answered


def test_judge_counts_a_win_only_when_both_orders_agree(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    judge = "gpt-5-chat"
    calls: list[str] = []

    def responder(model: str, messages: list[Any]) -> str:
        if model != judge:
            return oracle(model, messages)
        text = user_text(messages)
        calls.append(text)
        answer_a = text.split("## Answer A\n")[1].split("\n\n")[0]
        review = text.split("user: ")[1]
        # a judge with position bias on review 1 (always "A"), fair elsewhere
        if "Review 1:" in review:
            return "A"
        right = "positive" if "positive" in review else "negative"
        return "A" if answer_a == right else "B"

    fake_openai.chat.responder = responder
    data = write_jsonl(tmp_path / "held.jsonl", sentiment_rows(4))
    store = EvalStore(tmp_path / "e.sqlite")
    summary = _run(_spec(data, BASE, OTHER, judge=ModelRef.parse(judge)), store)
    assert len(calls) == 8  # two orders per row
    pair = summary.pairwise[0]
    assert (pair.wins_a, pair.wins_b, pair.ties) == (3, 0, 1)
    assert summary.models[0].scores["judge"] == pytest.approx((3 + 0.5) / 4)
    assert "judge" in summary.spec.scorers


def test_cancel_then_resume_asks_only_unfinished_rows(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    asked: list[str] = []
    lock = threading.Lock()
    release = threading.Event()

    def responder(model: str, messages: list[Any]) -> str:
        text = user_text(messages)
        with lock:
            asked.append(text)
        if "Review 1:" not in text and "Review 2:" not in text:
            release.wait(10)
        return oracle(model, messages)

    fake_openai.chat.responder = responder
    data = write_jsonl(tmp_path / "held.jsonl", sentiment_rows(6))
    store = EvalStore(tmp_path / "e.sqlite")
    cancel = asyncio.Event()
    seen: list[int] = []

    def on_row(row: RowResult, summary: RunSummary) -> None:
        seen.append(row.line)
        if len(seen) == 2:
            cancel.set()

    first = _run(_spec(data, BASE, concurrency=1), store, on_row=on_row, cancel=cancel)
    release.set()
    assert first.status == "cancelled" and first.done_rows == 2
    assert store.get_run(first.run_id).status == "cancelled"
    asked.clear()
    second = _run(_spec(data, BASE), store, resume_run_id=first.run_id)
    assert second.status == "completed" and second.done_rows == 6 and second.run_id == first.run_id
    assert sorted(int(t.split()[1].rstrip(":")) for t in asked) == [3, 4, 5, 6]


def test_bad_input_is_refused_before_any_call(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    rows = sentiment_rows(3)
    rows[1]["messages"][1]["role"] = "robot"
    bad = write_jsonl(tmp_path / "bad.jsonl", rows)
    store = EvalStore(tmp_path / "e.sqlite")
    with pytest.raises(EvalError, match=r"bad\.jsonl:2: "):
        _run(_spec(bad, BASE), store)
    good = write_jsonl(tmp_path / "good.jsonl", sentiment_rows(3))
    with pytest.raises(EvalError, match="unknown scorer 'bleu'"):
        _run(_spec(good, BASE, scorers=["bleu"]), store)
    with pytest.raises(EvalError, match="needs --judge"):
        _run(_spec(good, BASE, OTHER, scorers=["judge"]), store)
    with pytest.raises(EvalError, match="no profile named 'nope'"):
        _run(_spec(good, "nope=gpt-4o"), store)
    assert not [r for r in fake_openai.requests if r.path == "/chat/completions"]
    assert store.list_runs() == []


def test_connections_passed_in_stay_open_for_their_owner(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    """The app hands its own connections to an eval; finishing the eval must not close them."""
    from tui.services.connection import Connection, connection_for

    fake_openai.chat.responder = oracle
    data = write_jsonl(tmp_path / "held.jsonl", sentiment_rows(3))
    shared: list[Connection] = []

    def connect(profile: object) -> Connection:
        shared.append(connection_for())
        return shared[-1]

    async def go() -> float:
        backends = Backends(2, policy=FAST, connect=connect)
        summary = await run_eval(
            _spec(data, BASE), store=EvalStore(tmp_path / "e.sqlite"), backends=backends
        )
        await backends.aclose()
        assert len(shared) == 1 and shared[0].health.state == "ok"
        client = await shared[0].client()
        reply = await client.chat.completions.create(model=BASE, messages=[
            {"role": "user", "content": "Review 9: positive"}])  # fmt: skip
        await shared[0].aclose()
        assert reply.choices[0].message.content == "positive"
        return summary.models[0].scores["exact"]

    assert asyncio.run(go()) == 1.0


def test_record_turns_prompt_completion_lines_into_chat(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    from tui.core.lint import lint_path
    from tui.services.eval import record_golden

    fake_openai.chat.responder = lambda model, messages: f"re: {messages[-1]['content']}"
    lines = [{"prompt": f"question {i}", "completion": f"old answer {i}"} for i in range(12)]
    data = write_jsonl(tmp_path / "pc.jsonl", lines)
    out = tmp_path / "golden.jsonl"
    progress: list[tuple[int, int]] = []

    async def go() -> Any:
        backends = Backends(2, policy=FAST)
        try:
            return await record_golden(
                data, ModelRef.parse(BASE), out, backends=backends,
                on_progress=lambda done, total: progress.append((done, total)),
            )  # fmt: skip
        finally:
            await backends.aclose()

    result = asyncio.run(go())
    assert (result.written, result.rejected, result.rejected_path) == (12, 0, None)
    first = json.loads(out.read_text().splitlines()[0])
    assert first == {
        "messages": [
            {"role": "user", "content": "question 0"},
            {"role": "assistant", "content": "re: question 0"},
        ]
    }
    assert progress[-1] == (12, 12) and len(progress) == 12
    report = lint_path(out)
    assert report.format == "chat" and not report.has_errors


def test_on_row_reports_every_row_and_the_last_snapshot_is_exact(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    fake_openai.chat.responder = oracle
    data = write_jsonl(tmp_path / "held.jsonl", sentiment_rows(9))
    seen: list[tuple[int, int]] = []
    snapshots: list[RunSummary] = []

    def on_row(row: RowResult, summary: RunSummary) -> None:
        seen.append((row.line, summary.done_rows))
        snapshots.append(summary)

    final = _run(_spec(data, BASE, OTHER, concurrency=3), EvalStore(tmp_path / "e.sqlite"),
                 on_row=on_row)  # fmt: skip
    assert sorted(line for line, _ in seen) == list(range(1, 10))
    assert [done for _, done in seen] == list(range(1, 10))
    assert all(s.status == "running" and s.run_id == final.run_id for s in snapshots)
    assert snapshots[-1].to_json() == final.to_json()
