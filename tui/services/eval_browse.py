"""What the Eval screen shows about stored runs, as plain data (no Textual): the headline of a
run, row filters, where an answer differs from the reference, a row as a Chat conversation and
as a preference pair. The scoring itself is `tui.core.eval` / `tui.services.eval` (one owner).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tui.core.eval.rows import reference_text
from tui.core.eval.scorers import normalize
from tui.services.chat import ChatMessage
from tui.services.eval.types import Answer, RowResult, RunSummary
from tui.services.preferences import Candidate

ALL = "all"
DISAGREE = "disagree"
FAILS = "fails"
_TOKEN = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True)
class RowFilter:
    """`all` rows, rows where the models `disagree`, or rows that model `label` `fails`."""

    kind: str = ALL
    label: str = ""

    def describe(self) -> str:
        if self.kind == DISAGREE:
            return "rows where the models disagree"
        if self.kind == FAILS:
            return f"rows {self.label} fails"
        return "all rows"


def first_scorer(summary: RunSummary) -> str:
    return summary.spec.scorers[0] if summary.spec.scorers else "exact"


def headline(
    summary: RunSummary, name_room: int | None = None, *, scorer_prefix: bool = True
) -> str:
    """`exact: model 0.82 · other 0.40` on the run's first scorer (the one win rates use);
    model names cut to `name_room` characters when given, left out below 10 (the scores then
    follow the run's model order)."""
    scorer = first_scorer(summary)
    parts = []
    for model in summary.models:
        value = model.scores.get(scorer)
        shown = "–" if value is None else f"{value:.2f}"
        name = model.label
        if name_room is not None and name_room < 10:  # no room for names: scores in order
            parts.append(shown)
            continue
        if name_room is not None and len(name) > name_room:
            name = name[: name_room - 1] + "…"
        parts.append(f"{name} {shown}")
    text = " · ".join(parts)
    return f"{scorer}: {text}" if parts and scorer_prefix else text


def answer_text(answer: Answer | None) -> str:
    """What a model said, tool calls as compact JSON after the text."""
    if answer is None:
        return ""
    if answer.error is not None:
        return f"error: {answer.error}"
    text = answer.text or ""
    if answer.tool_calls:
        calls = json.dumps(answer.tool_calls, ensure_ascii=False, separators=(",", ":"))
        text = f"{text}\n{calls}" if text else calls
    return text


def row_reference(row: RowResult) -> str:
    text = reference_text(row.reference)
    calls = row.reference.get("tool_calls")
    if calls:
        dumped = json.dumps(calls, ensure_ascii=False, separators=(",", ":"))
        text = f"{text}\n{dumped}" if text else dumped
    return text


def passed(answer: Answer | None, scorer: str) -> bool | None:
    """Whether the answer passes `scorer` (score 1.0; for f1/judge at least 0.5); None when the
    model has no answer for the row yet."""
    if answer is None:
        return None
    if answer.error is not None:
        return False
    value = answer.scores.get(scorer)
    if value is None:
        return None
    return value >= (1.0 if scorer not in ("f1", "judge") else 0.5)


def disagree(row: RowResult, labels: Sequence[str]) -> bool:
    """The models' answers differ (ignoring case, punctuation and whitespace), or one failed."""
    seen = set()
    for label in labels:
        answer = row.answers.get(label)
        if answer is None:
            continue
        seen.add("\0error" if answer.error is not None else normalize(answer_text(answer)))
    return len(seen) > 1


def keep(row: RowResult, flt: RowFilter, labels: Sequence[str], scorer: str) -> bool:
    if flt.kind == DISAGREE:
        return disagree(row, labels)
    if flt.kind == FAILS:
        return passed(row.answers.get(flt.label), scorer) is False
    return True


def diff_spans(answer: str, reference: str) -> list[tuple[str, bool]]:
    """The answer cut into (text, differs) pieces: `differs` marks words that are not in the
    reference at that place (a word-level diff, case-sensitive, whitespace kept)."""
    ours = _TOKEN.findall(answer)
    theirs = _TOKEN.findall(reference)
    matcher = difflib.SequenceMatcher(None, ours, theirs, autojunk=False)
    spans: list[tuple[str, bool]] = []
    for tag, i1, i2, _j1, _j2 in matcher.get_opcodes():
        piece = "".join(ours[i1:i2])
        if piece:
            spans.append((piece, tag != "equal" and bool(piece.strip())))
    return spans


def chat_messages(row: RowResult, label: str) -> tuple[str, list[ChatMessage]]:
    """(system prompt, turns) to continue the row in Chat: the prompt, then `label`'s answer
    when it gave one. Tool messages and calls are shown as text."""
    system = ""
    turns: list[ChatMessage] = []
    for message in row.prompt:
        role = str(message.get("role", "user"))
        content = message.get("content")
        text = content if isinstance(content, str) else reference_text(message)
        if role in ("system", "developer") and not turns and not system:
            system = text
        elif role in ("user", "assistant"):
            turns.append(ChatMessage(role, text))  # type: ignore[arg-type]
        else:
            turns.append(ChatMessage("user", f"[{role}] {text}"))
    answer = row.answers.get(label)
    if answer is not None and answer.error is None:
        turns.append(ChatMessage("assistant", answer_text(answer)))
    return system, turns


def preference_candidates(row: RowResult, labels: Sequence[str]) -> list[Candidate]:
    """The answers of the row that can be preferred (those without an error)."""
    out: list[Candidate] = []
    for label in labels:
        answer = row.answers.get(label)
        if answer is not None and answer.error is None:
            calls = tuple(answer.tool_calls or ())
            out.append(Candidate(label, answer.text or "", calls))
    return out


def preference_prompt(row: RowResult) -> list[dict[str, Any]]:
    return [dict(m) for m in row.prompt]
