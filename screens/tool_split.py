"""Split dialog: training and validation files by ratio or count, seeded, optionally grouped."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult
from textual.widgets import Checkbox, Input

from screens.tool_dialog import ToolDialog
from tui.core.save_paths import resolve_user_path
from tui.core.tools.errors import ToolError
from tui.core.tools.files import check_output, derived_path
from tui.core.tools.progress import ProgressCallback
from tui.core.tools.split import SplitPlan, SplitSummary, plan_split, split


@dataclass(frozen=True)
class SplitResult:
    source: Path
    train: Path
    valid: Path
    summary: SplitSummary


@dataclass(frozen=True)
class _Form:
    ratio: float | None
    count: int | None
    seed: int
    group: bool
    train: Path
    valid: Path
    force: bool


class SplitScreen(ToolDialog[SplitResult]):
    TITLE_TEXT = "Split into training and validation"

    def __init__(self, source: Path) -> None:
        super().__init__()
        self.source = source
        self._plans: dict[tuple[object, ...], SplitPlan] = {}  # pass 1 is a full read: keep it

    def compose_form(self) -> ComposeResult:
        yield self.row("Source", Input(str(self.source), disabled=True, id="split-source"))
        yield self.row("Validation", Input("0.1", id="split-ratio", placeholder="fraction"))
        yield self.row("…or count", Input(id="split-count", placeholder="exact number (optional)"))
        yield self.row("Seed", Input("0", id="split-seed"))
        yield self.row("", Checkbox("Keep identical user prompts on one side", id="split-group"))
        yield self.row(
            "Training file", Input(str(derived_path(self.source, "train")), id="split-train")
        )
        yield self.row(
            "Validation file", Input(str(derived_path(self.source, "valid")), id="split-valid")
        )
        yield self.row("", Checkbox("Overwrite outputs that exist", id="split-force"))

    def focus_first(self) -> None:
        self.query_one("#split-ratio", Input).focus()

    def _value(self, widget_id: str) -> str:
        return self.query_one(f"#{widget_id}", Input).value.strip()

    def _path(self, widget_id: str, default: str) -> Path:
        text = self._value(widget_id)
        if text:
            return resolve_user_path(text, self.source.parent)
        return derived_path(self.source, default)

    def _form(self) -> _Form:
        count_text, ratio_text, seed_text = (
            self._value("split-count"),
            self._value("split-ratio"),
            self._value("split-seed") or "0",
        )
        try:
            count = int(count_text) if count_text else None
        except ValueError as exc:
            raise ToolError(f"Count: {count_text!r} is not a whole number") from exc
        try:
            ratio = None if count is not None else float(ratio_text)
        except ValueError as exc:
            raise ToolError(f"Validation: {ratio_text!r} is not a fraction like 0.1") from exc
        try:
            seed = int(seed_text)
        except ValueError as exc:
            raise ToolError(f"Seed: {seed_text!r} is not a whole number") from exc
        return _Form(
            ratio,
            count,
            seed,
            self.query_one("#split-group", Checkbox).value,
            self._path("split-train", "train"),
            self._path("split-valid", "valid"),
            self.query_one("#split-force", Checkbox).value,
        )

    def _plan(self, form: _Form, progress: ProgressCallback) -> SplitPlan:
        stat = self.source.stat()
        key = (form.ratio, form.count, form.seed, form.group, stat.st_size, stat.st_mtime_ns)
        plan = self._plans.get(key)
        if plan is None:
            plan = plan_split(
                self.source,
                ratio=form.ratio,
                count=form.count,
                seed=form.seed,
                group_by_prompt=form.group,
                progress=progress,
            )
            self._plans[key] = plan
        return plan

    def make_preview(self) -> Callable[[ProgressCallback], list[str]]:
        form = self._form()

        def work(progress: ProgressCallback) -> list[str]:
            plan = self._plan(form, progress)
            lines = [plan.describe()]
            if plan.blank:
                lines.append(f"{plan.blank} blank lines will be dropped")
            for label, path in (("training", form.train), ("validation", form.valid)):
                note = " (exists: tick 'Overwrite' to replace it)" if path.exists() else ""
                lines.append(f"{label} file: {path}{note}")
            if form.group:
                lines.append("examples with the same user prompt never straddle the two files")
            else:
                lines.append("exact split; tick the prompt option if prompts repeat")
            return lines

        return work

    def make_job(self) -> Callable[[ProgressCallback], tuple[SplitResult, list[str]]]:
        form = self._form()
        check_output(form.train, [self.source], force=form.force)
        check_output(form.valid, [self.source], force=form.force)

        def work(progress: ProgressCallback) -> tuple[SplitResult, list[str]]:
            plan = self._plan(form, progress)
            summary = split(plan, form.train, form.valid, force=form.force, progress=progress)
            return SplitResult(self.source, form.train, form.valid, summary), summary.lines()

        return work
