"""One eval run: the summary (models × scorers with 95% intervals, pairwise win rates), the
rows with each model's answer side by side, and the selected row read closely (the words that
differ from the reference highlighted). Rows stream in while the run is live.

Keys: `f` cycles the filter (all rows → rows where the models disagree → rows the current model
fails), `m` changes the current model, Enter opens the row in Chat with the current model,
`p` saves two answers as a preference pair (DPO), `c` cancels a live run, `r` resumes an
unfinished one, Escape goes back to the runs list.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, ProgressBar

from screens.base import ModeScreen
from tui.services.eval.types import RowResult, RunSummary
from tui.services.eval_browse import (
    ALL,
    DISAGREE,
    FAILS,
    RowFilter,
    chat_messages,
    first_scorer,
    keep,
    preference_candidates,
    preference_prompt,
)
from tui.services.eval_live import LiveRun
from tui.widgets.eval_answers import EvalAnswers
from tui.widgets.eval_rows import EvalRowsTable
from tui.widgets.eval_status import StatusLine
from tui.widgets.eval_summary import EvalSummary

if TYPE_CHECKING:
    from screens.eval import EvalScreen

FLUSH_EVERY_S = 0.05  # progress and title follow streamed rows this often
TABLE_EVERY = 10  # flushes between two batches of rows added to the table and the summary
# (a row added re-renders every visible table line, ~10x the cost of the progress line)


class EvalRunScreen(ModeScreen):
    MODE = "eval"
    DEFAULT_CSS = """
    EvalRunScreen #run-head { height: 1; padding: 0 1; }
    EvalRunScreen #run-head Static { width: 1fr; }
    EvalRunScreen #run-title { height: 1; padding: 0 1; background: $panel; }
    EvalRunScreen #run-progress { height: 1; padding: 0 1; }
    EvalRunScreen #run-filter { height: 1; padding: 0 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape", "back", "Runs", id="eval_run.back"),
        Binding("f", "cycle_filter", "Filter", id="eval_run.filter"),
        Binding("m", "next_model", "Model", id="eval_run.model"),
        Binding("p", "prefer", "Prefer", id="eval_run.prefer"),
        Binding("c", "cancel_run", "Cancel run", id="eval_run.cancel"),
        Binding("r", "resume_run", "Resume", id="eval_run.resume"),
        Binding("enter", "open_in_chat", "Chat", id="eval_run.chat", show=False),
    ]

    def __init__(self, owner: EvalScreen, run_id: str, live: LiveRun | None) -> None:
        super().__init__()
        self.owner = owner
        self.run_id = run_id
        self.live = live
        self.summary: RunSummary | None = None
        self.rows: list[RowResult] = []
        self.filter = RowFilter()
        self.model_index = 0
        self._stop_listening = None if live is None else live.listen(self._on_live)
        self._summary_due = False
        self._incoming: list[RowResult] = []
        self._flushes = 0

    def compose_body(self) -> ComposeResult:
        yield StatusLine(id="run-title")
        yield ProgressBar(id="run-progress", show_eta=False)
        yield EvalSummary(id="run-summary")
        yield StatusLine(id="run-filter")
        yield EvalRowsTable(id="run-rows")
        yield EvalAnswers(id="run-answers")

    @property
    def table(self) -> EvalRowsTable:
        return self.query_one("#run-rows", EvalRowsTable)

    @property
    def labels(self) -> list[str]:
        return [m.label for m in self.summary.models] if self.summary else []

    @property
    def scorer(self) -> str:
        return first_scorer(self.summary) if self.summary else "exact"

    @property
    def current_model(self) -> str:
        labels = self.labels
        return labels[self.model_index % len(labels)] if labels else ""

    def on_mount(self) -> None:
        self.table.focus()
        self.set_interval(FLUSH_EVERY_S, self._flush)
        self._load()

    def on_unmount(self) -> None:
        if self._stop_listening is not None:
            self._stop_listening()

    @work(exclusive=True, group="eval-run-load", exit_on_error=False, description="Opening run")
    async def _load(self) -> None:
        if self.live is not None and self.live.summary is not None:
            self.summary, self.rows = self.live.summary, list(self.live.rows)
        else:
            store = await self.owner.open_store()
            self.summary = await asyncio.to_thread(store.get_run, self.run_id)
            self.rows = await asyncio.to_thread(store.rows, self.run_id)
        self.table.setup(self.labels, self.scorer)
        self._show_head()
        self.query_one(EvalSummary).show(self.summary)
        self._refilter()

    # -- live rows -----------------------------------------------------------------------------

    def _on_live(self, live: LiveRun, row: RowResult | None) -> None:
        """From the run (same event loop): buffer the row; `_flush` shows the rows."""
        if not self.is_mounted or self.summary is None:
            return
        if live.summary is not None:
            self.summary = live.summary
        if row is not None:
            self._incoming.append(row)
        else:  # started or finished: c / r change; never per row (the footer recomposes,
            self._flush(force=True)  # which holds frames back while it does)
            self.refresh_bindings()

    def _flush(self, force: bool = False) -> None:
        if self.summary is None:
            return
        self._flushes += 1
        table_due = force or self._flushes % TABLE_EVERY == 0 or not self.table.lines
        if self._incoming and table_due:
            rows, self._incoming = self._incoming, []
            labels, scorer = self.labels, self.scorer
            was_empty = not self.table.lines
            self.rows.extend(rows)
            for row in rows:
                if keep(row, self.filter, labels, scorer):
                    self.table.add_result(row)
            if was_empty and self.table.lines:
                self._show_selected()
            self._show_filter()
            self._summary_due = True
        # the summary re-renders half a batch later than the table: two lighter frames
        summary_due = force or self._flushes % TABLE_EVERY == TABLE_EVERY // 2
        if self._summary_due and summary_due:
            self._summary_due = False
            self.query_one(EvalSummary).show(self.summary)
        self._show_head()

    def _show_head(self) -> None:
        summary = self.summary
        if summary is None:
            return
        live = self.live is not None and not self.live.finished
        status: str = "running · c cancels" if live else summary.status
        if not live and status == "running":
            status = "stopped · r resumes"
        elif status == "cancelled":
            status = "cancelled · r resumes"
        done = len(self.rows) + len(self._incoming)
        name = summary.dataset.rsplit("/", 1)[-1]
        title = f"{done}/{summary.examples} rows · {status} · {name} · {summary.run_id}"
        self.query_one("#run-title", StatusLine).set(title)
        bar = self.query_one(ProgressBar)
        if bar.total != max(1, summary.examples) or bar.progress != done:
            bar.update(total=max(1, summary.examples), progress=done)

    # -- filters and the selected row ----------------------------------------------------------

    def _refilter(self) -> None:
        labels, scorer = self.labels, self.scorer
        self.table.show_rows(r for r in self.rows if keep(r, self.filter, labels, scorer))
        self._show_filter()
        self._show_selected()

    def _show_filter(self) -> None:
        shown = len(self.table.lines)
        text = Text(f"{shown} of {len(self.rows)}: {self.filter.describe()}")
        text.append(f" · model {self.current_model}", style="bold")
        text.append(" · f filter · m model · Enter chat · p prefer", style="dim")
        self.query_one("#run-filter", StatusLine).set(text)

    def action_cycle_filter(self) -> None:
        kind = {ALL: DISAGREE, DISAGREE: FAILS, FAILS: ALL}[self.filter.kind]
        self.filter = RowFilter(kind, self.current_model if kind == FAILS else "")
        self._refilter()

    def action_next_model(self) -> None:
        if not self.labels:
            return
        self.model_index = (self.model_index + 1) % len(self.labels)
        if self.filter.kind == FAILS:
            self.filter = RowFilter(FAILS, self.current_model)
        self._refilter()

    def selected_row(self) -> RowResult | None:
        line = self.table.current_line
        return next((r for r in self.rows if r.line == line), None) if line else None

    @on(DataTable.RowHighlighted, "#run-rows")
    def _show_selected(self) -> None:
        self._update_answers()

    @work(exclusive=True, group="eval-answers", exit_on_error=False)
    async def _update_answers(self) -> None:
        await self.query_one(EvalAnswers).show(self.selected_row(), self.labels, self.scorer)

    # -- actions -------------------------------------------------------------------------------

    def action_back(self) -> None:
        self.app.pop_screen()

    @on(DataTable.RowSelected, "#run-rows")
    def action_open_in_chat(self) -> None:
        row = self.selected_row()
        if row is None or self.summary is None:
            return
        label = self.current_model
        model = next(m for m in self.summary.models if m.label == label)
        app = self.ft
        active = app.connection.profile.name
        if model.profile and model.profile != active:
            app.use_profile(model.profile)
        system, turns = chat_messages(row, label)
        app.open_chat(model.model, system, turns)

    def action_prefer(self) -> None:
        from screens.save_preference import SavePreferenceScreen
        from tui.services.preferences import default_preference_path

        row = self.selected_row()
        if row is None:
            return
        candidates = preference_candidates(row, self.labels)
        if len(candidates) < 2:
            self.notify("This row needs two answers without errors to compare.", timeout=4)
            return
        path = self.owner.preference_path or default_preference_path(self.ft.start_path)

        def saved(result: object) -> None:
            from screens.save_preference import SavedPreference

            if isinstance(result, SavedPreference):
                self.owner.preference_path = result.path
                self.notify(
                    f"Line {result.line} of {result.path}: {result.preferred} over "
                    f"{result.rejected}",
                    title="Preference pair saved",
                    timeout=6,
                )

        self.app.push_screen(
            SavePreferenceScreen(
                prompt=preference_prompt(row),
                candidates=candidates,
                path=path,
                model=candidates[0].label.rpartition("=")[2],
            ),
            saved,
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        live = self.live is not None and not self.live.finished
        if action == "cancel_run":
            return live
        if action == "resume_run":
            return not live and self.summary is not None and self.summary.status != "completed"
        return True

    def action_cancel_run(self) -> None:
        if self.live is not None and not self.live.finished:
            self.live.cancel()
            self.notify("Cancelling: rows already done are kept; r resumes.", timeout=4)

    def action_resume_run(self) -> None:
        self.owner.resume(self.run_id)
