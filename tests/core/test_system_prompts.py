"""The system prompt a fine-tune was trained with is the one its training file uses most."""

from __future__ import annotations

import json
from pathlib import Path

from tui.core.system_prompts import most_common_system_prompt


def _example(system: str | None, user: str = "5 km in m?") -> str:
    messages = [{"role": "system", "content": system}] if system is not None else []
    messages += [{"role": "user", "content": user}, {"role": "assistant", "content": "5000 m"}]
    return json.dumps({"messages": messages})


def test_the_most_used_system_prompt_wins(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    lines = [_example("Convert units.")] * 3 + [_example("Be terse.")] * 2 + [_example(None)]
    path.write_text("\n".join(lines + ["{broken"]) + "\n", encoding="utf-8")
    assert most_common_system_prompt(path) == "Convert units."


def test_preference_pairs_and_content_parts_count(tmp_path: Path) -> None:
    path = tmp_path / "dpo.jsonl"
    parts = [{"type": "text", "text": "Answer in metres."}]
    row = {
        "input": {
            "messages": [{"role": "system", "content": parts}, {"role": "user", "content": "x"}]
        },
        "preferred_output": [{"role": "assistant", "content": "a"}],
        "non_preferred_output": [{"role": "assistant", "content": "b"}],
    }
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    assert most_common_system_prompt(path) == "Answer in metres."


def test_no_system_prompt_or_no_file_gives_none(tmp_path: Path) -> None:
    path = tmp_path / "plain.jsonl"
    path.write_text(_example(None) + "\n", encoding="utf-8")
    assert most_common_system_prompt(path) is None
    assert most_common_system_prompt(tmp_path / "missing.jsonl") is None
