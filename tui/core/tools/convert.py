"""Convert a source (CSV, TSV, JSON, JSONL, XLSX, prompt/completion) to chat-format JSONL.

Each record becomes `{"messages": [system?, user, assistant]}` following a `Mapping`. Records whose
mapped cells are all empty (blank spreadsheet rows) are skipped and counted. Every example is linted
as it is written; the output appears only when the whole conversion succeeded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from tui.core.tools import jsonl
from tui.core.tools.errors import ToolError
from tui.core.tools.example_lint import ExampleLinter, LintTally
from tui.core.tools.files import atomic_output, check_output
from tui.core.tools.mapping import CHAT_FIELD, Mapping
from tui.core.tools.progress import ProgressCallback
from tui.core.tools.records import Record, Source

Example = dict[str, object]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _cell(record: Record, column: str) -> str:
    if column not in record.fields:
        raise ToolError(f"{record.where}: no field {column!r} in this record")
    return _text(record.fields[column])


def _joined(record: Record, columns: tuple[str, ...]) -> str:
    parts = [_cell(record, col) for col in columns]
    return "\n\n".join(part for part in parts if part.strip())


def _from_preference(record: Record) -> Example:
    source = record.fields.get("input")
    preferred = record.fields.get("preferred_output")
    if not isinstance(source, dict) or not isinstance(source.get(CHAT_FIELD), list):
        raise ToolError(f"{record.where}: 'input' has no 'messages' list")
    if not isinstance(preferred, list):
        raise ToolError(f"{record.where}: 'preferred_output' is not a list of messages")
    example: Example = {CHAT_FIELD: [*source[CHAT_FIELD], *preferred]}
    for key in ("tools", "parallel_tool_calls"):
        if key in source:
            example[key] = source[key]
    return example


def _passthrough(record: Record, mapping: Mapping) -> Example:
    example = _from_preference(record) if mapping.preference else dict(record.fields)
    messages = example.get(CHAT_FIELD)
    if not isinstance(messages, list):
        raise ToolError(f"{record.where}: 'messages' is not a list")
    has_system = any(isinstance(m, dict) and m.get("role") == "system" for m in messages)
    if mapping.system_prompt and not has_system:
        example[CHAT_FIELD] = [{"role": "system", "content": mapping.system_prompt}, *messages]
    return example


def build_example(record: Record, mapping: Mapping) -> Example | None:
    """The chat example for one record, or None when all its mapped cells are empty."""
    if mapping.passthrough:
        if not mapping.preference and CHAT_FIELD not in record.fields:
            raise ToolError(f"{record.where}: no 'messages' field, unlike the first records")
        return _passthrough(record, mapping)
    user = _joined(record, mapping.user)
    assistant = _joined(record, mapping.assistant)
    system = _joined(record, mapping.system) if mapping.system else mapping.system_prompt or ""
    if not user.strip() and not assistant.strip():
        return None
    messages: list[dict[str, str]] = []
    if system.strip():
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": user})
    messages.append({"role": "assistant", "content": assistant})
    return {CHAT_FIELD: messages}


def preview_examples(source: Source, mapping: Mapping, limit: int = 3) -> list[Example]:
    """The first `limit` examples the conversion would write."""
    examples = (build_example(r, mapping) for r in source.records())
    return list(islice((e for e in examples if e is not None), limit))


@dataclass
class ConvertSummary:
    out: Path
    written: int = 0
    blank_skipped: int = 0
    blank_first: list[str] = field(default_factory=list)
    lint: LintTally = field(default_factory=LintTally)

    def lines(self) -> list[str]:
        noun = "example" if self.written == 1 else "examples"
        out = [f"wrote {self.written} {noun} to {self.out}"]
        if self.blank_skipped:
            where = ", ".join(self.blank_first)
            more = ", …" if self.blank_skipped > len(self.blank_first) else ""
            out.append(f"skipped {self.blank_skipped} empty records ({where}{more})")
        out.extend(self.lint.lines())
        return out


def _examples(
    source: Source, mapping: Mapping, summary: ConvertSummary, progress: ProgressCallback | None
) -> Iterator[tuple[str, Example]]:
    for record in source.records(progress):
        example = build_example(record, mapping)
        if example is None:
            summary.blank_skipped += 1
            if len(summary.blank_first) < 5:
                summary.blank_first.append(record.where)
            continue
        yield record.where, example


def convert(
    source: Source,
    mapping: Mapping,
    out: Path,
    *,
    force: bool = False,
    lint: ExampleLinter | None = None,
    progress: ProgressCallback | None = None,
) -> ConvertSummary:
    """Write the chat JSONL for `source` to `out`; raises `ToolError` before writing anything."""
    check_output(out, [source.path], force=force)
    summary = ConvertSummary(out)
    with atomic_output(out) as handle:
        for where, example in _examples(source, mapping, summary, progress):
            handle.write(jsonl.dumps(example) + b"\n")
            summary.written += 1
            if lint is not None:
                summary.lint.add(f"example {summary.written}, {where}", lint(example))
        if summary.written == 0:
            raise ToolError(f"{source.path}: no records with content; nothing to write")
    return summary
