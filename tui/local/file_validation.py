"""Validation of a job's files before training, with OpenAI's failure codes and messages.

The same lint rules as `ft-tui lint` and the Datasets screen (`tui.core.lint`), so a user sees
the same rule and line everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Any

MIN_EXAMPLES = 10


class JobFailure(Exception):
    """Why a job failed: OpenAI's `error.code`, a message for the user and the `param`."""

    def __init__(self, code: str, message: str, param: str | None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.param = param


def file_format(path: Path) -> str | None:
    """The format of a JSONL file's first example ("chat", "preference", ...), None if unknown."""
    import json

    from tui.core.formats import detect_format

    try:
        with path.open("rb") as handle:
            for raw in handle:
                if raw.strip():
                    found = detect_format(json.loads(raw))
                    return None if found == "unknown" else found
    except (OSError, ValueError):
        return None
    return None


def _check_method(path: Path, param: str, job: dict[str, Any]) -> None:
    method = (job.get("method") or {}).get("type") or "supervised"
    wanted = "preference" if method == "dpo" else "chat"
    found = file_format(path)
    if found is not None and found != wanted:
        raise JobFailure(
            "file_format_mismatch",
            f"The {param} is a {found} file, but the job's method is {method!r}.",
            param,
        )


def validate_job_files(files_dir: Path, job: dict[str, Any]) -> int:
    """Lint the training (and validation) file; return the number of training examples."""
    _check_method(files_dir / str(job["training_file"]), "training_file", job)
    if job.get("validation_file"):
        _check_method(files_dir / str(job["validation_file"]), "validation_file", job)
    n_examples = _check(files_dir / str(job["training_file"]), "training_file", "training")
    if n_examples < MIN_EXAMPLES:
        raise JobFailure(
            "invalid_n_examples",
            f"Training file has {n_examples} example(s), but must have at least "
            f"{MIN_EXAMPLES} examples",
            "training_file",
        )
    validation = job.get("validation_file")
    if validation:
        _check(files_dir / str(validation), "validation_file", "validation")
    return n_examples


# Counted by this module instead, to answer with OpenAI's `invalid_n_examples`.
_COUNT_RULES = frozenset({"too_few_examples", "empty_file"})


def _check(path: Path, param: str, kind: str) -> int:
    from tui.core.lint import LintFailed, lint_path

    if not path.is_file():
        raise JobFailure(f"invalid_{kind}_file", f"The {kind} file is no longer available.", param)
    try:
        report = lint_path(path, workers=1)
    except LintFailed as exc:
        raise JobFailure(
            f"invalid_{kind}_file", f"Cannot read the {kind} file: {exc}", param
        ) from None
    errors = [
        issue
        for issue in report.issues
        if _severity(issue.severity) == "error" and issue.rule not in _COUNT_RULES
    ]
    if errors:
        first = min(errors, key=lambda issue: issue.line or 0)
        where = f"Line {first.line}" if first.line else "File"
        raise JobFailure(
            f"invalid_{kind}_file",
            f"The job failed due to an invalid {kind} file. Invalid file format. "
            f"{where}: {first.message} [{first.rule}]",
            param,
        )
    return int(report.examples)


def _severity(value: object) -> str:
    return str(getattr(value, "value", value)).lower()
