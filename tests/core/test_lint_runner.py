"""Chunked and parallel linting gives the same report as one pass; progress, cancel, caps."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.core.helpers import chat, good_examples, write_jsonl
from tui.core.lint import LintReport, lint_path, runner
from tui.core.lint.scan import ISSUES_KEPT_PER_RULE

ROOT = Path(__file__).resolve().parents[2]


def mixed_dataset(path: Path) -> Path:
    examples: list[object] = []
    for i in range(300):
        if i % 37 == 5:
            examples.append(chat(system=None, user=f"q{i}", answer="a"))
        elif i % 50 == 7:
            examples.append({"messages": []})
        else:
            examples.append(chat(f"question {i % 120} 中文 text", f"answer {i % 120}"))
    write_jsonl(path, examples)
    with path.open("ab") as handle:
        handle.write(b"\n{broken\n")
    return path


def comparable(report: LintReport) -> tuple[object, ...]:
    return (
        report.examples,
        report.counts_by_rule,
        [(i.line, i.rule, i.message) for i in report.issues],
        report.stats,
        report.estimate,
    )


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "IN_PROCESS_MAX_BYTES", 0)
    monkeypatch.setattr(runner, "MIN_CHUNK_BYTES", 1500)
    monkeypatch.setattr(runner, "MAX_CHUNK_BYTES", 1500)


def test_chunks_in_process_and_in_a_pool_match_one_pass(tmp_path: Path, small_chunks: None) -> None:
    path = mixed_dataset(tmp_path / "t.jsonl")
    chunked = lint_path(path, workers=1)
    pooled = lint_path(path, workers=2)
    assert comparable(chunked) == comparable(pooled)
    # one pass over the whole file, as if it were a single chunk
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(runner, "MIN_CHUNK_BYTES", 10**9)
        single = lint_path(path, workers=1)
    assert comparable(single) == comparable(chunked)
    dups = chunked.issues_for("duplicate_example")
    assert dups and all("same as line" in d.message for d in dups)
    assert chunked.issues_for("invalid_json")[0].line == 302
    assert chunked.issues_for("blank_line")[0].line == 301


def test_progress_reports_grow_to_the_total(tmp_path: Path, small_chunks: None) -> None:
    path = mixed_dataset(tmp_path / "t.jsonl")
    seen: list[tuple[int, int, int]] = []

    def on_progress(done: int, total: int, partial: LintReport) -> None:
        seen.append((done, total, partial.examples))

    final = lint_path(path, workers=1, on_progress=on_progress)
    assert len(seen) > 3
    assert [d for d, _, _ in seen] == sorted(d for d, _, _ in seen)
    assert seen[-1][0] == seen[-1][1] == path.stat().st_size
    assert seen[0][2] < final.examples and final.complete


def test_cancel_stops_and_marks_the_report(tmp_path: Path, small_chunks: None) -> None:
    path = mixed_dataset(tmp_path / "t.jsonl")
    cancel = threading.Event()

    def stop_early(done: int, total: int, partial: LintReport) -> None:
        cancel.set()

    report = lint_path(path, workers=2, on_progress=stop_early, cancel=cancel)
    assert report.cancelled and not report.complete
    assert report.examples < 302
    cancel_first = threading.Event()
    cancel_first.set()
    assert lint_path(path, workers=1, cancel=cancel_first).cancelled


def test_issues_are_capped_per_rule_but_counted_exactly(tmp_path: Path) -> None:
    n = ISSUES_KEPT_PER_RULE + 234
    path = write_jsonl(tmp_path / "t.jsonl", [chat(system=None, answer=f"{i}") for i in range(n)])
    report = lint_path(path)
    assert report.counts_by_rule["no_system_message"] == n
    kept = report.issues_for("no_system_message")
    assert len(kept) == ISSUES_KEPT_PER_RULE and kept[0].line == 1


def test_pool_works_from_a_script_without_a_main_guard(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "t.jsonl", good_examples(40))
    script = tmp_path / "script.py"
    script.write_text(
        "from tui.core.lint import lint_path, runner\n"
        "runner.IN_PROCESS_MAX_BYTES = 0\nrunner.MIN_CHUNK_BYTES = 1000\n"
        f"report = lint_path({str(data)!r}, workers=2)\n"
        "print(report.examples, report.has_errors)\n"
    )
    out = subprocess.run(
        [sys.executable, str(script)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["40", "False"]
    assert "Traceback" not in out.stderr
