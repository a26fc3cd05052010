"""Scorers: each maps (answer, reference) to a score in [0, 1].

    exact       trimmed equality
    normalized  equality ignoring case, punctuation and runs of whitespace
    contains    the (trimmed) reference appears in the answer
    regex:PAT   the answer matches PAT (re.search)
    json        the answer parses as JSON; if the reference is JSON too, they are equal objects
    f1          SQuAD token F1 (lower-case, no punctuation or articles, multiset overlap)
    judge       pairwise LLM judge (see `tui.core.eval.judge`); not scored here

When the reference message has tool calls, the calls are compared as parsed JSON: each call
becomes `{"name", "arguments": <parsed arguments>}`; `exact`, `normalized` and `json` need the
same list of calls, `contains` needs every reference call among the answer's calls, `f1` and
`regex` work on the calls' canonical JSON text.
"""

from __future__ import annotations

import json
import re
import string
from collections import Counter
from dataclasses import dataclass
from typing import Any

BUILTIN = ("exact", "normalized", "contains", "json", "f1")
JUDGE = "judge"
_PUNCT = re.compile(f"[{re.escape(string.punctuation)}]")
_ARTICLES = re.compile(r"\b(a|an|the)\b")


class ScorerError(ValueError):
    """An unknown scorer name or a bad regex; the message names it."""


@dataclass(frozen=True)
class Reply:
    """What a model said: text and/or tool calls (as the API returned them)."""

    text: str | None
    tool_calls: list[Any] | None = None


def validate_scorers(names: list[str]) -> list[str]:
    """The names, checked (regexes compiled); raises `ScorerError`."""
    for name in names:
        if name.startswith("regex:"):
            try:
                re.compile(name[len("regex:") :])
            except re.error as exc:
                raise ScorerError(f"scorer {name!r}: bad regular expression ({exc})") from None
        elif name not in BUILTIN and name != JUDGE:
            known = ", ".join((*BUILTIN, "regex:PATTERN", JUDGE))
            raise ScorerError(f"unknown scorer {name!r} (known: {known})")
    if len(set(names)) != len(names):
        raise ScorerError("a scorer is given twice")
    return names


def normalize(text: str) -> str:
    """Lower-case, punctuation removed, whitespace runs collapsed."""
    return " ".join(_PUNCT.sub(" ", text.lower()).split())


def squad_tokens(text: str) -> list[str]:
    lowered = _PUNCT.sub("", text.lower())
    return _ARTICLES.sub(" ", lowered).split()


def f1(answer: str, reference: str) -> float:
    a, r = squad_tokens(answer), squad_tokens(reference)
    if not a or not r:
        return float(a == r)
    common = sum((Counter(a) & Counter(r)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(a), common / len(r)
    return 2 * precision * recall / (precision + recall)


def _parse_json(text: str) -> tuple[bool, Any]:
    try:
        return True, json.loads(text)
    except (ValueError, TypeError):
        return False, None


def canonical_calls(calls: list[Any] | None) -> list[dict[str, Any]]:
    """Tool calls as `{"name", "arguments"}` with arguments parsed (kept as text if invalid)."""
    out: list[dict[str, Any]] = []
    for call in calls or []:
        fn = call.get("function", call) if isinstance(call, dict) else {}
        if not isinstance(fn, dict):
            fn = {}
        args = fn.get("arguments")
        if isinstance(args, str):
            ok, parsed = _parse_json(args)
            args = parsed if ok else args
        out.append({"name": fn.get("name"), "arguments": args})
    return out


def _calls_text(calls: list[dict[str, Any]]) -> str:
    return json.dumps(calls, sort_keys=True, ensure_ascii=False)


def _score_calls(name: str, answer: Reply, ref_calls: list[dict[str, Any]]) -> float:
    got = canonical_calls(answer.tool_calls)
    if name in ("exact", "normalized", "json"):
        return float(got == ref_calls)
    if name == "contains":
        return float(all(c in got for c in ref_calls))
    if name == "f1":
        return f1(_calls_text(got), _calls_text(ref_calls))
    return float(re.search(name[len("regex:") :], _calls_text(got)) is not None)


def _score_text(name: str, answer: str, reference: str) -> float:
    if name == "exact":
        return float(answer.strip() == reference.strip())
    if name == "normalized":
        return float(normalize(answer) == normalize(reference))
    if name == "contains":
        return float(reference.strip() in answer)
    if name == "f1":
        return f1(answer, reference)
    if name == "json":
        ok, got = _parse_json(answer)
        if not ok:
            return 0.0
        ref_ok, want = _parse_json(reference)
        return float(got == want) if ref_ok else 1.0
    return float(re.search(name[len("regex:") :], answer) is not None)


def score(name: str, answer: Reply, reference: dict[str, Any]) -> float:
    """One scorer on one answer. `reference` is the row's assistant message."""
    if name == JUDGE:
        raise ScorerError("the judge scores pairs of answers, not one answer")
    ref_calls = canonical_calls(reference.get("tool_calls"))
    if ref_calls:
        return _score_calls(name, answer, ref_calls)
    content = reference.get("content")
    ref_text = content if isinstance(content, str) else ""
    if isinstance(content, list):
        ref_text = "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    if answer.tool_calls and answer.text is None:
        return 0.0  # a call where text was expected
    return _score_text(name, answer.text or "", ref_text)


def score_all(names: list[str], answer: Reply, reference: dict[str, Any]) -> dict[str, float]:
    """Every non-judge scorer of `names`."""
    return {n: score(n, answer, reference) for n in names if n != JUDGE}
