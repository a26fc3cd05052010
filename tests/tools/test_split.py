"""`ft-tui split` and the split core: exact sizes, reproducibility, no prompt leaks, bad input."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tests.cookbook import COOKBOOK
from tests.tools.cli_helpers import chat, run_cli, write_jsonl
from tui.core.tools.errors import ToolError
from tui.core.tools.prompts import prompt_text
from tui.core.tools.split import plan_split, split


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines()


def test_ratio_gives_exact_sizes_and_keeps_every_line_once(tmp_path: Path) -> None:
    src = COOKBOOK / "drone_training.jsonl"
    result = run_cli(
        "split", src, "--validation", "0.1", "--seed", "7",
        "--out-train", "t.jsonl", "--out-valid", "v.jsonl", cwd=tmp_path,
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "103 examples → 93 training, 10 validation (seed 7)" in result.out
    train, valid = _lines(tmp_path / "t.jsonl"), _lines(tmp_path / "v.jsonl")
    assert (len(train), len(valid)) == (93, 10)
    assert Counter(train + valid) == Counter(_lines(src))
    # the same seed gives the same files, another seed other ones
    again = run_cli(
        "split", src, "--seed", "7", "--out-train", "t2.jsonl", "--out-valid", "v2.jsonl",
        cwd=tmp_path,
    )  # fmt: skip
    assert again.code == 0
    assert _lines(tmp_path / "v2.jsonl") == valid
    other = run_cli(
        "split", src, "--seed", "8", "--out-train", "t3.jsonl", "--out-valid", "v3.jsonl",
        cwd=tmp_path,
    )  # fmt: skip
    assert other.code == 0
    assert _lines(tmp_path / "v3.jsonl") != valid


def test_count_and_default_output_names(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "qa.jsonl", [chat(f"q{i}", f"a{i}") for i in range(20)])
    result = run_cli("split", data, "--count", "3", cwd=tmp_path)
    assert result.code == 0, result.err
    assert len(_lines(tmp_path / "qa.train.jsonl")) == 17
    assert len(_lines(tmp_path / "qa.valid.jsonl")) == 3
    result = run_cli("split", data, "--count", "3", cwd=tmp_path)
    assert result.code == 2 and "already exists; allow overwriting (--force)" in result.err


def _prompts(path: Path) -> set[str]:
    return {prompt_text(line) for line in _lines(path)}


def test_a_preference_pair_and_a_chat_line_with_the_same_question_share_a_prompt() -> None:
    question = [{"role": "user", "content": "Capital  of France?"}]
    pair = {
        "input": {"messages": question},
        "preferred_output": [{"role": "assistant", "content": "Paris"}],
        "non_preferred_output": [{"role": "assistant", "content": "Lyon"}],
    }
    line = json.dumps(chat("capital of france?", "Paris")).encode()
    assert prompt_text(json.dumps(pair).encode()) == prompt_text(line) == "capital of france?"


def test_group_by_prompt_never_puts_a_prompt_on_both_sides(tmp_path: Path) -> None:
    rows = []
    for i in range(400):  # 100 prompts, 4 answers each, with case and spacing variants
        prompt = f"Question   {i % 100}?" if i % 2 else f"question {i % 100}?"
        rows.append(chat(prompt, f"answer {i}"))
    data = write_jsonl(tmp_path / "dup.jsonl", rows)
    plain = split(plan_split(data, ratio=0.2, seed=1), tmp_path / "a.jsonl", tmp_path / "b.jsonl")
    assert plain.valid == 80
    assert _prompts(tmp_path / "a.jsonl") & _prompts(tmp_path / "b.jsonl")  # a plain split leaks

    result = run_cli(
        "split", data, "--validation", "0.2", "--seed", "1", "--group-by-prompt", cwd=tmp_path
    )
    assert result.code == 0, result.err
    assert "identical prompts kept on one side" in result.out
    train, valid = tmp_path / "dup.train.jsonl", tmp_path / "dup.valid.jsonl"
    assert not _prompts(train) & _prompts(valid)
    assert len(_lines(valid)) == 80  # whole groups of 4 reach the target exactly here
    assert len(_lines(train)) + len(_lines(valid)) == 400


def test_group_split_of_a_large_file_stays_close_to_the_ratio(tmp_path: Path) -> None:
    data = tmp_path / "many.jsonl"
    with data.open("w", encoding="utf-8") as handle:
        for i in range(100_000):
            handle.write(json.dumps(chat(f"p{i % 70_000}", "a")) + "\n")
    plan = plan_split(data, ratio=0.1, seed=3, group_by_prompt=True)
    assert abs(plan.expected_validation - 10_000) <= 10
    summary = split(plan, tmp_path / "t.jsonl", tmp_path / "v.jsonl")
    assert summary.valid == plan.expected_validation
    assert summary.train + summary.valid == 100_000


def test_blank_lines_and_crlf_are_handled(tmp_path: Path) -> None:
    data = tmp_path / "crlf.jsonl"
    data.write_bytes(
        b"".join(json.dumps(chat(f"q{i}", "a")).encode() + b"\r\n\r\n" for i in range(10))
    )
    summary = split(plan_split(data, count=2, seed=0), tmp_path / "t.jsonl", tmp_path / "v.jsonl")
    assert (summary.train, summary.valid, summary.blank) == (8, 2, 10)
    assert (tmp_path / "t.jsonl").read_bytes().count(b"}\r\n") == 8  # line endings kept


@pytest.mark.parametrize(
    ("rows", "args", "message"),
    [
        (1, ["--validation", "0.1"], "needs at least 2 examples; the file has 1"),
        (10, ["--validation", "1.5"], "give a fraction between 0 and 1"),
        (10, ["--count", "10"], "validation count 10: must be between 1 and 9"),
        (10, ["--out-train", "x.jsonl", "--out-valid", "x.jsonl"], "must be different files"),
        (10, ["--out-train", "d.jsonl"], "is the input file"),
        (10, ["--seed", str(2**70)], "fits in 64 bits"),
    ],
)
def test_bad_requests_exit_2(tmp_path: Path, rows: int, args: list[str], message: str) -> None:
    write_jsonl(tmp_path / "d.jsonl", [chat(f"q{i}", "a") for i in range(rows)])
    result = run_cli("split", "d.jsonl", *args, cwd=tmp_path)
    assert result.code == 2
    assert message in result.err


def test_one_prompt_everywhere_cannot_be_split_without_a_leak(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "same.jsonl", [chat("same", f"a{i}") for i in range(5)])
    with pytest.raises(ToolError, match="same prompt"):
        plan_split(data, ratio=0.2, group_by_prompt=True)


def test_linter_finds_the_leak_of_a_plain_split_and_none_after_grouping(tmp_path: Path) -> None:
    from tui.core.lint import lint_path

    rows = [chat(f"q{i % 30}", f"a{i % 30}") for i in range(90)]  # every example three times
    data = write_jsonl(tmp_path / "rep.jsonl", rows)
    plain = split(plan_split(data, ratio=0.2, seed=5), tmp_path / "pt.jsonl", tmp_path / "pv.jsonl")
    report = lint_path(plain.train_path, validation=plain.valid_path, workers=1)
    assert report.counts_by_rule.get("validation_overlap", 0) > 0

    result = run_cli("split", data, "--group-by-prompt", "--validation", "0.2", cwd=tmp_path)
    assert result.code == 0, result.err
    report = lint_path(tmp_path / "rep.train.jsonl", validation=tmp_path / "rep.valid.jsonl")
    assert report.counts_by_rule.get("validation_overlap", 0) == 0
    assert report.validation is not None and report.validation.examples == 18


def test_a_csv_is_refused_with_a_pointer_to_convert(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("prompt,completion\na,b\nc,d\n", encoding="utf-8")
    result = run_cli("split", "d.csv", cwd=tmp_path)
    assert result.code == 2
    assert "the first line is not a JSON object" in result.err and "ft-tui convert" in result.err
