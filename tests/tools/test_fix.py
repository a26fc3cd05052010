"""`ft-tui fix`: each fix previewed in a dry run, applied on request, nothing lost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cookbook import COOKBOOK
from tests.tools.cli_helpers import chat, read_jsonl, run_cli, write_jsonl
from tui.core.lint import lint_path
from tui.core.tools.fix import FixOptions, fix_file
from tui.core.tools.lint_bridge import example_linter

GOOD = json.dumps(chat("Hi", "Hello"))


def _messy(path: Path) -> Path:
    lines = [
        b"\xef\xbb\xbf" + GOOD.encode() + b"\r\n",  # BOM and CRLF
        b"\r\n",  # blank
        json.dumps(chat("  Hi\n", "Hello  ")).encode() + b"\n",  # untrimmed: same as line 1
        json.dumps({"messages": [{"role": "user", "content": "no reply"}]}).encode() + b"\n",
        b'{"messages": [\n',  # broken JSON
        GOOD.encode() + b"\n",  # exact duplicate of line 1
        json.dumps(chat("Other", "Answer")).encode(),  # no final newline
    ]
    path.write_bytes(b"".join(lines))
    return path


def test_dry_run_reports_each_fix_with_counts_and_first_lines(tmp_path: Path) -> None:
    data = _messy(tmp_path / "messy.jsonl")
    before = data.read_bytes()
    result = run_cli(
        "fix", data, "--normalize", "--trim", "--drop-invalid", "--dedupe", "--dry-run",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.code == 0, result.err
    out = result.out
    assert "dry run: nothing written" in out
    assert "normalise BOM, line endings and blank lines: 2 lines" in out
    assert "line 1: BOM removed, CRLF → LF" in out
    assert "line 2: CRLF → LF, blank line removed" in out
    assert "trim whitespace around message text: 1 line" in out
    assert "drop lines with errors (to the rejected file): 2 lines" in out
    assert "line 4: missing_assistant_message" in out and "line 5: invalid_json" in out
    assert "remove exact duplicates: 2 lines" in out
    assert "line 3: same as line 1" in out and "line 6: same as line 1" in out
    assert "kept 2 of 7 lines" in out and "would move 2 lines to" in out
    assert data.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == [
        "messy.jsonl"
    ]


def test_fixes_write_a_clean_file_and_keep_rejected_lines(tmp_path: Path) -> None:
    data = _messy(tmp_path / "messy.jsonl")
    result = run_cli(
        "fix", data, "--normalize", "--trim", "--drop-invalid", "--dedupe", cwd=tmp_path
    )
    assert result.code == 0, result.err
    fixed = tmp_path / "messy.fixed.jsonl"
    assert fixed.read_bytes() == (GOOD + "\n" + json.dumps(chat("Other", "Answer")) + "\n").encode()
    rejected = (tmp_path / "messy.rejected.jsonl").read_bytes().splitlines()
    assert rejected == [
        json.dumps({"messages": [{"role": "user", "content": "no reply"}]}).encode(),
        b'{"messages": [',
    ]
    report = lint_path(fixed)
    assert not any(i.rule in ("bom", "crlf_line_ending", "blank_line") for i in report.issues)
    assert report.counts_by_rule.get("duplicate_example", 0) == 0
    errors = {i.rule for i in report.issues if i.severity == "error"}
    assert errors == {"too_few_examples"}  # only the file is short; every line is valid


def test_only_chosen_fixes_apply(tmp_path: Path) -> None:
    data = _messy(tmp_path / "messy.jsonl")
    result = run_cli("fix", data, "--normalize", "--out", "norm.jsonl", cwd=tmp_path)
    assert result.code == 0, result.err
    lines = (tmp_path / "norm.jsonl").read_bytes().split(b"\n")
    assert lines[0] == GOOD.encode() and len(lines) == 7  # 6 lines and the final newline
    assert b"  Hi\\n" in lines[1]  # untouched: trimming was not asked for
    assert not (tmp_path / "messy.rejected.jsonl").exists()


def test_max_tokens_moves_the_long_cookbook_example_aside(tmp_path: Path) -> None:
    src = tmp_path / "toy.jsonl"
    src.write_bytes((COOKBOOK / "toy_chat_fine_tuning.jsonl").read_bytes())
    result = run_cli("fix", src, "--max-tokens-for", "gpt-3.5-turbo-0613", cwd=tmp_path)
    assert result.code == 0, result.err
    assert "drop examples over 4,096 tokens for gpt-3.5-turbo-0613: 1 line" in result.out
    assert "line 5: 8,0" in result.out  # the "Eat a banana!" reply, about 8,000 tokens
    assert len(read_jsonl(tmp_path / "toy.fixed.jsonl")) == 4
    rejected = read_jsonl(tmp_path / "toy.rejected.jsonl")
    assert len(rejected) == 1 and "banana" in json.dumps(rejected[0])


def test_in_place_replaces_the_input_atomically(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "d.jsonl", [chat("a", "b"), chat("a", "b"), chat("c", "d")])
    result = run_cli("fix", data, "--dedupe", "--in-place", cwd=tmp_path)
    assert result.code == 0, result.err
    assert len(read_jsonl(data)) == 2
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == ["d.jsonl"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "choose at least one fix"),
        (["--dedupe", "--in-place", "--out", "x.jsonl"], "either --out or --in-place"),
        (["--dedupe", "--out", "d.jsonl"], "is the input file"),
        (["--max-tokens-for", "gpt-4o", "--dedupe", "--out", "sub/x.jsonl"], "does not exist"),
    ],
)
def test_bad_requests_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    write_jsonl(tmp_path / "d.jsonl", [chat("a", "b")])
    result = run_cli("fix", "d.jsonl", *args, cwd=tmp_path)
    assert result.code == 2
    assert message in result.err


def test_core_dedupe_counts_identical_examples_with_other_key_order(tmp_path: Path) -> None:
    data = tmp_path / "order.jsonl"
    data.write_text(
        '{"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}]}\n'
        '{"messages": [{"content": "x", "role": "user"}, {"content": "y", "role": "assistant"}]}\n',
        encoding="utf-8",
    )
    options = FixOptions(dedupe=True, drop_invalid=True, lint=example_linter(None))
    report = fix_file(data, options, dry_run=True)
    assert report.fixes["dedupe"].count == 1 and report.kept == 1
    assert report.fixes["drop_invalid"].count == 0


def test_an_unknown_model_says_which_limit_it_assumed(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "d.jsonl", [chat("a", "b")])
    result = run_cli("fix", data, "--max-tokens-for", "my-llama", "--dry-run", cwd=tmp_path)
    assert result.code == 0, result.err
    assert "drop examples over 16,385 tokens for my-llama (unknown model 'my-llama'" in result.out
