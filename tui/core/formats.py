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
