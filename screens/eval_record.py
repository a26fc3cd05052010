"""Record a golden set (mode 4, for a model with a shutdown date): the model re-answers every
prompt of a dataset the user picks, and its answers are kept as a chat JSONL — training data
for a replacement and an eval reference once the model is gone (`ft-tui record` in the app).

A progress bar follows the rows; Escape during a recording stops it (the rows done are kept in
a journal, so "Resume" continues later); an existing output is only replaced when asked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Checkbox, Input, Label, ProgressBar, Static

from screens.base import ft_app
from tui.core.save_paths import resolve_user_path, root_folder
from tui.services.eval.record import journal_path_for
from tui.services.eval.types import EvalError, ModelRef, RecordResult
from tui.services.model_inventory import ModelEntry


def default_output(dataset: Path, model: str) -> Path:
    slug = "".join(c if c.isalnum() or c in "-_." else "-" for c in model).strip("-")
    return dataset.with_name(f"{dataset.stem}.golden-{slug}.jsonl")


class RecordGoldenScreen(ModalScreen[RecordResult | None]):
    DEFAULT_CSS = """
    RecordGoldenScreen > .dialog { width: 100%; max-width: 100; }
    RecordGoldenScreen Input { margin: 0 0 1 0; }
    RecordGoldenScreen #record-status { height: auto; max-height: 4; }
    RecordGoldenScreen .dialog-buttons { height: 3; }
    """
    BINDINGS = [
        Binding("f5", "record", "Record", id="record_golden.start"),
        Binding("escape", "cancel", "Cancel / stop", id="record_golden.cancel"),
    ]

    def __init__(self, model: ModelRef, dataset: Path | None, shutdown: str, *, root: Path) -> None:
        super().__init__()
        self._model = model
        self._root = root  # typed relative paths are relative to it (`tui.core.save_paths`)
        self._dataset = dataset
        self._shutdown = shutdown
        self._recording = False

    def compose(self) -> ComposeResult:
        dataset = str(self._dataset or "")
        out = str(default_output(self._dataset, self._model.model)) if self._dataset else ""
        with Vertical(classes="dialog"):
            yield Static(f"Record a golden set of {self._model.label}", classes="title")
            yield Static(f"Shuts down {self._shutdown}: keep what it answers.", classes="muted")
            yield Label("Dataset whose prompts it answers")
            yield Input(dataset, placeholder="chat JSONL", id="record-dataset")
            yield Label("Golden set to write")
            yield Input(out, placeholder="golden.jsonl", id="record-out")
            with Horizontal(classes="dialog-buttons"):
                yield Checkbox("Resume an interrupted recording", id="record-resume")
                yield Checkbox("Replace an existing file", id="record-force")
            yield ProgressBar(id="record-progress", show_eta=False)
            yield Static("", id="record-status", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Record (F5)", variant="primary", id="record-start")
                yield Button("Close (Esc)", id="record-cancel")

    def on_mount(self) -> None:
        self.query_one("#record-dataset", Input).focus()
        self._check_journal()

    @on(Input.Changed, "#record-dataset")
    def _dataset_changed(self, event: Input.Changed) -> None:
        text = event.value.strip()
        if text.endswith(".jsonl"):
            self.query_one("#record-out", Input).value = str(
                default_output(Path(text).expanduser(), self._model.model)
            )

    @on(Input.Changed, "#record-out")
    def _check_journal(self) -> None:
        text = self.query_one("#record-out", Input).value.strip()
        partial = bool(text) and journal_path_for(resolve_user_path(text, self._root)).exists()
        self.query_one("#record-resume", Checkbox).value = partial

    @on(Button.Pressed, "#record-start")
    def action_record(self) -> None:
        if self._recording:
            return
        dataset = resolve_user_path(self.query_one("#record-dataset", Input).value, self._root)
        out = resolve_user_path(self.query_one("#record-out", Input).value, self._root)
        status = self.query_one("#record-status", Static)
        if not dataset.is_file():
            status.update(f"{dataset} is not a file.")
            return
        if not out.name or out.suffix != ".jsonl":
            status.update("Give a .jsonl file to write the golden set to.")
            return
        self._recording = True
        status.update("Recording…")
        self._record(dataset, out)

    @work(exclusive=True, group="record-golden", exit_on_error=False)
    async def _record(self, dataset: Path, out: Path) -> None:
        from tui.services.eval.record import record_golden

        bar = self.query_one(ProgressBar)
        status = self.query_one("#record-status", Static)

        def progress(done: int, total: int) -> None:
            bar.update(total=max(1, total), progress=done)
            status.update(f"{done}/{total} rows answered…")

        try:
            result = await record_golden(
                dataset,
                self._model,
                out,
                resume=self.query_one("#record-resume", Checkbox).value,
                force=self.query_one("#record-force", Checkbox).value,
                on_progress=progress,
            )
        except EvalError as exc:
            status.update(str(exc))
            return
        finally:
            self._recording = False
        self.dismiss(result)

    @on(Button.Pressed, "#record-cancel")
    def action_cancel(self) -> None:
        if self._recording:
            self.workers.cancel_group(self, "record-golden")
            self._recording = False
            self.query_one("#record-status", Static).update(
                "Stopped: the rows done are kept; Record with Resume continues."
            )
            self.query_one("#record-resume", Checkbox).value = True
            return
        self.dismiss(None)


def record_golden_for(screen: Screen[Any], entry: ModelEntry | None) -> None:
    """Mode 4's "record golden set" on a selected model entry (a `ModelEntry`): only for a
    model with a shutdown date; the dataset offered first is the one the app was opened on."""
    from tui.services.eval_live import default_profile_name

    app = ft_app(screen)
    if entry is None:
        app.notify("No model selected", severity="warning")
        return
    model_id, shutdown = entry.id, entry.shutdown_date
    if shutdown is None:
        app.notify(
            f"{model_id} has no shutdown date: a golden set is for models going away "
            "(ft-tui record works for any model).",
            timeout=6,
        )
        return
    active = app.connection.profile.name
    ref = ModelRef(None if active == default_profile_name() else active, model_id)
    start = Path(app.start_path)
    dataset = start if start.suffix == ".jsonl" and start.is_file() else None

    def done(result: RecordResult | None) -> None:
        if result is not None:
            rejected = (
                f"; {result.rejected} rejected → {result.rejected_path}" if result.rejected else ""
            )
            app.notify(
                f"{result.written} rows → {result.out}{rejected}",
                title="Golden set recorded",
                timeout=10,
            )

    dialog = RecordGoldenScreen(ref, dataset, shutdown.isoformat(), root=root_folder(start))
    app.push_screen(dialog, done)
