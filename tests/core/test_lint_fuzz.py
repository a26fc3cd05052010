"""Whatever JSON a line holds, checking it never raises: every problem becomes an issue."""

from __future__ import annotations

import random
from typing import Any

from tui.core.lint import lint_example
from tui.core.rules import RULES

KEYS = [
    "role",
    "content",
    "name",
    "weight",
    "tool_calls",
    "function_call",
    "tool_call_id",
    "type",
    "text",
    "image_url",
    "url",
    "detail",
    "function",
    "arguments",
    "id",
    "messages",
    "tools",
    "functions",
    "parallel_tool_calls",
    "input",
    "preferred_output",
    "prompt",
]
STRINGS = [
    "user",
    "assistant",
    "system",
    "tool",
    "image_url",
    "text",
    "function",
    "low",
    "data:image/png;base64,AAAA",
    "https://x/y.png",
    "{}",
    "{bad",
    "",
    "<|endoftext|>",
]


def value(rng: random.Random, depth: int) -> Any:
    kind = rng.randrange(8 if depth < 4 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False, 0, 1, 2, -1, 1.5])
    if kind in (2, 3, 4):
        return rng.choice(STRINGS)
    if kind == 5:
        return [value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(KEYS): value(rng, depth + 1) for _ in range(rng.randrange(5))}


def test_random_structures_never_crash_the_checks() -> None:
    rng = random.Random(11)
    for _ in range(3000):
        example: Any = {"messages": [value(rng, 1) for _ in range(rng.randrange(5))]}
        if rng.random() < 0.3:
            example = value(rng, 0)
        result = lint_example(example)
        assert all(issue.rule in RULES for issue in result.issues)
        messages = example.get("messages") if isinstance(example, dict) else None
        if isinstance(messages, list) and messages and not result.has_errors:
            # A clean example is billed at least 3 tokens a message plus 3 to prime the reply.
            assert result.total_tokens >= 3 * len(messages) + 3
