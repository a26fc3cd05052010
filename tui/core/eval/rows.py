"""One dataset line → one evaluation row: the prompt to send and the reference answer.

Chat lines: the prompt is every message before the *last* assistant message, the reference is
that message (text and/or tool calls). Messages after it (rare) are ignored. The line's `tools`
go with the prompt, so the model can call them. Legacy prompt/completion lines become a one-turn
chat: a user message with the prompt, the completion as reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class RowError(ValueError):
    """The line cannot be evaluated; the message says why (no line number: the caller adds
    it)."""


@dataclass(frozen=True)
class EvalRow:
    line: int  # 1-based line in the file
    prompt: list[dict[str, Any]]
    reference: dict[str, Any]  # an assistant message: {"role", "content", "tool_calls"?}
    tools: list[Any] | None = None


def _text(content: Any) -> str:
    """A message's text: a string, or the text parts of a content array joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text", "") for p in content if isinstance(p, dict)]
        return "".join(p for p in parts if isinstance(p, str))
    return ""


def reference_text(reference: dict[str, Any]) -> str:
    return _text(reference.get("content"))


def extract_row(example: Any, line: int) -> EvalRow:
    """Raise `RowError` when the example has nothing to compare against."""
    if not isinstance(example, dict):
        raise RowError("not a JSON object")
    if "messages" in example:
        messages = example["messages"]
        if not isinstance(messages, list):
            raise RowError('"messages" is not a list')
        last = None
        for i in range(len(messages) - 1, -1, -1):
            m = messages[i]
            if isinstance(m, dict) and m.get("role") == "assistant":
                last = i
                break
        if last is None:
            raise RowError("no assistant message to use as the reference")
        prompt = [dict(m) for m in messages[:last] if isinstance(m, dict)]
        if not prompt:
            raise RowError("no messages before the last assistant message")
        ref = messages[last]
        reference: dict[str, Any] = {"role": "assistant", "content": ref.get("content")}
        if ref.get("tool_calls"):
            reference["tool_calls"] = ref["tool_calls"]
        tools = example.get("tools")
        return EvalRow(line, prompt, reference, tools if isinstance(tools, list) else None)
    if "prompt" in example and "completion" in example:
        prompt_text, completion = example["prompt"], example["completion"]
        if not isinstance(prompt_text, str) or not isinstance(completion, str):
            raise RowError('"prompt" and "completion" must be strings')
        return EvalRow(
            line,
            [{"role": "user", "content": prompt_text}],
            {"role": "assistant", "content": completion},
        )
    raise RowError('neither "messages" nor "prompt"/"completion"')
