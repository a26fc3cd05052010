"""Pure eval logic: rows, scorers (table-driven), intervals, pairwise and judge verdicts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tui.core.eval.judge import combine, judge_messages, parse_choice
from tui.core.eval.pairwise import by_score
from tui.core.eval.rows import RowError, extract_row
from tui.core.eval.scorers import Reply, ScorerError, f1, score, validate_scorers
from tui.core.eval.stats import mean_ci95, normal, wilson
from tui.services.eval import EvalError, ModelRef

REF = {"role": "assistant", "content": "The answer is Paris."}
CALL = {
    "id": "c1",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city": "Paris", "unit": "c"}'},
}
CALL_SAME = {  # same call, other key order and spacing, other id
    "id": "zz",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"unit":"c","city":"Paris"}'},
}
CALL_OTHER = {"id": "c2", "type": "function", "function": {"name": "get_weather",
              "arguments": '{"city": "Rome", "unit": "c"}'}}  # fmt: skip
TOOL_REF = {"role": "assistant", "content": None, "tool_calls": [CALL]}

CASES: list[tuple[str, Reply, dict[str, Any], float]] = [
    ("exact", Reply("  The answer is Paris.\n"), REF, 1.0),
    ("exact", Reply("the answer is paris"), REF, 0.0),
    ("normalized", Reply("the   answer is PARIS"), REF, 1.0),
    ("normalized", Reply("the answer is Rome"), REF, 0.0),
    ("contains", Reply("Well... The answer is Paris. Sure."), REF, 1.0),
    ("contains", Reply("Paris"), REF, 0.0),
    ("regex:^The answer is [A-Z]", Reply("The answer is Rome"), REF, 1.0),
    ("regex:^Paris$", Reply("The answer is Paris."), REF, 0.0),
    ("json", Reply('{"a": 1, "b": [2]}'), {"role": "assistant", "content": '{"b":[2],"a":1}'}, 1.0),
    ("json", Reply('{"a": 2}'), {"role": "assistant", "content": '{"a": 1}'}, 0.0),
    ("json", Reply('{"a": 2}'), REF, 1.0),  # reference not JSON: parsing is enough
    ("json", Reply("{not json"), REF, 0.0),
    ("f1", Reply("the answer is Paris"), REF, 1.0),  # articles and punctuation dropped
    ("f1", Reply("Paris"), REF, 0.5),  # precision 1, recall 1/3
    ("f1", Reply("London"), REF, 0.0),
    ("exact", Reply(None, [CALL_SAME]), TOOL_REF, 1.0),
    ("exact", Reply(None, [CALL_OTHER]), TOOL_REF, 0.0),
    ("exact", Reply("get_weather Paris"), TOOL_REF, 0.0),
    ("contains", Reply(None, [CALL_OTHER, CALL_SAME]), TOOL_REF, 1.0),
    ("json", Reply(None, [CALL_SAME]), TOOL_REF, 1.0),
    ("exact", Reply(None, [CALL]), REF, 0.0),  # a call where text was expected
]


@pytest.mark.parametrize(("name", "reply", "reference", "expected"), CASES)
def test_scorer_table(name: str, reply: Reply, reference: dict[str, Any], expected: float) -> None:
    assert score(name, reply, reference) == expected


def test_f1_is_squad_style() -> None:
    assert f1("a cat sat", "the cat sat down") == pytest.approx(2 * 1 * (2 / 3) / (1 + 2 / 3))
    assert f1("", "") == 1.0 and f1("x", "") == 0.0


def test_scorer_names_are_checked() -> None:
    assert validate_scorers(["exact", "regex:^a+$", "judge"]) == ["exact", "regex:^a+$", "judge"]
    with pytest.raises(ScorerError, match="unknown scorer 'bleu'"):
        validate_scorers(["bleu"])
    with pytest.raises(ScorerError, match="bad regular expression"):
        validate_scorers(["regex:(unclosed"])


def test_rows_from_chat_and_prompt_completion_lines() -> None:
    chat = {
        "messages": [
            {"role": "system", "content": "s"},
            {"role": "user", "content": "q1"},
            {"role": "assistant", "content": "a1"},
            {"role": "user", "content": "q2"},
            {"role": "assistant", "content": None, "tool_calls": [CALL]},
        ],
        "tools": [{"type": "function", "function": {"name": "get_weather"}}],
    }
    row = extract_row(chat, 7)
    assert row.line == 7 and [m["content"] for m in row.prompt] == ["s", "q1", "a1", "q2"]
    assert row.reference == {"role": "assistant", "content": None, "tool_calls": [CALL]}
    assert row.tools == chat["tools"]
    pc = extract_row({"prompt": "2+2=", "completion": "4"}, 1)
    assert pc.prompt == [{"role": "user", "content": "2+2="}]
    assert pc.reference == {"role": "assistant", "content": "4"}
    with pytest.raises(RowError, match="no assistant message"):
        extract_row({"messages": [{"role": "user", "content": "hi"}]}, 1)


def test_intervals() -> None:
    lo, hi = wilson(6, 12)
    assert lo == pytest.approx(0.2538, abs=1e-3) and hi == pytest.approx(0.7462, abs=1e-3)
    assert wilson(0, 5)[0] == 0.0 and wilson(5, 5)[1] == 1.0 and wilson(5, 5)[0] < 1.0
    mean, ci = mean_ci95([1.0, 0.0, 1.0, 1.0])
    assert mean == 0.75 and ci == wilson(3, 4)  # binary scores: Wilson
    mean, ci = mean_ci95([0.5, 0.7, 0.9])
    assert mean == pytest.approx(0.7) and ci == normal([0.5, 0.7, 0.9])
    assert 0.0 <= ci[0] < 0.7 < ci[1] <= 1.0


def test_pairwise_and_judge_verdicts() -> None:
    assert by_score(1.0, 0.0) == "a" and by_score(0.2, 0.9) == "b" and by_score(1, 1) == "tie"
    assert by_score(None, 0.5) == "b" and by_score(None, None) == "tie"
    assert parse_choice("B") == "B" and parse_choice("Verdict: tie.") == "TIE"
    assert parse_choice("**A** is better") == "A" and parse_choice("neither") is None
    assert combine("A", "B") == "a"  # a first: A=a; b first: B=a — both pick a
    assert combine("B", "A") == "b"
    assert combine("A", "A") == "tie"  # position bias: always the first answer
    assert combine("A", None) == "tie" and combine("TIE", "TIE") == "tie"
    msgs = judge_messages([{"role": "user", "content": "q"}], "ref", "one", "two")
    assert msgs[0]["role"] == "system" and "## Answer A\none" in msgs[1]["content"]


def test_model_ref_parse() -> None:
    assert ModelRef.parse("ft:gpt-4o-mini:acme::abc") == ModelRef(None, "ft:gpt-4o-mini:acme::abc")
    ref = ModelRef.parse("local=ft:SmolLM2:x")
    assert ref == ModelRef("local", "ft:SmolLM2:x") and ref.label == "local=ft:SmolLM2:x"
    for bad in ("", "=m", "p=", "a=b=c"):
        with pytest.raises(EvalError):
            ModelRef.parse(bad)
    assert json.dumps(ref.label)
