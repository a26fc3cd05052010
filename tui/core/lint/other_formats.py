"""Checks and token counts for preference (DPO) and legacy prompt/completion examples.

Counts are estimates: a preference example counts its input messages as a chat example does and
both outputs (both are processed in training); trained tokens are the two outputs. A
completion example counts prompt + completion; trained tokens are the completion.
"""

from __future__ import annotations

from typing import Any

from tui.core.formats import COMPLETION_KEYS, PREFERENCE_KEYS
from tui.core.lint.chat import REPLY_PRIMING_TOKENS, check_messages
from tui.core.lint.outcome import ExampleOutcome
from tui.core.tokens import TokenCounter


def _check_keys(example: dict[str, Any], allowed: frozenset[str], out: ExampleOutcome) -> None:
    for key in example:
        if key not in allowed:
            out.add("unknown_top_level_key", f"unknown top-level key {key!r}")


def _check_output(
    example: dict[str, Any], key: str, counter: TokenCounter, out: ExampleOutcome
) -> None:
    value = example.get(key)
    if not isinstance(value, list) or len(value) != 1:
        out.add("invalid_preference", f"{key} must be a list with exactly one assistant message")
        return
    message = value[0]
    if not isinstance(message, dict) or message.get("role") != "assistant":
        out.add("invalid_preference", f"{key} must hold an assistant message")
        return
    check_messages(value, counter, out, label=key)
    if isinstance(message.get("content"), list):
        out.add("invalid_preference", f"{key}: preference examples are text-only")


def check_preference_example(
    example: dict[str, Any], counter: TokenCounter, out: ExampleOutcome
) -> None:
    _check_keys(example, PREFERENCE_KEYS, out)
    source = example.get("input")
    messages = source.get("messages") if isinstance(source, dict) else None
    if not isinstance(messages, list) or not messages:
        out.add("invalid_preference", 'input must be an object with a non-empty "messages" list')
    else:
        out.messages = len(messages)
        check_messages(messages, counter, out, label="input message")
        out.total_tokens += REPLY_PRIMING_TOKENS
        if out.images:
            out.add("invalid_preference", "preference examples are text-only (no images)")
        last = messages[-1]
        if isinstance(last, dict) and last.get("role") == "assistant":
            out.add(
                "invalid_preference", "input ends with an assistant turn; it must end with user"
            )
    out.trained_tokens = 0
    _check_output(example, "preferred_output", counter, out)
    _check_output(example, "non_preferred_output", counter, out)
    out.messages += 1


def check_completion_example(
    example: dict[str, Any], counter: TokenCounter, out: ExampleOutcome
) -> None:
    _check_keys(example, COMPLETION_KEYS, out)
    prompt, completion = example.get("prompt"), example.get("completion")
    for key, value in (("prompt", prompt), ("completion", completion)):
        if not isinstance(value, str):
            out.add("invalid_completion", f"{key} is {type(value).__name__}, not a string")
        elif not value.strip():
            out.add("empty_completion", f"{key} is empty")
    out.messages = 2
    if isinstance(prompt, str):
        out.total_tokens += counter.count(prompt)
    if isinstance(completion, str):
        n = counter.count(completion)
        out.total_tokens += n
        out.trained_tokens += n
