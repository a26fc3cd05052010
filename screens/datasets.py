"""Mode 1 — Datasets: browse dataset files, read examples as conversations, lint as you look.

Thin: the line index (`tui.core.line_index`) and the linter (`tui.core.lint`) do the work in
thread workers; this screen wires them to the tree, the example view and the lint panel.
Hand-offs: `FtApp.start_job` (launch a job with the selected file) and `FtApp.open_eval_form`.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import DirectoryTree, Tree
from textual.worker import Worker, get_current_worker

from screens.base import ModeScreen
from screens.prompts import LineNumberPrompt, ModelPrompt
from tui.core.line_index import MAX_LINE_READ, LineIndex
from tui.core.lint import LintFailed, LintReport, lint_path
from tui.core.models_catalog import DEFAULT_MODEL
from tui.core.tools.table_preview import TablePreview, is_table, table_preview
from tui.widgets.dataset_tree import DatasetTree, is_dataset
from tui.widgets.example_view import ExampleView, render_example
from tui.widgets.lint_panel import LintPanel
from tui.widgets.table_preview import render_table_preview

PROGRESS_INTERVAL = 0.2  # seconds between progress repaints from the lint worker
OPEN_DELAY = 0.25  # seconds the tree cursor rests on a file before it opens


class DatasetsScreen(ModeScreen):
    MODE = "datasets"
    DEFAULT_CSS = """
    DatasetsScreen #datasets-body { height: 1fr; }
    DatasetsScreen DatasetTree { width: 28; min-width: 20; border-right: solid $panel; }
    DatasetsScreen #main-pane { layout: horizontal; }
    DatasetsScreen #example-pane { width: 3fr; }
    DatasetsScreen LintPanel { width: 2fr; border-left: solid $panel; }
    DatasetsScreen.narrow DatasetTree { display: none; }
    DatasetsScreen.narrow.show-tree DatasetTree { display: block; width: 24; }
    DatasetsScreen.narrow #main-pane { layout: vertical; }
    DatasetsScreen.narrow #example-pane { width: 1fr; height: 3fr; }
    DatasetsScreen.narrow LintPanel { width: 1fr; height: 2fr; border-left: none;
                                      border-top: solid $panel; }
    DatasetsScreen DatasetTree:focus { border-right: solid $accent; }
    DatasetsScreen ExampleView.pane-focused > #example-title { background: $accent;
                                                               color: $text; }
    """
    BINDINGS = [
        Binding("n,j", "next_example", "Next", id="datasets.next"),
        Binding("p,k", "previous_example", "Prev", id="datasets.previous"),
        Binding("g", "go_to_line", "Go to line", id="datasets.goto"),
        Binding(
            "home", "first_example", "First example", show=False, priority=True, id="datasets.first"
        ),
        Binding(
            "end", "last_example", "Last example", show=False, priority=True, id="datasets.last"
        ),
        Binding("m", "choose_model", "Model", id="datasets.model"),
        Binding("l", "relint", "Re-lint", show=False, id="datasets.relint"),
        Binding("t", "toggle_tree", "Tree", show=False, id="datasets.tree"),
        Binding("f5", "reload", "Reload", show=False, id="datasets.reload"),
        Binding("L", "launch_job", "Launch job", id="datasets.launch"),
        Binding("E", "evaluate", "Evaluate", id="datasets.evaluate"),
        Binding("c", "convert", "Convert", show=False, id="datasets.convert"),
        Binding("s", "split", "Split", show=False, id="datasets.split"),
        Binding("x", "fix", "Fix", show=False, id="datasets.fix"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.model = DEFAULT_MODEL
        self.path: Path | None = None
        self.index: LineIndex | None = None
        self.current = 0  # 0-based line shown
        self._open_timer: Timer | None = None
        self._highlighted: Path | None = None

    def compose_body(self) -> ComposeResult:
        start = getattr(self.app, "start_path", Path.cwd())
        root = start if start.is_dir() else start.parent
        with Horizontal(id="datasets-body"):
            yield DatasetTree(root, id="dataset-tree")
            with Container(id="main-pane"):
                with Vertical(id="example-pane"):
                    yield ExampleView(id="example-view")
                yield LintPanel(id="lint-panel")

    def on_mount(self) -> None:
        start = getattr(self.app, "start_path", Path.cwd())
        if start.is_file():
            self.open_file(start)
        self.query_one(DatasetTree).focus()
        self._apply_width(self.size.width)

    def on_descendant_focus(self) -> None:
        self._mark_focused_pane()

    def on_descendant_blur(self) -> None:
        self._mark_focused_pane()

    def _mark_focused_pane(self) -> None:
        # A class, not :focus-within: the title is a sibling of the focused widget and Textual
        # restyles only the focus chain, so the class change is what repaints the title.
        focused = self.focused
        for pane in (self.query_one(ExampleView), self.query_one(LintPanel)):
            inside = focused is not None and (focused is pane or pane in focused.ancestors)
            pane.set_class(inside, "pane-focused")

    def on_resize(self) -> None:
        self._apply_width(self.size.width)

    def _apply_width(self, width: int) -> None:
        self.set_class(width < 110 and self.path is not None, "narrow")

    def on_screen_resume(self) -> None:
        # Files may have changed elsewhere (a saved chat turn, a fix): list new files in the tree
        # (expanded folders and the cursor are kept) and re-read what is shown.
        self.query_one(DatasetTree).reload()
        if self.path is not None and self.path.exists():
            self.open_file(self.path, keep_position=True)

    # -- file selection ------------------------------------------------------------------------

    @on(DirectoryTree.FileSelected)
    def _file_selected(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        if is_dataset(event.path):
            self._open_from_tree(event.path)

    @on(Tree.NodeHighlighted, "#dataset-tree")
    def _node_highlighted(self, event: Tree.NodeHighlighted[Any]) -> None:
        # The highlighted file opens at once (debounced, so holding an arrow key stays smooth);
        # the tree keeps the focus so the arrows keep browsing.
        data = event.node.data
        path = getattr(data, "path", None)
        if path == self._highlighted:  # the same node again (a tree reload restores it)
            return
        self._highlighted = path if isinstance(path, Path) else None
        if self._open_timer is not None:
            self._open_timer.stop()
            self._open_timer = None
        if isinstance(path, Path) and is_dataset(path) and path != self.path:
            self._open_timer = self.set_timer(OPEN_DELAY, lambda: self._open_from_tree(path))

    def _open_from_tree(self, path: Path) -> None:
        if path.is_file() and path != self.path:
            self.add_class("show-tree")  # at 80 columns the tree stays while it is browsed
            self.open_file(path)

    def open_file(self, path: Path, keep_position: bool = False) -> None:
        position = self.current if keep_position else 0
        if self.index is not None:
            self.index.close()
            self.index = None
        self.path = path
        self._apply_width(self.size.width)
        if is_table(path):  # CSV/TSV/XLSX/JSON array: preview it, convert is the next step
            self._show_table(path)
            return
        try:
            if path.is_dir():
                raise IsADirectoryError(f"{path.name} is a directory")
            self.index = LineIndex(path)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            self.query_one(ExampleView).show(path.name, f"Cannot open {path}: {reason}")
            self.query_one(LintPanel).failed(f"Cannot read this file: {reason}")
            return
        self.current = position
        self._show_current()
        self._scan_index(self.index)
        self.run_lint()

    def _show_table(self, path: Path) -> None:
        self.workers.cancel_group(self, "lint")
        self.workers.cancel_group(self, "line-index")
        self.query_one(ExampleView).show(f" {path.name} · reading…", "")
        self.query_one(LintPanel).not_linted(
            path.name, "Not linted: this is a table, not JSONL. Press c to convert it first."
        )
        self._read_table(path)

    @work(thread=True, exclusive=True, group="table", exit_on_error=False, description="Reading")
    def _read_table(self, path: Path) -> None:
        preview = table_preview(path)
        self.app.call_from_thread(self._table_read, preview)

    def _table_read(self, preview: TablePreview) -> None:
        if preview.path == self.path:
            self.query_one(ExampleView).show(
                f" {preview.path.name} · {preview.label}", render_table_preview(preview)
            )

    # -- example navigation --------------------------------------------------------------------

    def _show_current(self) -> None:
        view = self.query_one(ExampleView)
        if self.index is None or self.path is None:
            return
        raw = self.index.read_line(self.current)
        total = self.index.known_lines()
        count = f"{total:,}" if self.index.complete else f"{total:,}+"
        title = f" {self.path.name} · line {self.current + 1:,} of {count}"
        if raw is None:
            empty = total == 0 and self.index.complete
            view.show(
                f" {self.path.name} · empty file" if empty else title,
                "This file is empty." if empty else "No such line.",
            )
            return
        span = self.index.line_span(self.current)
        full = span[1] - span[0] if span else None
        view.show(
            title,
            render_example(raw, self.current + 1, full if full and full > MAX_LINE_READ else None),
        )

    def _move_to(self, line: int) -> None:
        if self.index is None:
            return
        last = self.index.known_lines() - 1
        if self.index.complete:
            line = min(line, max(last, 0))
        self.current = max(0, line)
        self._show_current()

    def action_next_example(self) -> None:
        self._move_to(self.current + 1)

    def action_previous_example(self) -> None:
        self._move_to(self.current - 1)

    def action_first_example(self) -> None:
        self._move_to(0)

    def action_last_example(self) -> None:
        if self.index is not None:
            if not self.index.complete:
                self.notify("Still indexing; showing the last line found so far.", timeout=3)
            self._move_to(self.index.known_lines() - 1)

    def action_go_to_line(self) -> None:
        def done(line: int | None) -> None:
            if line is not None:
                self._move_to(line - 1)

        self.app.push_screen(LineNumberPrompt(), done)

    @on(LintPanel.JumpTo)
    def _jump(self, event: LintPanel.JumpTo) -> None:
        self._move_to(event.line - 1)
        self.query_one(ExampleView).focus()

    def action_toggle_tree(self) -> None:
        if self.has_class("narrow"):
            self.toggle_class("show-tree")
        else:
            tree = self.query_one(DatasetTree)
            tree.display = not tree.display
        if self.query_one(DatasetTree).display:
            self.query_one(DatasetTree).focus()

    def action_reload(self) -> None:
        self.query_one(DatasetTree).reload()
        if self.path is not None:
            self.open_file(self.path, keep_position=True)

    # -- workers -------------------------------------------------------------------------------

    @work(
        thread=True,
        exclusive=True,
        group="line-index",
        exit_on_error=False,
        description="Indexing lines",
    )
    def _scan_index(self, index: LineIndex) -> None:
        worker = get_current_worker()
        last = 0.0

        def progress(done: int, total: int) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last > 0.5:
                last = now
                self.app.call_from_thread(self._index_progress, index)

        index.scan(on_progress=progress, cancelled=lambda: worker.is_cancelled)
        if not worker.is_cancelled:
            self.app.call_from_thread(self._index_progress, index)

    def _index_progress(self, index: LineIndex) -> None:
        if index is self.index:
            self._show_current()

    def run_lint(self) -> None:
        if self.path is None or is_table(self.path):
            return
        self.query_one(LintPanel).start(self.path.name, self.model)
        self._lint(self.path, self.model)

    @work(
        thread=True,
        exclusive=True,
        group="lint",
        exit_on_error=False,
        description="Linting the dataset",
    )
    def _lint(self, path: Path, model: str) -> None:
        worker = get_current_worker()
        cancel = threading.Event()
        last = 0.0

        def on_progress(done: int, total: int, partial: LintReport) -> None:
            nonlocal last
            if worker.is_cancelled:
                cancel.set()
                return
            now = time.monotonic()
            if now - last >= PROGRESS_INTERVAL:
                last = now
                self.app.call_from_thread(self.query_one(LintPanel).progress, done, total, partial)

        try:
            report = lint_path(path, model=model, on_progress=on_progress, cancel=cancel)
        except LintFailed as exc:
            self.app.call_from_thread(self.query_one(LintPanel).failed, str(exc))
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self.query_one(LintPanel).show_report, report)

    def on_worker_failed(self, worker: Worker[Any]) -> None:
        if worker.group == "lint":  # the toast says why; the panel must not stay "Checking…"
            self.query_one(LintPanel).failed(f"The check stopped: {worker.error}")

    def action_relint(self) -> None:
        self.run_lint()

    def action_choose_model(self) -> None:
        def done(model: str | None) -> None:
            if model:
                self.model = model
                self.run_lint()

        self.app.push_screen(ModelPrompt(self.model), done)

    # -- hand-offs -----------------------------------------------------------------------------

    def _require_file(self) -> Path | None:
        if self.path is None or not self.path.is_file():
            self.notify("Select a dataset file first.", severity="warning")
            return None
        return self.path

    async def action_launch_job(self) -> None:
        path = self._require_file()
        if path is not None:
            await self.ft.start_job(path)

    async def action_evaluate(self) -> None:
        """Mode 5's new-run form, on this file (held-out rows: the models are picked there)."""
        path = self._require_file()
        if path is not None:
            await self.ft.open_eval_form(path.resolve(), [])

    def _open_tool(self, name: str) -> None:
        path = self._require_file()
        if path is None:
            return
        from screens import dataset_tools

        dialog = getattr(dataset_tools, name)(path)

        def done(result: Any) -> None:
            written = getattr(result, "output", None) or getattr(result, "train", None)
            self.action_reload()
            if written:
                self.notify(f"Wrote {written}", timeout=5)

        self.app.push_screen(dialog, done)

    def action_convert(self) -> None:
        self._open_tool("ConvertScreen")

    def action_split(self) -> None:
        self._open_tool("SplitScreen")

    def action_fix(self) -> None:
        self._open_tool("FixScreen")
