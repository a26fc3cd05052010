"""Read an eval dataset: lint it with the project's rules first, then turn lines into rows.

Rules that only matter for *training* a file (fewer than 10 examples, the training-example
token limit, the Files API size) do not refuse an eval set; every other error does, naming
its line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from tui.core.eval.rows import EvalRow, RowError, extract_row
from tui.services.eval.types import EvalError

TRAINING_ONLY_RULES = frozenset(
    {"too_few_examples", "too_many_tokens", "file_too_large_for_files_api", "file_too_large"}
)


def prelint(path: Path) -> None:
    """Raise `EvalError` naming the first line with a lint error (or the file's problem)."""
    from tui.core.lint import LintFailed, lint_path

    try:
        report = lint_path(path)
    except LintFailed as exc:
        raise EvalError(f"{path}: {exc}") from None
    errors = [
        i for i in report.issues if i.severity == "error" and i.rule not in TRAINING_ONLY_RULES
    ]
    if not errors:
        return
    first = min(errors, key=lambda i: (i.line is not None, i.line or 0))
    where = f"{path}:{first.line}" if first.line is not None else str(path)
    more = len(errors) - 1
    suffix = f" (and {more} more error{'s' * (more > 1)}; see `ft-tui lint {path}`)" if more else ""
    raise EvalError(f"{where}: {first.rule}: {first.message}{suffix}")


def read_rows(path: Path, limit: int | None = None) -> list[EvalRow]:
    """Every row of the file (the first `limit` rows when set). Raises `EvalError`."""
    return [row for row, _ in read_examples(path, limit)]


def read_examples(path: Path, limit: int | None = None) -> list[tuple[EvalRow, dict[str, Any]]]:
    """Rows with the decoded line each came from."""
    rows: list[tuple[EvalRow, dict[str, Any]]] = []
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise EvalError(f"{path}: cannot read ({exc.strerror or exc})") from None
    with handle:
        for number, raw in enumerate(handle, start=1):
            if limit is not None and len(rows) >= limit:
                break
            text = raw.strip()
            if not text:
                continue
            try:
                example = orjson.loads(text.removeprefix(b"\xef\xbb\xbf"))
                rows.append((extract_row(example, number), example))
            except orjson.JSONDecodeError as exc:
                raise EvalError(f"{path}:{number}: not valid JSON ({exc})") from None
            except RowError as exc:
                raise EvalError(f"{path}:{number}: {exc}") from None
    if not rows:
        raise EvalError(f"{path}: no rows to evaluate")
    return rows


def load_dataset(path: Path, limit: int | None = None) -> list[EvalRow]:
    """Lint, then read. The entry point of `eval`."""
    return [row for row, _ in load_examples(path, limit)]


def load_examples(path: Path, limit: int | None = None) -> list[tuple[EvalRow, dict[str, Any]]]:
    """Lint, then read rows with their decoded lines. The entry point of `record`."""
    if not path.is_file():
        raise EvalError(f"{path}: no such file")
    prelint(path)
    return read_examples(path, limit)
