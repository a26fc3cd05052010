"""Mode 5 — Eval: the stored eval runs (dataset, date, rows, status, headline score per model),
newest first. Enter opens a run; `n` opens the new-run form; `r` resumes an unfinished run.

The screen owns the run in progress (one at a time), so it keeps going while the user reads
another run or works in another mode; the run view shows it live.

Hand-off consumed: `FtApp.open_eval_form(dataset, models)` (from the Datasets, Jobs and Files
screens): the form opens pre-filled, once.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from screens.base import ModeScreen

if TYPE_CHECKING:  # the eval services load in a thread when the screen first needs them
    from tui.app import FtApp
    from tui.services.eval.store import EvalStore
    from tui.services.eval.types import EvalSpec, RunSummary
    from tui.services.eval_live import LiveRun

STATUS_STYLE = {"completed": "green", "running": "yellow", "cancelled": "dim", "failed": "red"}


class EvalScreen(ModeScreen):
    MODE = "eval"
    DEFAULT_CSS = """
    EvalScreen #eval-status { height: 1; padding: 0 1; color: $text-muted; }
    EvalScreen #eval-runs { height: 1fr; }
    EvalScreen #eval-detail { height: auto; max-height: 6; padding: 0 1; background: $panel; }
    """
    BINDINGS = [
        Binding("enter", "open_run", "Open", id="eval.open"),
        Binding("n", "new_run", "New run", id="eval.new"),
        Binding("r", "resume_run", "Resume", id="eval.resume"),
        Binding("f5", "refresh", "Refresh", id="eval.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.store: EvalStore | None = None
        self.live: LiveRun | None = None
        self.runs: list[RunSummary] = []
        self._refreshed_at = 0.0
        self.preference_path: Path | None = None
        """Where the last preference pair went; the next one is offered the same file."""

    def compose_body(self) -> ComposeResult:
        yield Static("Loading runs…", id="eval-status", markup=False)
        table: DataTable[Any] = DataTable(id="eval-runs", cursor_type="row")
        table.add_column("date", width=11)
        table.add_column("dataset", width=14)
        table.add_column("rows", width=7)
        table.add_column("status", width=9)
        table.add_column("first scorer per model")
        yield table
        yield Static("", id="eval-detail", markup=False)

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one("#eval-runs", DataTable)

    def on_mount(self) -> None:
        self.table.focus()
        self.action_refresh()
        self._take_pending()

    def on_screen_resume(self) -> None:
        self.action_refresh()
        self._take_pending()

    # -- the runs list -------------------------------------------------------------------------

    async def open_store(self) -> EvalStore:
        if self.store is None:
            self.store = await asyncio.to_thread(_open_store)
        return self.store

    def action_refresh(self) -> None:
        self._load_runs()

    @work(exclusive=True, group="eval-runs", exit_on_error=False, description="Listing runs")
    async def _load_runs(self) -> None:
        store = await self.open_store()
        self.runs = await asyncio.to_thread(store.list_runs)
        self._refreshed_at = time.monotonic()
        self._show_runs()

    def _show_runs(self) -> None:
        from tui.services.eval_browse import headline

        table = self.table
        keep = table.cursor_row
        table.clear()
        for run in self.runs:
            live = self.live is not None and self.live.run_id == run.run_id
            status: str = run.status
            if live and self.live is not None and not self.live.finished:
                status = "running"
            if status == "running" and not live:
                status = "stopped"  # a run left unfinished by an earlier session
            table.add_row(
                time.strftime("%m-%d %H:%M", time.localtime(run.created_at)),
                Text(run.dataset.rsplit("/", 1)[-1], overflow="ellipsis"),
                f"{run.done_rows}/{run.examples}",
                Text(status, style=STATUS_STYLE.get(status, "yellow")),
                headline(run, name_room=self._name_room(run), scorer_prefix=False),
                key=run.run_id,
            )
        if self.runs:
            table.move_cursor(row=min(keep, len(self.runs) - 1))
        self._show_detail()
        count = len(self.runs)
        hint = "Enter opens · n new run · r resumes" if count else "No runs yet: n starts one."
        self.query_one("#eval-status", Static).update(
            f"{count} run{'s' if count != 1 else ''} · {hint}"
        )

    def _name_room(self, run: RunSummary) -> int:
        """How much of each model name fits the headline column (the rest is in the detail)."""
        room = max(20, (self.size.width or 80) - 52)
        return max(6, room // max(1, len(run.models)) - 8)

    @on(DataTable.RowHighlighted, "#eval-runs")
    def _show_detail(self) -> None:
        """The selected run in full under the table: what the narrow columns cut."""
        from tui.services.eval_browse import first_scorer

        run = self.selected()
        detail = self.query_one("#eval-detail", Static)
        if run is None:
            detail.update("")
            return
        scorer = first_scorer(run)
        lines = [f"{run.run_id} · {run.dataset}"]
        for model in run.models:
            value = model.scores.get(scorer)
            shown = "–" if value is None else f"{value:.2f}"
            lines.append(f"  {model.label}: {scorer} {shown} · {model.errors} errors")
        detail.update("\n".join(lines))

    def selected(self) -> RunSummary | None:
        row = self.table.cursor_row
        return self.runs[row] if self.runs and 0 <= row < len(self.runs) else None

    @on(DataTable.RowSelected, "#eval-runs")
    def action_open_run(self) -> None:
        run = self.selected()
        if run is None:
            self.notify("No run selected: n starts one.", timeout=3)
            return
        self.show_run(run.run_id)

    def show_run(self, run_id: str) -> None:
        from screens.eval_run import EvalRunScreen

        live = self.live if self.live is not None and self.live.run_id == run_id else None
        self.app.push_screen(EvalRunScreen(self, run_id, live))

    # -- starting, resuming, cancelling --------------------------------------------------------

    async def to_top(self) -> None:
        """Close the screens above this one (run views, dialogs) in its mode."""
        stack = self.app.screen_stack
        if self not in stack:
            return
        for _ in range(len(stack) - 1 - stack.index(self)):
            await self.app.pop_screen()

    def _take_pending(self) -> None:
        handoff = self.ft.handoffs.take_eval_form()
        if handoff is not None:
            self.open_form({"dataset": handoff.dataset, "models": handoff.models})

    def action_new_run(self) -> None:
        self.open_form({})

    @work(group="eval-form", exit_on_error=False, description="Opening the form")
    async def open_form(self, prefill: dict[str, Any]) -> None:
        """Push the new-run form (over whatever the mode shows); a spec starts the run."""
        await self.open_store()  # imports the eval services off the UI thread
        from screens.eval_form import NewEvalScreen

        def chosen(spec: EvalSpec | None) -> None:
            if spec is not None:
                self._start_new(spec)

        start = Path(self.ft.start_path)
        default = str(start) if start.suffix == ".jsonl" and start.is_file() else ""
        self.app.push_screen(
            NewEvalScreen(
                dataset=str(prefill.get("dataset") or default),
                models=[str(m) for m in prefill.get("models", [])],
                start=self.ft.start_path,
            ),
            chosen,
        )

    @work(group="eval-start", exit_on_error=False, description="Starting the run")
    async def _start_new(self, spec: EvalSpec) -> None:
        from tui.services.eval_live import LiveRun

        await self.start(LiveRun(await self.open_store(), spec))

    def action_resume_run(self) -> None:
        run = self.selected()
        if run is None:
            return
        if run.status == "completed":
            self.notify("This run is complete: nothing to resume.", timeout=3)
            return
        self.resume(run.run_id)

    @work(group="eval-start", exit_on_error=False)
    async def resume(self, run_id: str) -> None:
        from tui.services.eval_live import LiveRun

        await self.start(LiveRun(await self.open_store(), resume_run_id=run_id))

    async def start(self, live: LiveRun) -> bool:
        """Start `live` and open its view; False when another run is still going."""
        if self.live is not None and not self.live.finished:
            self.notify(
                "Another run is in progress: open it and press c to cancel it first.",
                severity="warning",
            )
            return False
        self.live = live
        started = asyncio.Event()
        live.listen(lambda _live, _row: started.set())
        self._run_live(live)
        await started.wait()
        if live.run_id is not None and live.error is None:
            await self.to_top()
            self.show_run(live.run_id)
        self.action_refresh()
        return True

    @work(group="eval-live", exit_on_error=False, description="Eval run")
    async def _run_live(self, live: LiveRun) -> None:
        from tui.services.eval_browse import headline

        try:
            summary = await live.run()
        finally:
            self.action_refresh()
        verb = "cancelled (r resumes it)" if summary.status == "cancelled" else "finished"
        self.notify(
            f"{summary.done_rows}/{summary.examples} rows · {headline(summary)}",
            title=f"Eval {verb}",
            timeout=8,
        )


def _open_store() -> EvalStore:
    """Import the eval services and open the store (run in a thread: both take a moment)."""
    from tui.services.eval.store import EvalStore

    return EvalStore()


def take_eval_handoff(app: FtApp) -> None:
    """Open the pre-filled form handed over by another mode (`FtApp.open_eval_form`), also when
    a run view is on top of the runs list."""
    for screen in app.screen_stack:
        if isinstance(screen, EvalScreen):
            screen._take_pending()
