"""The new-run form of mode 5: dataset path, the models to compare (picked from the active
profile's list; other profiles' lists load on demand; any `MODEL` or `PROFILE=MODEL` can be
typed), scorers, an optional judge and a row limit. The dataset is linted and the choices
checked before the form closes, so mistakes are shown here rather than after the run starts.
F5 (or Start) starts, Escape cancels. Dismisses with the `EvalSpec` or None.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, SelectionList, Static

from screens.base import ft_app
from tui.core.save_paths import resolve_user_path, root_folder
from tui.services.eval.types import DEFAULT_SCORERS, EvalError, EvalSpec, ModelRef
from tui.services.eval_live import ModelOption, parse_models, profile_models, profile_names

SCORER_HELP = "exact normalized contains json f1 regex:PATTERN judge"


class NewEvalScreen(ModalScreen[EvalSpec | None]):
    DEFAULT_CSS = """
    NewEvalScreen { align: center middle; }
    NewEvalScreen .eval-dialog {
        width: 100%; max-width: 100; height: 100%; max-height: 24;
        border: round $accent; background: $surface; padding: 0 1;
    }
    NewEvalScreen Input { border: none; height: 1; padding: 0 1; background: $boost; }
    NewEvalScreen .row { height: 1; }
    NewEvalScreen .row Label { width: 10; color: $text-muted; }
    NewEvalScreen .row Input { width: 1fr; }
    NewEvalScreen #form-models { height: 1fr; min-height: 3; border: round $panel; }
    NewEvalScreen #form-profile { width: 1fr; }
    NewEvalScreen #form-problem { height: auto; max-height: 3; color: $error; }
    NewEvalScreen .eval-buttons { height: 1; align-horizontal: right; }
    NewEvalScreen .eval-buttons Button { margin-left: 1; }
    """
    BINDINGS = [
        Binding("f5", "start", "Start", id="eval_form.start"),
        Binding("escape", "cancel", "Cancel", id="eval_form.cancel"),
    ]

    def __init__(self, *, dataset: str = "", models: list[str] | None = None, start: Path) -> None:
        super().__init__()
        self._dataset = dataset
        self._prefill = list(models or [])
        self._start = start
        self._values: set[str] = set()
        self._loaded: set[str] = set()
        self._checking = False

    def compose(self) -> ComposeResult:
        active = ft_app(self).connection.profile.name
        with Vertical(classes="eval-dialog"):
            yield Static("New eval run", classes="title")
            with Horizontal(classes="row"):
                yield Label("Dataset")
                yield Input(self._dataset, placeholder="held-out chat JSONL", id="form-dataset")
            with Horizontal(classes="row"):
                yield Label("Models of")
                yield Select(
                    [(n, n) for n in profile_names(active)],
                    value=active,
                    allow_blank=False,
                    id="form-profile",
                    compact=True,
                )
            models = SelectionList[str](id="form-models")
            models.border_title = "Models (space picks)"
            yield models
            with Horizontal(classes="row"):
                yield Label("Also")
                yield Input(placeholder="MODEL or PROFILE=MODEL, comma-separated", id="form-extra")
            with Horizontal(classes="row"):
                yield Label("Scorers")
                yield Input(",".join(DEFAULT_SCORERS), placeholder=SCORER_HELP, id="form-scorers")
            with Horizontal(classes="row"):
                yield Label("Judge")
                yield Input(placeholder="optional judge model", id="form-judge")
                yield Label(" Limit")
                yield Input(placeholder="all rows", id="form-limit")
            yield Static("", id="form-problem", markup=False)
            with Horizontal(classes="eval-buttons"):
                yield Button("Start (F5)", variant="primary", id="form-start", compact=True)
                yield Button("Cancel (Esc)", id="form-cancel", compact=True)

    def on_mount(self) -> None:
        models = self.query_one("#form-models", SelectionList)
        for label in self._prefill:
            self._values.add(label)
            models.add_option((label, label, True))
        if self._prefill:
            models.highlighted = 0
        field = "#form-dataset" if not self._dataset else "#form-models"
        self.query_one(field).focus()
        self._load_profile(ft_app(self).connection.profile.name)

    @on(Select.Changed, "#form-profile")
    def _profile_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self._load_profile(event.value)

    @work(group="eval-form-models", exit_on_error=False)
    async def _load_profile(self, name: str) -> None:
        if name in self._loaded:
            return
        self._loaded.add(name)
        app = ft_app(self)
        own = name != app.connection.profile.name
        if own:
            from tui.services.connection import connection_for

            conn = connection_for(name)
        else:
            conn = app.connection
        models = self.query_one("#form-models", SelectionList)
        models.border_subtitle = f"listing {name}…"
        try:
            options = await profile_models(conn)
        except Exception as exc:
            from tui.services.errors import describe_error

            self._loaded.discard(name)
            models.border_subtitle = f"{name}: {describe_error(exc).title}"
            return
        finally:
            if own:
                await conn.aclose()
        self._add_options(options)
        models.border_subtitle = f"{len(options)} from {name}"

    def _add_options(self, options: list[ModelOption]) -> None:
        models = self.query_one("#form-models", SelectionList)
        for option in options:
            if option.label not in self._values:
                self._values.add(option.label)
                models.add_option((f"{option.label}  [{option.kind}]", option.label))
        if models.highlighted is None and models.option_count:
            models.highlighted = 0  # Space picks at once, no Down first

    def spec(self) -> EvalSpec:
        """The form as a spec; raises `EvalError` naming what is wrong."""
        raw = self.query_one("#form-dataset", Input).value.strip()
        if not raw:
            raise EvalError("Give the dataset to evaluate on.")
        dataset = resolve_user_path(raw, root_folder(self._start))
        if not dataset.is_file():
            raise EvalError(f"{dataset} is not a file.")
        picked = list(self.query_one("#form-models", SelectionList).selected)
        extra = self.query_one("#form-extra", Input).value.split(",")
        models = parse_models([*picked, *[e for e in extra if e.strip() not in picked]])
        scorers = [s.strip() for s in self.query_one("#form-scorers", Input).value.split(",")]
        judge_text = self.query_one("#form-judge", Input).value.strip()
        limit_text = self.query_one("#form-limit", Input).value.strip()
        try:
            limit = int(limit_text) if limit_text else None
        except ValueError:
            raise EvalError(f"Limit {limit_text!r} is not a whole number.") from None
        from tui.services.eval.runner import check_spec

        return check_spec(
            EvalSpec(
                dataset=dataset,
                models=models,
                scorers=[s for s in scorers if s] or list(DEFAULT_SCORERS),
                judge=ModelRef.parse(judge_text) if judge_text else None,
                limit=limit,
            )
        )

    @on(Button.Pressed, "#form-start")
    async def action_start(self) -> None:
        if self._checking:
            return
        problem = self.query_one("#form-problem", Static)
        try:
            spec = self.spec()
        except EvalError as exc:
            problem.update(str(exc))
            return
        from tui.services.eval.dataset import prelint

        self._checking = True
        problem.update("Checking the dataset…")
        try:
            await asyncio.to_thread(prelint, spec.dataset)
        except EvalError as exc:
            problem.update(str(exc))
            return
        finally:
            self._checking = False
        self.dismiss(spec)

    @on(Button.Pressed, "#form-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
