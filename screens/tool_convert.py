"""Convert dialog: a CSV/TSV/JSON/JSONL/XLSX source → chat JSONL, with a column mapping."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult
from textual.widgets import Checkbox, Input, Select

from screens.tool_dialog import ToolDialog
from tui.core.save_paths import resolve_user_path
from tui.core.tools.convert import ConvertSummary, Example, convert, preview_examples
from tui.core.tools.files import check_output, same_file
from tui.core.tools.lint_bridge import example_linter
from tui.core.tools.mapping import ROLES, Mapping, resolve_mapping
from tui.core.tools.progress import ProgressCallback
from tui.core.tools.sources import detect_format, open_source

NONE = ""  # the "(none)" choice of a role select


@dataclass(frozen=True)
class ConvertResult:
    source: Path
    output: Path
    summary: ConvertSummary


def default_output(source: Path) -> Path:
    stem = f"{source.stem}.chat" if source.suffix.lower() == ".jsonl" else source.stem
    return source.with_name(f"{stem}.jsonl")


def _clip(text: object, limit: int = 90) -> str:
    flat = str(text).replace("\n", "⏎ ")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def example_lines(number: int, example: Example, issues: list[str]) -> list[str]:
    lines = [f"example {number}"]
    messages = example.get("messages")
    for message in messages if isinstance(messages, list) else []:
        if isinstance(message, dict):
            lines.append(f"  {message.get('role')}: {_clip(message.get('content'))}")
    lines.extend(f"  ! {issue}" for issue in issues)
    return lines


class ConvertScreen(ToolDialog[ConvertResult]):
    TITLE_TEXT = "Convert to chat JSONL"

    def __init__(self, source: Path) -> None:
        super().__init__()
        self.source = source
        self._columns: list[str] = []
        self._seen_columns: list[str] | None = None  # set by the preview worker
        self._guess: Mapping | None = None
        self._guessed: dict[str, tuple[str, ...]] = {}  # what the selects were filled with

    def compose_form(self) -> ComposeResult:
        yield self.row("Source", Input(str(self.source), disabled=True, id="convert-source"))
        yield self.row("Output", Input(str(default_output(self.source)), id="convert-out"))
        for role in ROLES:
            select: Select[str] = Select([], allow_blank=True, id=f"map-{role}", prompt="(none)")
            yield self.row(f"{role.capitalize()} column", select)
        yield self.row(
            "System prompt",
            Input(placeholder="fixed system message (optional)", id="convert-system"),
        )
        yield self.row(
            "Encoding", Input(placeholder="auto (UTF-8 / UTF-16)", id="convert-encoding")
        )
        if self.source.suffix.lower() in (".xlsx", ".xlsm"):
            yield self.row("Sheet", Input(placeholder="first sheet", id="convert-sheet"))
        yield self.row("", Checkbox("Overwrite the output if it exists", id="convert-force"))

    def focus_first(self) -> None:
        self.query_one("#convert-out", Input).focus()

    # -- reading the form ----------------------------------------------------------------------

    def _text(self, widget_id: str) -> str:
        found = self.query(f"#{widget_id}")
        return found.first(Input).value.strip() if found else ""

    def _explicit(self) -> dict[str, tuple[str, ...]]:
        chosen: dict[str, tuple[str, ...]] = {}
        for role in ROLES:  # once filled, the selects decide: blank means no column
            value = self.query_one(f"#map-{role}", Select).value
            chosen[role] = (value,) if isinstance(value, str) and value else ()
        return chosen

    def _form(self) -> tuple[Path, str | None, str | None, dict[str, tuple[str, ...]], str | None]:
        out_text = self._text("convert-out")
        out = (
            resolve_user_path(out_text, self.source.parent)
            if out_text
            else default_output(self.source)
        )
        explicit = self._explicit() if self._columns else {}
        system_prompt = self._text("convert-system") or None
        return (
            out,
            self._text("convert-encoding") or None,
            self._text("convert-sheet") or None,
            explicit,
            system_prompt,
        )

    # -- preview and job -----------------------------------------------------------------------

    def make_preview(self) -> Callable[[ProgressCallback], list[str]]:
        out, encoding, sheet, explicit, system_prompt = self._form()
        force = self.query_one("#convert-force", Checkbox).value
        detect_format(self.source)

        def work(progress: ProgressCallback) -> list[str]:
            source = open_source(self.source, encoding=encoding, sheet=sheet)
            known = set(source.columns)
            usable = {
                role: cols
                for role, cols in explicit.items()
                if all(part in known for col in cols for part in col.split("+"))
            }
            mapping = resolve_mapping(source.columns, usable, system_prompt)
            self._seen_columns = source.columns
            self._guess = mapping
            guessed = not usable or {r: c for r, c in usable.items() if c} == self._guessed
            label = "mapping (guessed from the column names)" if guessed else "mapping"
            lines = [
                f"source: {self.source.name} ({source.kind}); columns: {', '.join(source.columns)}",
                f"{label}: {mapping.describe()}",
            ]
            if same_file(out, self.source):
                lines.append(f"output: {out} is the source file: choose another path")
            elif out.exists() and not force:
                lines.append(f"output: {out} exists: tick 'Overwrite' to replace it")
            else:
                lines.append(f"output: {out}")
            lint = example_linter(None)
            for number, example in enumerate(preview_examples(source, mapping), start=1):
                issues = [f"{i.severity} {i.rule}: {i.message}" for i in lint(example)]
                lines.extend(example_lines(number, example, issues))
            return lines

        return work

    def preview_shown(self) -> None:
        columns, guess = self._seen_columns, self._guess
        if columns is None or guess is None or columns == self._columns:
            return
        self._columns = columns
        for role in ROLES:
            select = self.query_one(f"#map-{role}", Select)
            options = [(c, c) for c in columns]
            joined = "+".join(guess.columns(role))
            if len(guess.columns(role)) > 1:
                options.insert(0, (" + ".join(guess.columns(role)), joined))
            select.set_options(options)
            select.disabled = guess.passthrough
            if joined:
                select.value = joined
                self._guessed[role] = (joined,)

    def make_job(self) -> Callable[[ProgressCallback], tuple[ConvertResult, list[str]]]:
        out, encoding, sheet, explicit, system_prompt = self._form()
        force = self.query_one("#convert-force", Checkbox).value
        check_output(out, [self.source], force=force)

        def work(progress: ProgressCallback) -> tuple[ConvertResult, list[str]]:
            source = open_source(self.source, encoding=encoding, sheet=sheet)
            mapping = resolve_mapping(source.columns, explicit, system_prompt)
            summary = convert(
                source, mapping, out, force=force, lint=example_linter(None), progress=progress
            )
            return ConvertResult(self.source, out, summary), summary.lines()

        return work
