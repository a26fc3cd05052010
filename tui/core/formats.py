"""Training-file formats and how to recognise one example's format."""

from __future__ import annotations

from typing import Literal

Format = Literal["chat", "preference", "completion", "unknown"]

FORMAT_LABELS: dict[str, str] = {
    "chat": "chat (SFT messages)",
    "preference": "preference (DPO input / preferred_output / non_preferred_output)",
    "completion": "legacy prompt/completion",
    "unknown": "unknown",
}

CHAT_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
CHAT_TOP_LEVEL_KEYS = frozenset({"messages", "tools", "functions", "parallel_tool_calls"})
PREFERENCE_KEYS = frozenset({"input", "preferred_output", "non_preferred_output"})
COMPLETION_KEYS = frozenset({"prompt", "completion"})


def detect_format(example: object) -> Format:
    """The format one decoded JSON line is written in; `unknown` if none fits."""
    if not isinstance(example, dict):
        return "unknown"
    if "messages" in example:
        return "chat"
    if "input" in example or "preferred_output" in example or "non_preferred_output" in example:
        return "preference"
    if "prompt" in example or "completion" in example:
        return "completion"
    return "unknown"


def example_messages(example: dict[str, object]) -> list[object] | None:
    """The conversation of one example: its `messages` (chat), else a preference (DPO)
    example's `input.messages`; None when it has neither."""
    messages = example.get("messages")
    source = example.get("input")
    if messages is None and isinstance(source, dict):
        messages = source.get("messages")
    return messages if isinstance(messages, list) else None
