"""Fix what can be fixed mechanically in a JSONL dataset, each fix an explicit choice.

Fixes run per line in this order: normalise (BOM, line endings, blank lines) → trim message text →
drop lines with lint errors → drop examples over the model's token limit → remove exact duplicates.
Dropped invalid or too-long lines go, unchanged, to `<stem>.rejected.jsonl` so nothing is lost;
duplicates are dropped (their first copy stays). Unchanged lines are copied byte for byte.
A dry run computes the same report without writing. Memory is bounded except for `dedupe`, which
keeps a 16-byte digest per distinct example.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from tui.core.tools import jsonl
from tui.core.tools.errors import ToolError
from tui.core.tools.example_lint import ExampleLinter
from tui.core.tools.files import atomic_output, check_input, check_output, derived_path, iter_lines
from tui.core.tools.fix_steps import (
    Example,
    FixCount,
    TokenLimit,
    normalise_line,
    snippet,
    trim_example,
)
from tui.core.tools.progress import ProgressCallback

FIX_LABELS = {
    "normalize": "normalise BOM, line endings and blank lines",
    "trim": "trim whitespace around message text",
    "drop_invalid": "drop lines with errors (to the rejected file)",
    "max_tokens": "drop examples over the token limit (to the rejected file)",
    "dedupe": "remove exact duplicates",
}


@dataclass(frozen=True)
class FixOptions:
    normalize: bool = False
    trim: bool = False
    drop_invalid: bool = False
    dedupe: bool = False
    token_limit: TokenLimit | None = None
    lint: ExampleLinter | None = None  # required by drop_invalid

    def chosen(self) -> list[str]:
        names = [n for n in ("normalize", "trim", "drop_invalid") if getattr(self, n)]
        if self.token_limit is not None:
            names.append("max_tokens")
        if self.dedupe:
            names.append("dedupe")
        return names


@dataclass
class FixReport:
    source: Path
    out: Path | None
    rejected_path: Path
    dry_run: bool
    lines_in: int = 0
    kept: int = 0
    rejected: int = 0
    fixes: dict[str, FixCount] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = ["dry run: nothing written; this is what would change"] if self.dry_run else []
        for count in self.fixes.values():
            if not count.count:
                out.append(f"{count.label}: nothing to fix")
                continue
            out.append(f"{count.label}: {_lines(count.count)}")
            out.extend(f"  {line}" for line in count.first)
        target = "" if self.out is None else f" → {self.out}"
        out.append(f"kept {self.kept} of {_lines(self.lines_in)}{target}")
        if self.rejected:
            verb = "would move" if self.dry_run else "moved"
            out.append(f"{verb} {_lines(self.rejected)} to {self.rejected_path}")
        return out

    @property
    def changed(self) -> bool:
        return any(c.count for c in self.fixes.values())


def _lines(count: int) -> str:
    return f"{count} line" if count == 1 else f"{count} lines"


class _Runner:
    def __init__(self, options: FixOptions, report: FixReport) -> None:
        self.options = options
        self.report = report
        self.seen: dict[bytes, int] = {}
        for name in options.chosen():
            label = FIX_LABELS[name]
            if name == "max_tokens" and options.token_limit is not None:
                limit = options.token_limit
                label = f"drop examples over {limit.limit:,} tokens for {limit.model}"
                label += f" ({limit.note})" if limit.note else ""
            report.fixes[name] = FixCount(label)

    def lines(self, path: Path, progress: ProgressCallback | None) -> Iterator[tuple[int, bytes]]:
        fix = self.report.fixes.get("normalize")
        for number, raw in iter_lines(path, progress):
            self.report.lines_in += 1
            if fix is None:
                yield number, raw
                continue
            parts, changes = normalise_line(raw)
            kept = [p for p in parts if p.strip()]
            if len(kept) < len(parts):
                changes.append("blank line removed")
            if changes:
                fix.hit(number, ", ".join(changes))
            for part in kept:
                yield number, part

    def route(self, number: int, raw: bytes) -> tuple[str, bytes]:
        """("keep" | "reject" | "drop", the line to write)."""
        try:
            value: object = jsonl.loads(raw)
            not_example = None if isinstance(value, dict) else "not_an_object: not a JSON object"
        except ValueError as exc:
            value, not_example = None, f"invalid_json: {exc}"
        example: Example | None = value if isinstance(value, dict) else None
        fixes = self.report.fixes
        if example is not None and "trim" in fixes and trim_example(example):
            fixes["trim"].hit(number, snippet(raw))
            raw = jsonl.dumps(example)
        if "drop_invalid" in fixes and (reason := not_example or self._lint_error(example)):
            fixes["drop_invalid"].hit(number, reason)
            return "reject", raw
        limit = self.options.token_limit
        if limit is not None and example is not None:
            tokens = limit.count(example)
            if tokens > limit.limit:
                fixes["max_tokens"].hit(number, f"{tokens:,} tokens")
                return "reject", raw
        if "dedupe" in fixes and raw.strip():
            canonical = raw if example is None else jsonl.dumps(example, sort_keys=True)
            key = hashlib.blake2b(canonical, digest_size=16).digest()
            first = self.seen.get(key)
            if first is not None:
                fixes["dedupe"].hit(number, f"same as line {first}")
                return "drop", raw
            self.seen[key] = number
        return "keep", raw

    def _lint_error(self, example: Example | None) -> str | None:
        if example is None or self.options.lint is None:
            return None
        errors = [i for i in self.options.lint(example) if i.severity == "error"]
        return f"{errors[0].rule}: {errors[0].message}" if errors else None


def _outputs(source: Path, out: Path | None, in_place: bool) -> Path:
    if in_place and out is not None:
        raise ToolError("give either --out or --in-place, not both")
    if in_place:
        return source
    return out if out is not None else derived_path(source, "fixed")


def fix_file(
    source: Path,
    options: FixOptions,
    *,
    out: Path | None = None,
    in_place: bool = False,
    dry_run: bool = False,
    force: bool = False,
    progress: ProgressCallback | None = None,
) -> FixReport:
    """Apply the chosen fixes; with `dry_run` only report what would change."""
    check_input(source)
    if not options.chosen():
        raise ToolError(
            "choose at least one fix: --normalize, --trim, --drop-invalid, --dedupe, "
            "--max-tokens-for MODEL"
        )
    if options.drop_invalid and options.lint is None:
        raise ToolError("--drop-invalid needs the dataset linter")
    target = _outputs(source, out, in_place)
    rejected_path = target.with_name(f"{source.stem}.rejected.jsonl")
    report = FixReport(source, None if dry_run else target, rejected_path, dry_run)
    if not dry_run:
        if not in_place:
            check_output(target, [source], force=force)
        if options.drop_invalid or options.token_limit is not None:
            check_output(rejected_path, [source, target], force=force)
    runner = _Runner(options, report)
    with ExitStack() as stack:
        kept_file: BinaryIO | None = None
        rejected_file: BinaryIO | None = None
        for number, raw in runner.lines(source, progress):
            verdict, line = runner.route(number, raw)
            if verdict == "keep":
                report.kept += 1
                if not dry_run:
                    kept_file = kept_file or stack.enter_context(atomic_output(target))
                    kept_file.write(line + b"\n")
            elif verdict == "reject":
                report.rejected += 1
                if not dry_run:
                    rejected_file = rejected_file or stack.enter_context(
                        atomic_output(rejected_path)
                    )
                    rejected_file.write(line + b"\n")
        if not dry_run and kept_file is None:
            stack.enter_context(atomic_output(target))  # every line was dropped: an empty file
    return report
