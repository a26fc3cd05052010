"""The file rules for adding one training example to a dataset, shared by every "save" flow
(F5 "save turn" in Chat, preference pairs from Chat compare and from Eval): the target must be a
`.jsonl` file (created when missing), an existing file must already hold examples of the same
format, and the example is linted with the same rules as `ft-tui lint` before one line is
appended. Errors block the write; warnings are returned so the caller can ask once more.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.core.formats import FORMAT_LABELS, Format, detect_format
from tui.core.lint import lint_example
from tui.services.conversations import StoreError, append_example

__all__ = ["Finding", "StoreError", "append_example", "check_example", "check_target"]

# How much of an existing file is read to learn its format (its first non-blank line).
_SNIFF_BYTES = 1 << 20


@dataclass(frozen=True)
class Finding:
    severity: str
    rule: str
    message: str
    hint: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


def check_target(raw: str) -> tuple[Path | None, Finding | None]:
    """(path, None) when `raw` names a file an example can be appended to, else (None, why)."""
    if not raw.strip():
        return None, Finding("error", "path", "Choose a file to save into.")
    path = Path(raw.strip()).expanduser()
    if path.suffix.lower() != ".jsonl":
        return None, Finding("error", "path", f"{path.name} is not a .jsonl file.")
    if path.is_dir():
        return None, Finding("error", "path", f"{path} is a directory: choose a .jsonl file.")
    return path, None


def existing_format(path: Path) -> Format | None:
    """The format of the first example already in `path`; None for a missing or empty file
    or one whose first line is not JSON (the linter reports that file on its own)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError:
        return None
    for raw in head.splitlines():
        if raw.strip():
            try:
                return detect_format(json.loads(raw))
            except ValueError:
                return None
    return None


def check_example(example: dict[str, Any], model: str, fmt: Format, path: Path) -> list[Finding]:
    """Everything wrong with appending `example` (in format `fmt`) to `path`, linted for
    `model`'s limits. Reads at most the first MiB of `path`; safe to run in a thread."""
    findings: list[Finding] = []
    have = existing_format(path)
    if have is not None and have not in (fmt, "unknown"):
        findings.append(
            Finding(
                "error",
                "format_mismatch",
                f"{path.name} holds {FORMAT_LABELS[have]} examples, not {FORMAT_LABELS[fmt]}.",
                "choose another file",
            )
        )
    check = lint_example(example, model=model, file_format=fmt)
    findings.extend(Finding(i.severity, i.rule, i.message, i.hint) for i in check.issues)
    return findings
