"""`ft-tui lint` through the real CLI in a subprocess: output, JSON, exit codes, bad inputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.cookbook import COOKBOOK
from tests.core.helpers import chat, good_examples, write_jsonl

ROOT = Path(__file__).resolve().parents[2]


def lint(*args: str, preexec: Callable[[], None] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FT_TUI_DATA_DIR": "/nonexistent-ft-tui", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "tui", "lint", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        preexec_fn=preexec,
    )


def lint_json(*args: str) -> tuple[int, dict[str, object]]:
    out = lint(*args, "--json")
    assert out.stdout.count("\n") == 1, out.stdout[-500:]
    return out.returncode, json.loads(out.stdout)


def test_toy_dataset_json_matches_the_cookbook() -> None:
    rc, data = lint_json(
        str(COOKBOOK / "toy_chat_fine_tuning.jsonl"), "--model", "gpt-3.5-turbo-0125"
    )
    assert rc == 1  # fewer than 10 examples is an error
    assert data["examples"] == 5
    assert data["estimate"] == {
        "epochs": 20,
        "tokens_per_epoch": 8242,
        "billed_tokens": 164840,
        "cost_usd": pytest.approx(1.31872),
    }
    issues = data["issues"]
    assert isinstance(issues, list)
    assert {"line": None, "rule": "too_few_examples"}.items() <= issues[0].items()
    assert set(issues[0]) >= {"line", "rule", "severity", "message"}


def test_toy_dataset_human_output() -> None:
    out = lint(str(COOKBOOK / "toy_chat_fine_tuning.jsonl"), "--model", "gpt-3.5-turbo-0125")
    assert out.returncode == 1
    text = out.stdout
    assert "too_few_examples ×1" in text and "at least 10" in text
    assert "no_system_message ×1" in text and "line 3" in text
    assert "fix: " in text
    assert "20 epochs × 8,242 tokens per epoch = 164,840 billed tokens" in text
    assert "median 45" in text


def test_drone_dataset_lints_clean() -> None:
    out = lint(str(COOKBOOK / "drone_training.jsonl"))
    assert out.returncode == 0, out.stdout
    assert "No problems found" in out.stdout


def test_bad_lines_through_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    good = [json.dumps(e).encode() for e in good_examples(10)]
    path.write_bytes(
        b"\xef\xbb\xbf"
        + good[0]
        + b"\r\n"
        + b"\n".join(good[1:])
        + b"\n\n"
        + b'{"messages": [}\n'
        + b'{"messages": "\xfe"}\n'
        + b'{"messages": [{"role": "us'
    )
    rc, data = lint_json(str(path))
    assert rc == 1
    counts = data["counts_by_rule"]
    assert counts == {
        "bom": 1,
        "crlf_line_ending": 1,
        "blank_line": 1,
        "invalid_json": 1,
        "invalid_utf8": 1,
        "truncated_last_line": 1,
    }
    lines = {i["rule"]: i["line"] for i in data["issues"]}  # type: ignore[attr-defined]
    assert lines["blank_line"] == 11 and lines["invalid_json"] == 12
    assert lines["truncated_last_line"] == 14


def test_binary_and_empty_files_exit_1_with_a_file_level_error(tmp_path: Path) -> None:
    binary = tmp_path / "model.bin.jsonl"
    binary.write_bytes(b"\x00" * 100)
    rc, data = lint_json(str(binary))
    assert rc == 1 and data["counts_by_rule"] == {"binary_file": 1}
    empty = tmp_path / "empty.jsonl"
    empty.touch()
    out = lint(str(empty))
    assert out.returncode == 1 and "empty_file" in out.stdout


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_unreadable_paths_exit_2_with_a_message(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "nope.jsonl" if kind == "missing" else tmp_path
    for extra in ([], ["--json"]):
        out = lint(str(target), *extra)
        assert out.returncode == 2
        assert out.stdout == ""
        assert out.stderr.startswith("ft-tui lint: ") and "Traceback" not in out.stderr


def test_no_permission_exits_2(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "secret.jsonl", good_examples(10))
    path.chmod(0)
    if os.access(path, os.R_OK):
        pytest.skip("this user (root) reads any file; covered by the in-process test below")
    out = lint(str(path))
    assert out.returncode == 2
    assert "permission denied" in out.stderr and "Traceback" not in out.stderr


def test_no_permission_exits_2_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tui.cli import main

    path = write_jsonl(tmp_path / "secret.jsonl", good_examples(10))
    real_open = Path.open

    def denied(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", denied)
    assert main(["lint", str(path), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"ft-tui lint: {path}: permission denied\n"


def test_validation_file_and_overlap(tmp_path: Path) -> None:
    train = write_jsonl(tmp_path / "t.jsonl", good_examples(12))
    val = write_jsonl(tmp_path / "v.jsonl", [good_examples(1)[0], chat("new", "one")])
    rc, data = lint_json(str(train), "--validation", str(val))
    assert rc == 0
    assert data["counts_by_rule"] == {"validation_overlap": 1}
    validation = data["validation"]
    assert isinstance(validation, dict) and validation["examples"] == 2
    out = lint(str(train), "--validation", str(tmp_path / "missing.jsonl"))
    assert out.returncode == 2 and "missing.jsonl: no such file" in out.stderr


def test_bad_workers_value_is_a_message() -> None:
    out = lint("x.jsonl", "--workers", "0")
    assert out.returncode == 2 and "--workers" in out.stderr and "Traceback" not in out.stderr


def test_large_file_uses_the_pool_and_matches(tmp_path: Path) -> None:
    examples = [chat(f"question {i}", "answer " * (i % 400)) for i in range(6000)]
    path = write_jsonl(tmp_path / "big.jsonl", examples)
    assert path.stat().st_size > 8 * 1024 * 1024  # over the in-process threshold
    rc1, one = lint_json(str(path), "--workers", "1")
    rc2, two = lint_json(str(path), "--workers", "2")
    assert rc1 == rc2 == 0
    assert one["estimate"] == two["estimate"] and one["counts_by_rule"] == two["counts_by_rule"]


def test_rules_listing_documents_ids_and_cookbook_keys() -> None:
    out = lint("--rules")
    assert out.returncode == 0
    assert "missing_messages" in out.stdout and "[cookbook: missing_messages_list]" in out.stdout
    assert "message_missing_role" in out.stdout and "message_missing_key" in out.stdout
    missing = lint()
    assert missing.returncode == 2 and "give a FILE" in missing.stderr


def test_fifty_megabyte_line_is_checked_in_bounded_memory(tmp_path: Path) -> None:
    from benchmarks.lint_bench import measure

    path = write_jsonl(tmp_path / "big.jsonl", [chat(answer="lorem ipsum dolor, " * 2_650_000)])
    assert path.stat().st_size > 50_000_000
    argv = [sys.executable, "-m", "tui", "lint", str(path), "--json", "--model", "gpt-4o-mini"]
    run = measure("lint", argv)
    assert run.output["examples"] == 1
    assert run.output["counts_by_rule"] == {
        "too_few_examples": 1,
        "too_many_tokens": 1,
    }
    stats = run.output["stats"]
    assert isinstance(stats, dict) and stats["tokens_per_example"]["max"] > 10_000_000
    assert run.peak_rss_mb < 300, f"peak RSS {run.peak_rss_mb:.0f} MB"


def test_reinforcement_model_output(tmp_path: Path) -> None:
    rows = [
        {"messages": [{"role": "user", "content": f"q{i}"}], "reference_answer": str(i)}
        for i in range(10)
    ]
    path = write_jsonl(tmp_path / "rft.jsonl", rows)
    out = lint(str(path), "--model", "o4-mini")
    assert out.returncode == 0, out.stdout
    assert "RFT" in out.stdout and "billed per training hour ($100/h)" in out.stdout
