"""`ft-tui eval` and `ft-tui record` as a user runs them: real subprocesses, the real SDK, the
HTTP fake OpenAI on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.eval.conftest import BASE, OTHER, oracle, sentiment_rows, user_text, write_jsonl
from tests.fake_openai.server import FakeOpenAI
from tui.core.lint import lint_path
from tui.services.eval.store import EvalStore

ROOT = Path(__file__).resolve().parents[2]


def ft_tui(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=os.environ.copy(),
    )


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tui", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )


def wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


def review_number(messages: list[Any]) -> int:
    return int(user_text(messages).split()[1].rstrip(":"))


def test_eval_json_is_one_object_and_out_has_one_line_per_row(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    fake_openai.chat.responder = oracle
    data = write_jsonl(tmp_path / "held.jsonl", sentiment_rows(10))
    out = tmp_path / "rows.jsonl"
    scorers = ["--scorer", "exact,contains", "--scorer", "regex:^pos"]
    models = ["--model", BASE, "--model", OTHER]
    proc = ft_tui("eval", str(data), *models, *scorers, "--json", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # not a terminal: no progress line
    result = json.loads(proc.stdout)  # exactly one object: extra output would not parse
    assert set(result) == {"run_id", "dataset", "examples", "models", "pairwise"}
    assert result["examples"] == 10 and result["dataset"] == str(data)
    base, other = result["models"]
    assert base["scores"] == {"exact": 1.0, "contains": 1.0, "regex:^pos": 0.5}
    assert other["scores"]["contains"] == 0.0 and other["scores"]["regex:^pos"] == 0.0
    assert all(len(v) == 2 for v in base["ci95"].values())
    assert result["pairwise"] == [{"a": BASE, "b": OTHER, "wins_a": 10, "wins_b": 0, "ties": 0}]
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["line"] for r in lines] == list(range(1, 11))
    first = lines[0]
    assert set(first) == {"line", "prompt", "reference", "answers"}
    assert first["reference"] == {"role": "assistant", "content": "positive"}
    assert first["answers"][OTHER] == {
        "text": "Positive.",
        "scores": {"exact": 0.0, "contains": 0.0, "regex:^pos": 0.0},
        "latency_s": first["answers"][OTHER]["latency_s"],
        "error": None,
    }
    listed = ft_tui("eval", "--list")
    assert result["run_id"] in listed.stdout and "completed" in listed.stdout
    human = ft_tui("eval", str(data), "--model", BASE, "--limit", "3")
    assert human.returncode == 0 and "3/3 rows" in human.stdout and "exact" in human.stdout


def test_bad_input_is_one_error_line_and_exit_2(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    rows = sentiment_rows(4)
    rows[2]["messages"][0]["content"] = 5
    bad = write_jsonl(tmp_path / "bad.jsonl", rows)
    good = write_jsonl(tmp_path / "good.jsonl", sentiment_rows(3))
    cases = [
        (["eval", str(bad), "--model", BASE], f"{bad}:3: "),
        (["eval", str(tmp_path / "missing.jsonl"), "--model", BASE], "no such file"),
        (["eval", str(good)], "at least one --model"),
        (["eval", str(good), "--model", BASE, "--scorer", "bleu"], "unknown scorer 'bleu'"),
        (["eval", str(good), "--model", "=x"], "expected MODEL or PROFILE=MODEL"),
        (["eval", str(good), "--model", "nope=x"], "no profile named 'nope'"),
        (["eval", str(good), "--model", BASE, "--concurrency", "0"], "--concurrency"),
        (["eval", "--resume", "eval-nope"], "no eval run 'eval-nope'"),
        (["eval", str(good), "--model", BASE, "--out", str(good)], "other than the dataset"),
        (["record", str(good), "--model", BASE, "--out", str(good)], "is the input file"),
    ]
    for args, expected in cases:
        proc = ft_tui(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stdout == ""
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and ": error: " in lines[0] and expected in lines[0], proc.stderr
    assert not [r for r in fake_openai.requests if r.path == "/chat/completions"]
    # a model that fails on every row is not bad input: exit 0, the errors in the result
    failing = ft_tui("eval", str(good), "--model", "no-such-model", "--json")
    assert failing.returncode == 0, failing.stderr
    assert json.loads(failing.stdout)["models"][0]["errors"] == 3
    assert failing.stderr.startswith("warning: no-such-model: every call failed: ")
    assert "does not exist" in failing.stderr


def test_killed_eval_resumes_without_asking_finished_rows(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    asked: list[int] = []
    lock = threading.Lock()

    def slow(model: str, messages: list[Any]) -> str:
        with lock:
            asked.append(review_number(messages))
        time.sleep(0.15)
        return oracle(model, messages)

    fake_openai.chat.responder = slow
    data = write_jsonl(tmp_path / "held.jsonl", sentiment_rows(30))
    proc = spawn("eval", str(data), "--model", BASE, "--concurrency", "2", "--json")
    store = EvalStore(Path(os.environ["FT_TUI_DATA_DIR"]) / "eval.sqlite")

    def rows_done() -> int:
        runs = store.list_runs()
        return len(store.done_lines(runs[0].run_id)) if runs else 0

    wait_for(lambda: rows_done() >= 6)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    run_id = store.list_runs()[0].run_id
    finished = store.done_lines(run_id)
    assert 6 <= len(finished) < 30
    assert store.get_run(run_id).status == "cancelled"  # its process is gone: resumable
    with lock:
        asked.clear()
    resumed = ft_tui("eval", "--resume", run_id, "--json")
    assert resumed.returncode == 0, resumed.stderr
    result = json.loads(resumed.stdout)
    assert result["run_id"] == run_id and result["models"][0]["answered"] == 30
    assert result["models"][0]["scores"]["exact"] == 1.0
    assert not set(asked) & finished  # no finished row was asked again
    assert set(asked) == set(range(1, 31)) - finished and len(asked) == len(set(asked))
    assert store.get_run(run_id).status == "completed"


def test_record_writes_a_lint_clean_golden_set_and_a_rejected_file(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    def responder(model: str, messages: list[Any]) -> str:
        n = review_number(messages)
        if n == 3:
            return ""  # empty answer
        if n == 5:
            return "positive<|im_end|>"  # a special token: a lint error in training data
        return f"recorded {n}"

    fake_openai.chat.responder = responder
    data = write_jsonl(tmp_path / "data.jsonl", sentiment_rows(14))
    out = tmp_path / "golden.jsonl"
    proc = ft_tui("record", str(data), "--model", BASE, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "wrote 12 examples" in proc.stdout and "rejected 2 rows" in proc.stdout
    golden = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(golden) == 12
    original = sentiment_rows(14)
    assert golden[0]["messages"][:-1] == original[0]["messages"][:-1]
    assert golden[0]["messages"][-1] == {"role": "assistant", "content": "recorded 1"}
    report = lint_path(out)
    assert not report.has_errors and report.examples == 12
    rejected = [json.loads(line) for line in (tmp_path / "golden.rejected.jsonl").open()]
    assert [(r["line"], r["reason"]) for r in rejected][0] == (3, "empty answer")
    assert rejected[1]["line"] == 5 and "forbidden_special_token" in rejected[1]["reason"]
    assert not list(tmp_path.glob(".golden*"))  # no journal or temp file left behind

    again = ft_tui("record", str(data), "--model", BASE, "--out", str(out))
    assert again.returncode == 2 and "already exists" in again.stderr
    assert "--force" in again.stderr and len(out.read_text().splitlines()) == 12
    fake_openai.chat.responder = lambda model, messages: "forced"
    forced = ft_tui("record", str(data), "--model", BASE, "--out", str(out), "--force")
    assert forced.returncode == 0, forced.stderr
    assert all(json.loads(x)["messages"][-1]["content"] == "forced" for x in out.open())
    assert not (tmp_path / "golden.rejected.jsonl").exists()  # the stale one is gone


def test_killed_record_leaves_no_output_and_resumes(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    asked: list[int] = []
    lock = threading.Lock()

    def slow(model: str, messages: list[Any]) -> str:
        n = review_number(messages)
        with lock:
            asked.append(n)
        time.sleep(0.15)
        return f"answer {n}"

    fake_openai.chat.responder = slow
    data = write_jsonl(tmp_path / "data.jsonl", sentiment_rows(24))
    out = tmp_path / "golden.jsonl"
    journal = tmp_path / ".golden.jsonl.partial"
    proc = spawn("record", str(data), "--model", BASE, "--out", str(out), "--concurrency", "2")
    wait_for(lambda: journal.exists() and len(journal.read_bytes().splitlines()) >= 5)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert not out.exists()  # atomic: nothing half-written under the real name
    done = {json.loads(x)["line"] for x in journal.read_bytes().splitlines() if x.endswith(b"}")}
    with lock:
        asked.clear()
    fresh = ft_tui("record", str(data), "--model", BASE, "--out", str(out))
    assert fresh.returncode == 2 and "--resume" in fresh.stderr
    resumed = ft_tui("record", str(data), "--model", BASE, "--out", str(out), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert not set(asked) & done and f"({len(done)} from the interrupted run)" in resumed.stdout
    golden = [json.loads(x) for x in out.read_text().splitlines()]
    assert [g["messages"][-1]["content"] for g in golden] == [f"answer {n}" for n in range(1, 25)]
    assert not journal.exists()


def test_progress_line_only_when_stderr_is_a_terminal(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    import pty

    fake_openai.chat.responder = oracle
    data = write_jsonl(tmp_path / "held.jsonl", sentiment_rows(5))
    master, slave = pty.openpty()
    proc = subprocess.run(
        [sys.executable, "-m", "tui", "eval", str(data), "--model", BASE, "--json"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=slave,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    assert proc.returncode == 0
    json.loads(proc.stdout)  # stdout stays one JSON object
    assert b"\reval 100%  5/5 rows  0 errors" in seen
