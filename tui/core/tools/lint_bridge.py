"""The dataset linter and token counter, adapted to what the tools need per example.

The same rules (and rule ids) as `ft-tui lint`: the tools only decide what to do with an example
that has errors, they never define their own checks.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.core.formats import Format, detect_format
from tui.core.lint.example import check_example
from tui.core.models_catalog import resolve_model
from tui.core.rules import RULES
from tui.core.tokens import TokenizerDataError, token_counter
from tui.core.tools.errors import ToolError
from tui.core.tools.example_lint import ExampleLinter, IssueLike
from tui.core.tools.fix_steps import Example, TokenLimit


@dataclass(frozen=True)
class ExampleIssue:
    rule: str
    severity: str
    message: str


def example_linter(model: str | None) -> ExampleLinter:
    """Lint examples one by one; the first example of a known format fixes the file's format."""
    info = resolve_model(model)
    try:
        counter = token_counter(info.encoding)
    except TokenizerDataError as exc:
        raise ToolError(f"cannot count tokens for {info.name}: {exc}") from exc
    file_format: list[Format] = ["unknown"]

    def lint(example: Example) -> list[IssueLike]:
        if file_format[0] == "unknown":
            file_format[0] = detect_format(example)
        outcome = check_example(example, file_format[0], counter)
        return [
            ExampleIssue(rule_id, RULES[rule_id].severity if rule_id in RULES else "error", text)
            for rule_id, text in outcome.issues
        ]

    return lint


def token_limit(model: str) -> TokenLimit:
    """The training-example token limit of `model` and a counter for whole examples."""
    info = resolve_model(model)
    if info.training_limit is None:
        raise ToolError(f"{info.name} has no published training-example token limit")
    try:
        counter = token_counter(info.encoding)
    except TokenizerDataError as exc:
        raise ToolError(f"cannot count tokens for {info.name}: {exc}") from exc

    def count(example: Example) -> int:
        return check_example(example, detect_format(example), counter).total_tokens

    return TokenLimit(info.name, info.training_limit, count)
