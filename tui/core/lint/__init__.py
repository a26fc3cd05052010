"""The dataset linter: one set of rules for the CLI, the app, the pre-launch check and the
local server's file validation.

    report = lint_path("train.jsonl", model="gpt-4o-mini-2024-07-18")
    result = lint_example({"messages": [...]})  # one example, e.g. "save as training example"
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tui.core.formats import Format, detect_format
from tui.core.lint.example import check_example
from tui.core.lint.report import DatasetStats, Issue, LintReport, make_issue
from tui.core.lint.runner import LintFailed, LintInputError, lint_path
from tui.core.models_catalog import resolve_model
from tui.core.tokens import token_counter

__all__ = [
    "DatasetStats",
    "ExampleCheck",
    "Issue",
    "LintFailed",
    "LintInputError",
    "LintReport",
    "lint_example",
    "lint_path",
]


@dataclass(frozen=True)
class ExampleCheck:
    """The result of linting one example outside a file."""

    format: str
    issues: list[Issue]
    messages: int
    total_tokens: int
    trained_tokens: int
    over_limit: bool

    @property
    def has_errors(self) -> bool:
        return any(i.severity == "error" for i in self.issues)


def lint_example(
    example: Any, *, model: str | None = None, file_format: Format | None = None
) -> ExampleCheck:
    """Lint one decoded example (a dict) with the same rules as a file line.

    `file_format` is the format of the file it will join (a mismatch is an error); by default
    the example's own format.
    """
    import orjson

    from tui.core.lint.content import raw_line_issues

    info = resolve_model(model)
    fmt = file_format or detect_format(example)
    outcome = check_example(example, fmt, token_counter(info.encoding), info.reinforcement_only)
    issues = [make_issue(None, r, m) for r, m in outcome.issues]
    try:
        text = orjson.dumps(example)
    except (TypeError, orjson.JSONEncodeError):
        text = b""
    issues += [make_issue(None, r, m) for r, m in raw_line_issues(text, example)]
    limit = info.training_limit
    over = limit is not None and outcome.total_tokens > limit
    if over:
        issues.append(
            make_issue(
                None,
                "too_many_tokens",
                f"{outcome.total_tokens} tokens, over the {limit}-token limit",
            )
        )
    return ExampleCheck(
        format=fmt,
        issues=issues,
        messages=outcome.messages,
        total_tokens=outcome.total_tokens,
        trained_tokens=outcome.trained_tokens,
        over_limit=over,
    )
