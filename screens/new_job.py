"""The new-job form: base model, method, training/validation files, suffix, seed,
hyperparameters, metadata; then lint → estimate → confirm → upload with progress → create.

A local path is linted first with the chosen model: errors block the launch, warnings are shown
and named in the confirmation, which also gives epochs, billed tokens and the cost estimate.
An existing file id (`file-…`) is used as is. Dismisses with the new job's id, or None.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, ProgressBar, Select, Static

from screens.base import error_text, ft_app
from screens.confirm import ConfirmScreen
from screens.job_advanced import PLACEHOLDER as ADVANCED_PLACEHOLDER
from screens.job_advanced import parse_advanced
from screens.job_request import METHOD_HYPERS, FileChoice, JobRequest, build_request
from tui.core.plurals import plural
from tui.core.save_paths import root_folder
from tui.services.uploads import lint_before_upload

if TYPE_CHECKING:
    from tui.core.lint.report import Issue, LintReport

log = logging.getLogger("ft-tui.jobs")

HYPER_FIELDS = ("n_epochs", "batch_size", "learning_rate_multiplier", "beta")
TEXT_FIELDS = ("training", "validation", "suffix", "seed", *HYPER_FIELDS, "metadata")
PLACEHOLDERS = {
    "training": "path/to/train.jsonl or file-abc123",
    "validation": "optional: path or file id",
    "suffix": "optional, 1–64 characters, e.g. support-bot",
    "seed": "optional whole number",
    "n_epochs": "auto or 1–50",
    "batch_size": "auto or 1–256",
    "learning_rate_multiplier": "auto or > 0",
    "beta": "auto or (0, 2]",
    "metadata": "optional: team=nlp, run=3",
}
LABELS = {
    "training": "Training file",
    "validation": "Validation file",
    "suffix": "Suffix",
    "seed": "Seed",
    "n_epochs": "Epochs",
    "batch_size": "Batch size",
    "learning_rate_multiplier": "LR multiplier",
    "beta": "DPO beta",
    "metadata": "Metadata",
}


def model_availability(model: Any) -> str:
    """How a served model is labelled: the local server says whether a Hub base model is in the
    Hugging Face cache (`downloaded`, an extra field the SDK keeps in `model_extra`)."""
    extra = getattr(model, "model_extra", None) or {}
    if extra.get("downloaded") is False:
        return "not downloaded · downloads when the job starts"
    if extra.get("source") == "hub":
        return "downloaded"
    return "on server"


def model_options(
    server_models: list[str], local: bool, notes: dict[str, str] | None = None
) -> list[tuple[str, str]]:
    """(label, model id) for the Select: the catalog's fine-tunable models with limits and
    prices, plus what the server lists. `local` (the local server or another compatible
    backend): the server's own models come first and all of them are offered; on OpenAI and
    Azure only `ft:` models are (to continue training), since most listed models are not
    fine-tunable. `notes`: a label per served model (`model_availability`)."""
    from tui.core.pricing import price_table

    table = price_table().models
    catalog: list[tuple[str, str]] = []
    for name, entry in table.items():
        parts = [name]
        price = entry.get("training_per_1m")
        hourly = entry.get("training_per_hour")
        if isinstance(price, int | float):
            parts.append(f"${price:g}/1M train")
        elif isinstance(hourly, int | float):
            parts.append(f"${hourly:g}/h train")
        limit = entry.get("training_example_tokens")
        if isinstance(limit, int):
            parts.append(f"{limit:,} tok/example")
        catalog.append((" · ".join(parts), name))
    listed = [m for m in server_models if m not in table]
    if not local:
        listed = [m for m in listed if m.startswith("ft:")]  # continue training a fine-tune
    # Base models before fine-tunes: the first one is the form's default.
    served = [
        (f"{m} · {(notes or {}).get(m, 'on server')}", m)
        for m in sorted(listed, key=lambda m: (m.startswith("ft:"), m))
    ]
    return served + catalog if local else catalog + served


def _first_line(issue: Issue) -> str:
    where = f"line {issue.line}: " if issue.line is not None else ""
    return f"{issue.rule} ({where}{issue.message})"


class NewJobScreen(Screen[str | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="new_job.cancel"),
        Binding("f2", "check", "Check & estimate", id="new_job.check"),
        Binding("ctrl+l", "launch", "Launch", id="new_job.launch"),
    ]
    DEFAULT_CSS = """
    NewJobScreen #form { height: 1fr; padding: 0 1; }
    NewJobScreen .field { height: auto; margin-bottom: 1; }
    NewJobScreen .field Label { width: 17; padding: 0 1 0 0; }
    NewJobScreen .field Input, NewJobScreen .field Select { width: 1fr; }
    NewJobScreen #form-problems { color: $error; height: auto; }
    NewJobScreen #form-status { height: auto; max-height: 2; padding: 0 1; color: $error;
                                text-style: bold; background: $panel; }
    NewJobScreen #form-status.-empty { display: none; }
    NewJobScreen #estimate { height: auto; padding: 0 0 1 0; }
    NewJobScreen #upload-progress { display: none; }
    NewJobScreen #form-buttons { height: auto; align-horizontal: right; }
    NewJobScreen #form-buttons Button { margin-left: 1; }
    """

    def __init__(self, training_path: str | None = None) -> None:
        super().__init__()
        self._training_path = training_path
        self._reports: dict[Path, LintReport] = {}
        self._busy = False
        self._local = False

    def compose(self) -> ComposeResult:
        yield Static("New fine-tuning job", classes="title")
        with VerticalScroll(id="form"):
            with Horizontal(classes="field"):
                yield Label("Base model")
                yield Select[str]([], prompt="loading models…", id="model", compact=True)
            with Horizontal(classes="field"):
                yield Label("Method")
                yield Select[str](
                    [("supervised (SFT)", "supervised"), ("DPO (preferences)", "dpo")],
                    value="supervised",
                    allow_blank=False,
                    id="method",
                    compact=True,
                )
            for name in TEXT_FIELDS:
                with Horizontal(classes="field", id=f"field-{name}"):
                    yield Label(LABELS[name])
                    yield Input(
                        value=self._initial(name),
                        placeholder=self._placeholder(name),
                        id=name,
                        max_length=64 if name == "suffix" else 0,
                        compact=True,
                    )
            with Horizontal(classes="field", id="field-advanced"):
                yield Label("Advanced (local)")
                yield Input(placeholder=ADVANCED_PLACEHOLDER, id="advanced", compact=True)
            yield Static("", id="form-problems", markup=False)
            yield Static(
                Text("F2 checks the files and estimates the cost; Ctrl+L launches.", style="dim"),
                id="estimate",
            )
            yield ProgressBar(id="upload-progress", show_eta=False)
            with Horizontal(id="form-buttons"):
                yield Button("Check (F2)", id="check")
                yield Button("Launch (Ctrl+L)", variant="primary", id="launch")
                yield Button("Cancel (Esc)", id="cancel")
        yield Static("", id="form-status", markup=False, classes="-empty")
        yield Footer()

    @property
    def root(self) -> Path:
        """The dataset root: relative file paths start here."""
        return root_folder(Path(getattr(self.app, "start_path", Path.cwd())))

    def _placeholder(self, name: str) -> str:
        if name in ("training", "validation"):
            return f"{PLACEHOLDERS[name]} · relative to {self.root}"
        return PLACEHOLDERS[name]

    def _initial(self, name: str) -> str:
        if name == "training" and self._training_path:
            return self._training_path
        return "auto" if name in HYPER_FIELDS else ""

    def on_mount(self) -> None:
        self._show_method_fields("supervised")
        self.query_one("#field-advanced").display = False  # shown for the local server only
        self.query_one("#training" if not self._training_path else "#model").focus()
        self.load_models()

    # -- models --------------------------------------------------------------------------------

    @work(exclusive=True, group="new-job-models", exit_on_error=False)
    async def load_models(self) -> None:
        connection = ft_app(self).connection
        kind = getattr(connection.profile, "kind", "openai")
        self._local = bool(getattr(connection.profile, "is_local", False))
        own_models = kind not in ("openai", "azure")
        served: list[str] = []
        notes: dict[str, str] = {}
        try:
            client = await connection.client()
            page = await client.models.list()
            served = [str(model.id) for model in page.data]
            notes = {str(model.id): model_availability(model) for model in page.data}
        except Exception as exc:  # the catalog still offers the known models
            self.notify(f"Models not listed: {error_text(exc)}", severity="warning", timeout=6)
        options = model_options(served, own_models, notes)
        select = self.query_one("#model", Select)
        select.set_options(options)
        select.prompt = "choose a base model"
        if options:
            select.value = options[0][1]
        # The local server's own settings (LoRA, sequence length, packing, QLoRA...).
        self.query_one("#field-advanced").display = self._local

    @on(Select.Changed, "#method")
    def _method_changed(self, event: Select.Changed) -> None:
        self._show_method_fields(str(event.value))

    def _show_method_fields(self, method: str) -> None:
        allowed = METHOD_HYPERS.get(method, METHOD_HYPERS["supervised"])
        for name in HYPER_FIELDS:
            self.query_one(f"#field-{name}").display = name in allowed

    # -- reading the form ----------------------------------------------------------------------

    def values(self) -> dict[str, str]:
        model = self.query_one("#model", Select).value
        method = self.query_one("#method", Select).value
        values = {
            # before the models are listed the select holds no value (Select.NULL)
            "model": model if isinstance(model, str) else "",
            "method": method if isinstance(method, str) else "supervised",
        }
        for name in TEXT_FIELDS:
            values[name] = self.query_one(f"#{name}", Input).value
        return values

    def _problems(self, problems: list[str]) -> None:
        self.query_one("#form-problems", Static).update("\n".join(problems))
        if problems:
            more = f" (+{len(problems) - 1} more above)" if len(problems) > 1 else ""
            self._status(f"Not launched: {problems[0]}{more}")
        else:
            self._status("")

    def _status(self, text: str) -> None:
        """The one line under the form that always shows why nothing happened."""
        status = self.query_one("#form-status", Static)
        status.update(text)
        status.set_class(not text, "-empty")

    # -- actions -------------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "check":
            self.action_check()
        elif event.button.id == "launch":
            self.action_launch()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        if not self._busy:
            self.dismiss(None)

    def action_check(self) -> None:
        request = self._request()
        if request is not None:
            self.submit(request, launch=False)

    def action_launch(self) -> None:
        request = self._request()
        if request is not None:
            self.submit(request, launch=True)

    def _request(self) -> JobRequest | None:
        if self._busy:
            self.notify("Busy: wait for the current step to finish.", severity="warning")
            return None
        request, problems = build_request(self.values(), self.root)
        if self._local:
            text = self.query_one("#advanced", Input).value
            method = request.method if request else self.values()["method"]
            advanced, problem = parse_advanced(text, method)
            if problem:
                problems.append(problem)
                request = None
            elif request is not None:
                request.hyperparameters.update(advanced)
        self._problems(problems)
        return request

    @work(exclusive=True, group="new-job", exit_on_error=False, description="New job")
    async def submit(self, request: JobRequest, launch: bool) -> None:
        self._busy = True
        try:
            await self._submit(request, launch)
        except Exception as exc:  # this screen is not a ModeScreen: say it here, never a traceback
            log.warning("new job failed: %s", exc)
            self._problems([f"{'Launch' if launch else 'Check'} failed: {error_text(exc)}"])
            self.notify(error_text(exc), title="New job", severity="error", timeout=8)
        finally:
            self._busy = False
            self.query_one("#upload-progress", ProgressBar).display = False

    async def _submit(self, request: JobRequest, launch: bool) -> None:
        estimate = self.query_one("#estimate", Static)
        files = [c for c in (request.training, request.validation) if c and c.path]
        reports: dict[Path, LintReport] = {}
        for choice in files:
            assert choice.path is not None
            estimate.update(Text(f"Linting {choice.path.name}…", style="dim"))
            try:
                reports[choice.path] = await lint_before_upload(choice.path, request.model)
            except Exception as exc:
                self._problems([f"Cannot lint {choice.path}: {error_text(exc)}"])
                estimate.update("")
                return
        summary, blocked, warnings = self._summary(request, reports)
        estimate.update(summary)
        if blocked or not launch:
            return
        question = self._confirmation(request, reports, warnings)
        if not await self.app.push_screen_wait(
            ConfirmScreen("Launch fine-tuning job?", question, confirm_label="Launch")
        ):
            return
        job_id = await self._launch(request)
        if job_id:
            self.notify(f"Job {job_id} created", timeout=5)
            self.dismiss(job_id)

    def _summary(
        self, request: JobRequest, reports: dict[Path, LintReport]
    ) -> tuple[Text, bool, int]:
        text = Text()
        blocked = False
        warnings = 0
        for path, report in reports.items():
            errors = [i for i in report.issues if i.severity == "error"]
            warns = [i for i in report.issues if i.severity != "error"]
            warnings += report.warning_count
            text.append(f"{path.name}: {plural(report.examples, 'example')}, ")
            text.append(
                plural(report.error_count, "error"), style="bold red" if errors else "green"
            )
            text.append(", ")
            text.append(
                f"{plural(report.warning_count, 'warning')}\n", style="yellow" if warns else "green"
            )
            for issue in (errors + warns)[:4]:
                style = "red" if issue in errors else "yellow"
                text.append(f"  • {_first_line(issue)}\n", style=style)
            blocked = blocked or bool(errors)
        if blocked:
            text.append("Fix the errors first (1 Datasets shows each line).", style="bold red")
            errors_total = sum(report.error_count for report in reports.values())
            self._status(
                f"{plural(errors_total, 'error')}: fix {'it' if errors_total == 1 else 'them'}"
                " first (in 1 Datasets, Enter on an issue jumps to its line)"
            )
            return text, True, warnings
        text.append_text(self._estimate_text(request, reports))
        return text, False, warnings

    def _estimate_text(self, request: JobRequest, reports: dict[Path, LintReport]) -> Text:
        path = request.training.path
        report = reports.get(path) if path else None
        if report is None:
            return Text("No estimate: the training file is already uploaded.", style="dim")
        epochs, billed, cost = estimate_for(report, request)
        cost_text = f"${cost:,.2f}" if cost is not None else "no price for this model"
        if self._local:
            cost_text = "local (no charge)"
        return Text(
            f"Estimate for {request.model}: "
            f"{plural(epochs, 'epoch') if epochs else '? epochs'} · "
            f"{billed:,} billed tokens · {cost_text}"
            if billed is not None
            else "No estimate available for this file.",
            style="bold",
        )

    def _confirmation(
        self, request: JobRequest, reports: dict[Path, LintReport], warnings: int
    ) -> str:
        lines = [
            f"Model: {request.model} ({request.method})",
            f"Training: {request.training.label}",
        ]
        if request.validation:
            lines.append(f"Validation: {request.validation.label}")
        report = reports.get(request.training.path) if request.training.path else None
        if report is not None:
            epochs, billed, cost = estimate_for(report, request)
            lines.append(f"Epochs: {epochs or '?'} · billed tokens ≈ {billed or 0:,}")
            if self._local:
                lines.append("Cost: none (local training)")
            else:
                lines.append(f"Cost ≈ ${cost:,.2f}" if cost is not None else "Cost: unknown")
        if warnings:
            lines.append(f"{warnings} lint warning(s): see the form.")
        return "\n".join(lines)

    async def _launch(self, request: JobRequest) -> str | None:
        from tui.services.jobs import JobsService

        connection = ft_app(self).connection
        training_id = await self._file_id(request.training)
        validation_id = await self._file_id(request.validation) if request.validation else None
        job = await JobsService(connection).create(request.spec(training_id, validation_id))
        return job.id

    async def _file_id(self, choice: FileChoice) -> str:
        if choice.file_id:
            return choice.file_id
        assert choice.path is not None
        from tui.services.uploads import Uploader, UploadProgress

        bar = self.query_one("#upload-progress", ProgressBar)
        bar.display = True
        bar.update(total=max(1, choice.path.stat().st_size), progress=0)
        estimate = self.query_one("#estimate", Static)
        estimate.update(Text(f"Uploading {choice.path.name}…", style="dim"))
        ui_thread = threading.get_ident()

        def progress(update: UploadProgress) -> None:
            total, sent = max(1, update.total), update.sent
            if threading.get_ident() == ui_thread:
                bar.update(total=total, progress=sent)
            else:
                self.app.call_from_thread(bar.update, total=total, progress=sent)

        uploader = Uploader(ft_app(self).connection)
        remote = await uploader.upload(choice.path, on_progress=progress)
        estimate.update(Text(f"Uploaded {choice.path.name} as {remote.id}", style="green"))
        return remote.id


def estimate_for(
    report: LintReport, request: JobRequest
) -> tuple[int | None, int | None, float | None]:
    """(epochs, billed tokens, cost) from the linter's estimate, honouring an explicit n_epochs."""
    from tui.core.models_catalog import resolve_model
    from tui.core.pricing import training_cost_usd

    estimate = report.estimate
    epochs: int | None = estimate.epochs
    per_epoch = estimate.tokens_per_epoch
    billed: int | None = estimate.billed_tokens
    chosen = request.hyperparameters.get("n_epochs")
    if isinstance(chosen, int) and per_epoch is not None:
        epochs, billed = chosen, int(per_epoch) * chosen
    if billed is None:
        return epochs, None, None
    return epochs, int(billed), training_cost_usd(resolve_model(request.model).prices, int(billed))
