"""The dataset linter and token counter, adapted to what the tools need per example.

The same rules (and rule ids) as `ft-tui lint`: the tools only decide what to do with an example
that has errors, they never define their own checks.
"""

from __future__ import annotations

from collections.abc import Sequence

from tui.core.formats import Format, detect_format
from tui.core.lint import lint_example
from tui.core.models_catalog import resolve_model
from tui.core.tokens import TokenizerDataError, token_counter
from tui.core.tools.errors import ToolError
from tui.core.tools.example_lint import ExampleLinter, IssueLike
from tui.core.tools.fix_steps import Example, TokenLimit


def _check_tokenizer(model: str | None) -> str:
    info = resolve_model(model)
    try:
        token_counter(info.encoding)
    except TokenizerDataError as exc:
        raise ToolError(f"cannot count tokens for {info.name}: {exc}") from exc
    return info.name


def example_linter(model: str | None) -> ExampleLinter:
    """Lint examples one by one; the first example of a known format fixes the file's format."""
    _check_tokenizer(model)
    file_format: list[Format | None] = [None]

    def lint(example: Example) -> Sequence[IssueLike]:
        if file_format[0] is None and detect_format(example) != "unknown":
            file_format[0] = detect_format(example)
        return lint_example(example, model=model, file_format=file_format[0]).issues

    return lint


def token_limit(model: str) -> TokenLimit:
    """The training-example token limit of `model` and a counter for whole examples."""
    name = _check_tokenizer(model)
    info = resolve_model(model)
    limit = info.training_limit
    if limit is None:
        raise ToolError(f"{name} has no published training-example token limit")

    def count(example: Example) -> int:
        return lint_example(example, model=model).total_tokens

    return TokenLimit(name, limit, count, "" if info.known else info.note)
