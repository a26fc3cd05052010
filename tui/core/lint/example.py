"""Check one decoded example of a known file format."""

from __future__ import annotations

from typing import Any

from tui.core.formats import FORMAT_LABELS, Format, detect_format
from tui.core.lint.chat import check_chat_example
from tui.core.lint.other_formats import check_completion_example, check_preference_example
from tui.core.lint.outcome import ExampleOutcome
from tui.core.tokens import TokenCounter


def check_example(
    example: Any, file_format: Format, counter: TokenCounter, reinforcement: bool = False
) -> ExampleOutcome:
    out = ExampleOutcome()
    if not isinstance(example, dict):
        out.add("not_an_object", f"the line is a JSON {type(example).__name__}, not an object")
        return out
    own = detect_format(example)
    if own == "unknown":
        keys = ", ".join(repr(k) for k in list(example)[:5]) or "no keys"
        out.add("unrecognized_format", f"the object has {keys}: not a training example")
        if file_format == "chat":
            out.add("missing_messages", 'there is no "messages" list')
        return out
    if file_format != "unknown" and own != file_format:
        out.add(
            "format_mismatch",
            f"this example is {FORMAT_LABELS[own]} but the file is {FORMAT_LABELS[file_format]}",
        )
        return out
    if own == "chat":
        check_chat_example(example, counter, out, reinforcement)
    elif own == "preference":
        check_preference_example(example, counter, out)
    else:
        check_completion_example(example, counter, out)
    return out
