"""Shared setup of the Eval screen tests: a real eval run stored by `run_eval` against the HTTP
fake OpenAI (the real SDK over loopback), in the store the app opens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from screens.eval import EvalScreen
from screens.eval_run import EvalRunScreen
from tests.app.helpers import wait_until
from tests.eval.conftest import BASE, OTHER, oracle, sentiment_rows, write_jsonl
from tests.fake_openai.server import FakeOpenAI
from tui.app import FtApp
from tui.services.connection import connection_for
from tui.services.eval import EvalSpec, ModelRef, RunSummary
from tui.services.eval.runner import run_eval
from tui.services.eval.store import EvalStore

SIZE = (80, 24)
__all__ = ["BASE", "OTHER", "SIZE"]


def held_out(tmp_path: Path, n: int = 12) -> Path:
    return write_jsonl(tmp_path / "held.jsonl", sentiment_rows(n))


async def stored_run(fake: FakeOpenAI, tmp_path: Path, n: int = 12) -> RunSummary:
    """Evaluate BASE (always right) and OTHER (always "Positive.") on `n` rows; the run lands
    in the default store (the fake fixture points the data dir at a temporary one)."""
    fake.chat.responder = oracle
    spec = EvalSpec(held_out(tmp_path, n), [ModelRef.parse(BASE), ModelRef.parse(OTHER)])
    store = EvalStore()
    try:
        return await run_eval(spec, store=store)
    finally:
        store.close()


def make_app(tmp_path: Path) -> FtApp:
    return FtApp(tmp_path, connection=connection_for())


async def open_eval(pilot: Any, app: FtApp) -> EvalScreen:
    await pilot.press("5")
    await wait_until(pilot, lambda: isinstance(app.screen, EvalScreen))
    screen = app.screen
    assert isinstance(screen, EvalScreen)
    return screen


async def open_run(pilot: Any, app: FtApp, screen: EvalScreen) -> EvalRunScreen:
    await wait_until(pilot, lambda: len(screen.runs) > 0)
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(app.screen, EvalRunScreen))
    view = app.screen
    assert isinstance(view, EvalRunScreen)
    await wait_until(pilot, lambda: view.summary is not None and bool(view.table.lines))
    return view
