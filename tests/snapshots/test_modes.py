"""SVG snapshots of every mode at 80x24 and 120x40 on fixed data (see conftest.py for what is
pinned), so a layout change shows up in review as a picture diff.

Each snapshot waits for the state it shows (loaded lists, a finished lint, a finished reply),
never for a fixed time. Review a change with the HTML report pytest prints on a mismatch;
accept it with `pytest tests/snapshots --snapshot-update` and commit the changed SVGs.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from textual.app import App
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static, TextArea

from screens import chat as chat_screen
from screens.chat import ChatScreen
from screens.datasets import DatasetsScreen
from screens.eval import EvalScreen
from screens.help import KeysScreen
from tests.app.eval_helpers import stored_run
from tests.app.helpers import text_of, wait_until
from tests.app.jobs_helpers import (
    chart_text,
    checkpoint_models,
    header_text,
    log_messages,
    open_job,
)
from tests.fake_openai.server import FakeOpenAI
from tui.app import FtApp
from tui.services.chat import stream_reply
from tui.services.connection import connection_for
from tui.services.eval import store as eval_store
from tui.widgets.chat_view import ChatView
from tui.widgets.dataset_tree import DatasetTree
from tui.widgets.files_table import FilesTable
from tui.widgets.job_table import JobTable
from tui.widgets.models_table import ModelsTable

SnapCompare = Callable[..., bool]
RunBefore = Callable[[Pilot[None]], Awaitable[None]]

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
DATASET = Path("datasets") / "toy_chat_fine_tuning.jsonl"  # relative: see conftest.py
DAYS_LEFT = re.compile(r"\b\d+ d\b|shut down")
REPLY = (
    "Sure. A **support bot** should:\n\n"
    "1. greet the customer by name,\n"
    "2. answer in *two sentences* at most,\n"
    "3. hand over with `escalate()` when unsure."
)


@pytest.fixture(autouse=True)
def _cursors_do_not_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """A focused Input or TextArea toggles its cursor every half second, so a picture would
    show it or not by chance. Its blink timer's callback is made a no-op: the cursor is then
    drawn exactly when the widget has the focus. (Setting `cursor_blink = False` after the fact
    is not enough: a tick already queued still toggles it, and TextArea reuses lines it
    rendered without the cursor.) If Textual renames these methods, monkeypatch fails loudly."""
    monkeypatch.setattr(Input, "_toggle_cursor", lambda _self: None)
    monkeypatch.setattr(TextArea, "_toggle_cursor_blink_visible", lambda _self: None)


def make_app(start: Path = DATASET) -> FtApp:
    return FtApp(start, connection=connection_for())


def status_text(app: App[Any], selector: str) -> str:
    return text_of(app.screen.query_one(selector, Static))


def laid_out(table: DataTable[Any]) -> bool:
    """The table has measured the rows it holds: a DataTable widens its columns to their
    content only when it next goes idle, so a picture taken between `add_row` and that moment
    shows every column squeezed to its label. Its virtual height is set by the same update."""
    return table.virtual_size.height >= table.row_count + table.header_height


async def settle(pilot: Pilot[None]) -> None:
    """Wait until every table on screen has measured its rows, then have it draw again.

    Textual's DataTable caches drawn lines under a key that does not change when it widens
    its columns: a line drawn in the short moment between `add_row` and the widening (which a
    loaded machine makes likely) is reused afterwards, columns squeezed to their labels, until
    the cursor moves. `notify_style_update` drops those caches, so the picture shows the
    table as measured rather than that race."""
    for table in pilot.app.screen.query(DataTable):
        if table.is_on_screen:  # a table in a hidden tab is never laid out
            await wait_until(pilot, partial(laid_out, table))
            table.notify_style_update()
    await pilot.pause()


def check(snap_compare: SnapCompare, app: FtApp, size: tuple[int, int], ready: RunBefore) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await ready(pilot)
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


# -- 1 Datasets ------------------------------------------------------------------------------


async def _dataset_linted(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, FtApp)
    await wait_until(pilot, lambda: isinstance(app.screen, DatasetsScreen))
    await wait_until(pilot, lambda: "line 1 of 5" in status_text(app, "#example-title"))
    await wait_until(pilot, lambda: "billed" in status_text(app, "#lint-summary"))
    tree = app.screen.query_one(DatasetTree)
    await wait_until(pilot, lambda: len(tree.root.children) == 2)


@pytest.mark.parametrize("size", SIZES)
def test_datasets(snap_compare: SnapCompare, world: FakeOpenAI, size: tuple[int, int]) -> None:
    """Mode 1 on a sample file: the first example as a conversation and its finished lint."""
    check(snap_compare, make_app(), size, _dataset_linted)


# -- 2 Jobs ----------------------------------------------------------------------------------


def _jobs(fake: FakeOpenAI) -> list[str]:
    done = fake.add_job(suffix="support-bot")
    fake.run_to_end(done)
    failed = fake.add_job(script="failure", model="gpt-4.1-nano-2025-04-14", suffix="triage")
    fake.advance(failed)
    running = fake.add_job(suffix="faq", model="gpt-4.1-mini-2025-04-14")
    fake.advance(running, 3)
    return [done, failed, running]


@pytest.mark.parametrize("size", SIZES)
def test_jobs(snap_compare: SnapCompare, world: FakeOpenAI, size: tuple[int, int]) -> None:
    """Mode 2: a succeeded, a failed and a running job, with days left and trained tokens."""
    ids = _jobs(world)

    async def ready(pilot: Pilot[None]) -> None:
        app = pilot.app
        assert isinstance(app, FtApp)
        await pilot.press("2")
        await wait_until(pilot, lambda: bool(app.screen.query(JobTable)))
        table = app.screen.query_one(JobTable)

        def row(job_id: str) -> str:
            return " ".join(str(getattr(c, "plain", c)) for c in table.get_row(job_id))

        await wait_until(pilot, lambda: all(job_id in table.rows for job_id in ids))
        await wait_until(pilot, lambda: all(DAYS_LEFT.search(row(job_id)) for job_id in ids))
        await wait_until(pilot, lambda: "updated" in status_text(app, "#jobs-status"))

    check(snap_compare, make_app(Path("datasets")), size, ready)


def test_job_view(snap_compare: SnapCompare, world: FakeOpenAI) -> None:
    """Mode 2's job view of the finished job: header, loss chart, events and checkpoints."""
    job_id = _jobs(world)[0]
    job = world.job(job_id)

    async def ready(pilot: Pilot[None]) -> None:
        app = pilot.app
        assert isinstance(app, FtApp)
        await open_job(pilot, app, job_id)
        await wait_until(pilot, lambda: "succeeded" in header_text(app))
        await wait_until(pilot, lambda: len(log_messages(app)) == len(job.events))
        await wait_until(pilot, lambda: len(checkpoint_models(app)) == len(job.checkpoints))
        await wait_until(pilot, lambda: "train" in chart_text(app))

    check(snap_compare, make_app(Path("datasets")), (120, 40), ready)


# -- 3 Chat ----------------------------------------------------------------------------------


def _steady_clock() -> Callable[[], float]:
    """A clock that moves 0.25 s per reading: time to first token and tokens per second are
    the same on every run instead of whatever the machine's load made them."""
    ticks = itertools.count()
    return lambda: next(ticks) * 0.25


@pytest.mark.parametrize("size", SIZES)
def test_chat(
    snap_compare: SnapCompare,
    world: FakeOpenAI,
    size: tuple[int, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Mode 3 with one finished turn against the newest fine-tuned model: Markdown and metrics."""
    done = world.add_job(suffix="support-bot")
    world.run_to_end(done)
    world.chat.reply = REPLY
    monkeypatch.setattr(chat_screen, "stream_reply", partial(stream_reply, clock=_steady_clock()))

    async def ready(pilot: Pilot[None]) -> None:
        app = pilot.app
        await pilot.press("3")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        screen = app.screen
        assert isinstance(screen, ChatScreen)
        await wait_until(pilot, lambda: bool(screen.left.model))
        prompt = screen.query_one("#prompt")
        prompt.focus()
        await pilot.press(*"What should a support bot do?", "enter")
        view = screen.query_one("#left-view", ChatView)
        await wait_until(
            pilot,
            lambda: (
                len(view.history) == 2
                and view.messages[-1].state == "done"
                and not prompt.border_title
            ),
        )

    check(snap_compare, make_app(Path("datasets")), size, ready)


# -- 4 Files & models ------------------------------------------------------------------------


def _files(fake: FakeOpenAI) -> None:
    """Two uploads, then a finished job (its training file and its result file): 4 files."""
    fake.add_file("support_train.jsonl", b'{"messages": []}\n' * 120)
    fake.add_file("support_valid.jsonl", b'{"messages": []}\n' * 30)
    done = fake.add_job(suffix="support-bot")
    fake.run_to_end(done)


async def _files_listed(pilot: Pilot[None]) -> None:
    app = pilot.app
    assert isinstance(app, FtApp)
    await pilot.press("4")
    await wait_until(pilot, lambda: bool(app.screen.query(FilesTable)))
    table = app.screen.query_one(FilesTable)
    await wait_until(pilot, lambda: table.row_count == 4)
    await wait_until(pilot, lambda: "4 files" in status_text(app, "#files-status"))


@pytest.mark.parametrize("size", SIZES)
def test_files(snap_compare: SnapCompare, world: FakeOpenAI, size: tuple[int, int]) -> None:
    """Mode 4, Files tab: uploads and a job's result file with sizes, dates and ids."""
    _files(world)
    check(snap_compare, make_app(Path("datasets")), size, _files_listed)


@pytest.mark.parametrize("size", SIZES)
def test_models(snap_compare: SnapCompare, world: FakeOpenAI, size: tuple[int, int]) -> None:
    """Mode 4, Models tab: a fine-tuned model, its checkpoints and the base models, days left."""
    _files(world)

    async def ready(pilot: Pilot[None]) -> None:
        await _files_listed(pilot)
        app = pilot.app
        assert isinstance(app, FtApp)
        await pilot.press("m")
        table = app.screen.query_one(ModelsTable)
        await wait_until(pilot, lambda: table.row_count > 0)
        await wait_until(pilot, lambda: "shuts down" in status_text(app, "#model-detail"))

    check(snap_compare, make_app(Path("datasets")), size, ready)


# -- 5 Eval ----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_eval(
    snap_compare: SnapCompare,
    world: FakeOpenAI,
    size: tuple[int, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Mode 5 with one finished run of two models on a held-out file."""
    # The run id ends in 4 random hex digits; only those are pinned (the stamp is the frozen
    # clock's). The held-out file is written relative to the working directory, as it is shown.
    monkeypatch.setattr(eval_store, "secrets", SimpleNamespace(token_hex=lambda _n: "5eed"))
    asyncio.run(stored_run(world, Path(), n=12))

    async def ready(pilot: Pilot[None]) -> None:
        app = pilot.app
        await pilot.press("5")
        await wait_until(pilot, lambda: isinstance(app.screen, EvalScreen))
        screen = app.screen
        assert isinstance(screen, EvalScreen)
        await wait_until(pilot, lambda: len(screen.runs) == 1)
        await wait_until(pilot, lambda: "1 run" in status_text(app, "#eval-status"))

    check(snap_compare, make_app(Path("datasets")), size, ready)


# -- help and the palette --------------------------------------------------------------------


def test_keys(snap_compare: SnapCompare, world: FakeOpenAI) -> None:
    """`?` over mode 1: the screen's own keys first."""

    async def ready(pilot: Pilot[None]) -> None:
        await _dataset_linted(pilot)
        await pilot.press("?")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, KeysScreen))

    check(snap_compare, make_app(), (80, 24), ready)


def test_palette(snap_compare: SnapCompare, world: FakeOpenAI) -> None:
    """ctrl+p over mode 1, searching "go to": the mode switches and the line jump."""

    async def ready(pilot: Pilot[None]) -> None:
        await _dataset_linted(pilot)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, CommandPalette))
        palette = pilot.app.screen
        assert isinstance(palette, CommandPalette)
        await pilot.press(*"go to")
        results = palette.query_one(CommandList)

        def gathered() -> bool:
            busy = any(w.node is palette and w.is_running for w in pilot.app.workers)
            return results.option_count >= 5 and not busy

        await wait_until(pilot, gathered)

    check(snap_compare, make_app(), (80, 24), ready)
