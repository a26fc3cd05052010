"""Rule ids are one typed set, and single examples get the same raw-text checks as file lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import get_args

from tui.core.lint import lint_example, lint_path
from tui.core.rules import RULES, RuleId

SECRET = "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z0AbC"


def test_every_rule_id_is_in_the_typed_set_and_the_table() -> None:
    assert list(get_args(RuleId)) == list(RULES)
    assert all(rule.id == rule_id for rule_id, rule in RULES.items())


def test_an_example_and_a_file_line_report_the_same_raw_text_problems(tmp_path: Path) -> None:
    example = {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": f"my key is {SECRET}"},
            {"role": "assistant", "content": "Done <|endoftext|>"},
        ]
    }
    single = {(i.rule, i.message) for i in lint_example(example).issues}
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(example) + "\n")  # json escapes "<" as is; the token is literal
    in_file = {(i.rule, i.message) for i in lint_path(path).issues if i.line == 1}
    raw_rules = {"forbidden_special_token", "possible_secret"}
    assert {r for r, _ in single} >= raw_rules
    assert {x for x in single if x[0] in raw_rules} == {x for x in in_file if x[0] in raw_rules}
    escaped = tmp_path / "escaped.jsonl"
    escaped.write_text(json.dumps(example).replace("<|", "\\u003c|") + "\n")
    rules = {i.rule for i in lint_path(escaped).issues if i.line == 1}
    assert "forbidden_special_token" in rules  # written as \u003c in the JSON, still found
