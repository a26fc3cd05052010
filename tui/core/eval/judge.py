"""The pairwise LLM judge: its prompt, how its reply is read, and how two orders combine.

Position bias is the best-known judge failure, so every pair is judged twice, with the answers
swapped; a row is a win only when both orders pick the same answer, anything else is a tie.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from tui.core.eval.pairwise import Verdict

Choice = Literal["A", "B", "TIE"]

RUBRIC = (
    "You are an impartial judge. You see a conversation, the reference answer a good assistant "
    "gave, and two candidate answers, A and B. Decide which candidate is better: correct and "
    "consistent with the reference first, then helpful and following the conversation's "
    "instructions (including any requested format). Do not prefer an answer for being longer. "
    "Reply with exactly one word: A, B, or TIE."
)
_VERDICT = re.compile(r"\b(TIE|A|B)\b")


def _render(messages: list[dict[str, Any]]) -> str:
    lines = []
    for m in messages:
        content = m.get("content")
        text = content if isinstance(content, str) else str(content or "")
        if m.get("tool_calls"):
            text += f" [tool calls: {m['tool_calls']}]"
        lines.append(f"{m.get('role', '?')}: {text}")
    return "\n".join(lines)


def judge_messages(
    prompt: list[dict[str, Any]], reference: str, first: str, second: str
) -> list[dict[str, str]]:
    """The chat messages asking the judge to compare `first` (A) with `second` (B)."""
    user = (
        f"## Conversation\n{_render(prompt)}\n\n## Reference answer\n{reference}\n\n"
        f"## Answer A\n{first}\n\n## Answer B\n{second}\n\nWhich is better: A, B or TIE?"
    )
    return [{"role": "system", "content": RUBRIC}, {"role": "user", "content": user}]


def parse_choice(text: str | None) -> Choice | None:
    """The judge's pick: the first standalone A, B or TIE in its reply (case-insensitive)."""
    if not text:
        return None
    found = _VERDICT.search(text.upper())
    if found is None:
        return None
    value = found.group(1)
    if value == "A":
        return "A"
    if value == "B":
        return "B"
    return "TIE"


def combine(a_first: Choice | None, b_first: Choice | None) -> Verdict:
    """`a_first`: the reply with model a as A; `b_first`: with model b as A. A win needs both
    orders to agree; disagreement, TIE or an unreadable reply is a tie."""
    first = {"A": "a", "B": "b"}.get(a_first or "")
    second = {"A": "b", "B": "a"}.get(b_first or "")
    if first is not None and first == second:
        return "a" if first == "a" else "b"
    return "tie"
