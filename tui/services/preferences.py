"""Preference pairs (DPO): two answers to the same conversation, the better one chosen by the
user, appended as one `input` / `preferred_output` / `non_preferred_output` line — the format
the linter knows as "preference". Chat compare and the Eval screen both save through here, under
the same file rules as any saved example (`tui.services.example_files`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.services.chat import ChatMessage
from tui.services.conversations import training_example
from tui.services.example_files import Finding, StoreError, append_example, check_example

DEFAULT_FILE_NAME = "preferences.jsonl"


@dataclass(frozen=True)
class Candidate:
    """One answer that can be preferred: who wrote it and what it said."""

    label: str
    text: str
    tool_calls: tuple[Mapping[str, Any], ...] = ()

    def as_output(self) -> list[dict[str, Any]]:
        message: dict[str, Any] = {"role": "assistant", "content": self.text}
        if self.tool_calls:
            message["tool_calls"] = [dict(call) for call in self.tool_calls]
        return [message]


def default_preference_path(start: Path) -> Path:
    """`preferences.jsonl` beside the dataset (or in the directory) the app was opened on."""
    folder = start if start.is_dir() else start.parent
    return folder / DEFAULT_FILE_NAME


def preference_example(
    prompt: Sequence[Mapping[str, Any]], preferred: Candidate, rejected: Candidate
) -> dict[str, Any]:
    """The DPO line: the conversation up to (and including) the last user turn, then the two
    answers. Prompt messages are copied as plain dicts."""
    return {
        "input": {"messages": [dict(m) for m in prompt]},
        "preferred_output": preferred.as_output(),
        "non_preferred_output": rejected.as_output(),
    }


def check_preference(
    example: dict[str, Any], model: str, path: Path, preferred: Candidate, rejected: Candidate
) -> list[Finding]:
    """The linter's findings for this pair in `path`, plus the pair's own problems."""
    findings: list[Finding] = []
    if preferred.label == rejected.label:
        findings.append(Finding("error", "same_answer", "Pick two different answers."))
    elif preferred.text.strip() == rejected.text.strip() and preferred.tool_calls == (
        rejected.tool_calls
    ):
        findings.append(
            Finding("error", "same_answer", "Both answers are the same: nothing to prefer.")
        )
    findings.extend(check_example(example, model, "preference", path))
    return findings


def compare_pair(
    system_prompt: str, sides: Sequence[tuple[str, Sequence[ChatMessage]]]
) -> tuple[list[dict[str, str]], list[Candidate]] | None:
    """The prompt and the two answers of a Chat compare: each side is (model, history) whose
    last message is its reply to the same user turn. None when a side has no reply yet. The
    prompt is the first side's conversation up to that user turn, with the system prompt."""
    if len(sides) != 2 or any(
        len(history) < 2 or history[-1].role != "assistant" for _, history in sides
    ):
        return None
    prompt = training_example(system_prompt, list(sides[0][1][:-1]))["messages"]
    candidates = [Candidate(model, history[-1].content) for model, history in sides]
    if candidates[0].label == candidates[1].label:  # one model on both sides
        candidates = [
            Candidate(f"{c.label} ({side})", c.text)
            for c, side in zip(candidates, ("left", "right"), strict=True)
        ]
    return prompt, candidates


def save_preference(path: Path, example: dict[str, Any]) -> int:
    """Append the pair to `path`; its line number. Raises StoreError."""
    return append_example(path, example)


__all__ = [
    "Candidate",
    "Finding",
    "StoreError",
    "check_preference",
    "compare_pair",
    "default_preference_path",
    "preference_example",
    "save_preference",
]
