"""Fix dialog: pick fixes, see a dry-run report of what each would change, then write."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult
from textual.widgets import Checkbox, Input

from screens.tool_dialog import ToolDialog
from tui.core.save_paths import resolve_user_path
from tui.core.tools.files import derived_path
from tui.core.tools.fix import FixOptions, FixReport, fix_file
from tui.core.tools.lint_bridge import example_linter, token_limit
from tui.core.tools.progress import ProgressCallback

FIX_BOXES = (
    ("fix-normalize", "Normalise: strip BOM, LF line endings, drop blank lines"),
    ("fix-trim", "Trim whitespace around message text"),
    ("fix-drop-invalid", "Drop lines with errors (kept in <name>.rejected.jsonl)"),
    ("fix-dedupe", "Remove exact duplicates"),
)


@dataclass(frozen=True)
class FixResult:
    source: Path
    output: Path
    rejected: Path | None
    report: FixReport


@dataclass(frozen=True)
class _Form:
    normalize: bool
    trim: bool
    drop_invalid: bool
    dedupe: bool
    model: str | None
    out: Path
    in_place: bool
    force: bool

    def options(self) -> FixOptions:
        """Build the fixes (loads the tokenizer: call it in the worker)."""
        return FixOptions(
            normalize=self.normalize,
            trim=self.trim,
            drop_invalid=self.drop_invalid,
            dedupe=self.dedupe,
            token_limit=token_limit(self.model) if self.model else None,
            lint=example_linter(self.model) if self.drop_invalid else None,
        )

    def any_chosen(self) -> bool:
        return self.normalize or self.trim or self.drop_invalid or self.dedupe or bool(self.model)


class FixScreen(ToolDialog[FixResult]):
    TITLE_TEXT = "Fix the dataset"

    def __init__(self, source: Path) -> None:
        super().__init__()
        self.source = source

    def compose_form(self) -> ComposeResult:
        yield self.row("Source", Input(str(self.source), disabled=True, id="fix-source"))
        for widget_id, label in FIX_BOXES:
            yield self.row("", Checkbox(label, id=widget_id))
        yield self.row(
            "Token limit of",
            Input(id="fix-model", placeholder="model, e.g. gpt-4o-mini (empty: no limit)"),
        )
        yield self.row("Output", Input(str(derived_path(self.source, "fixed")), id="fix-out"))
        yield self.row("", Checkbox("Replace the source file itself (in place)", id="fix-in-place"))
        yield self.row("", Checkbox("Overwrite outputs that exist", id="fix-force"))

    def _checked(self, widget_id: str) -> bool:
        return self.query_one(f"#{widget_id}", Checkbox).value

    def _form(self) -> _Form:
        model = self.query_one("#fix-model", Input).value.strip() or None
        text = self.query_one("#fix-out", Input).value.strip()
        out = (
            resolve_user_path(text, self.source.parent)
            if text
            else derived_path(self.source, "fixed")
        )
        return _Form(
            self._checked("fix-normalize"),
            self._checked("fix-trim"),
            self._checked("fix-drop-invalid"),
            self._checked("fix-dedupe"),
            model,
            out,
            self._checked("fix-in-place"),
            self._checked("fix-force"),
        )

    def make_preview(self) -> Callable[[ProgressCallback], list[str]]:
        form = self._form()
        if not form.any_chosen():
            return lambda _progress: ["Tick at least one fix to see what it would change."]

        def work(progress: ProgressCallback) -> list[str]:
            report = fix_file(self.source, form.options(), dry_run=True, progress=progress)
            target = self.source if form.in_place else form.out
            lines = report.lines()
            lines.append(
                f"would write {target}" + (" (replacing the source)" if form.in_place else "")
            )
            if not form.in_place and target.exists():
                lines.append(f"{target} exists: tick 'Overwrite' to replace it")
            return lines

        return work

    def make_job(self) -> Callable[[ProgressCallback], tuple[FixResult, list[str]]]:
        form = self._form()

        def work(progress: ProgressCallback) -> tuple[FixResult, list[str]]:
            report = fix_file(
                self.source,
                form.options(),
                out=None if form.in_place else form.out,
                in_place=form.in_place,
                force=form.force,
                progress=progress,
            )
            output = self.source if form.in_place else form.out
            rejected = report.rejected_path if report.rejected else None
            return FixResult(self.source, output, rejected, report), report.lines()

        return work
