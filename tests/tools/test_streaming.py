"""Big inputs stream: memory does not grow with the file, progress is shown, files are safe."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tools.cli_helpers import ROOT, chat
from tui.commands.dataset_tool_cli import run_tool, stderr_progress


def _peak_rss_kb(args: list[str], cwd: Path) -> int:
    code = (
        "import resource, sys\nfrom tui.cli import main\n"
        f"rc = main({args!r})\nassert rc == 0, rc\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT), FT_TUI_DATA_DIR=str(cwd / ".data"))
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return int(out.stdout.splitlines()[-1])


def _jsonl(path: Path, rows: int) -> Path:
    line = json.dumps(chat("What is the capital of France? " * 8, "Paris. " * 40))
    with path.open("w", encoding="utf-8") as handle:
        for i in range(rows):
            handle.write(line.replace("France", f"France{i}") + "\n")
    return path


def _csv(path: Path, rows: int) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        handle.write("question,answer\n")
        for i in range(rows):
            handle.write(
                f"Question number {i} " * 6 + "," + "An answer of some length. " * 10 + "\n"
            )
    return path


def test_split_and_convert_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    small = _jsonl(tmp_path / "small.jsonl", 4_000)
    large = _jsonl(tmp_path / "large.jsonl", 40_000)
    assert large.stat().st_size > 25_000_000
    rss_small = _peak_rss_kb(["split", str(small), "--group-by-prompt"], tmp_path)
    rss_large = _peak_rss_kb(["split", str(large), "--group-by-prompt"], tmp_path)
    assert rss_large - rss_small < 15_000, (rss_small, rss_large)

    small_csv = _csv(tmp_path / "small.csv", 2_000)
    large_csv = _csv(tmp_path / "large.csv", 20_000)
    rss_small = _peak_rss_kb(["convert", str(small_csv), "s.jsonl"], tmp_path)
    rss_large = _peak_rss_kb(["convert", str(large_csv), "l.jsonl"], tmp_path)
    assert rss_large - rss_small < 15_000, (rss_small, rss_large)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_only_on_a_terminal() -> None:
    assert stderr_progress("converting", io.StringIO()) is None
    screen = _Terminal()
    show = stderr_progress("converting", screen)
    assert show is not None
    show(250_000_000, 1_000_000_000)
    assert "\rconverting  25%  250.0 MB / 1.0 GB" in screen.getvalue()
    show(1_000_000_000, 1_000_000_000)
    assert screen.getvalue().endswith("\r\x1b[K")  # the line is cleared at the end
    rows = _Terminal()
    by_row = stderr_progress("converting", rows, unit="rows")
    assert by_row is not None
    by_row(1_500, 3_000)
    assert "converting  50%  1,500 rows / 3,000 rows" in rows.getvalue()


def test_new_outputs_follow_the_umask_and_in_place_keeps_permissions(tmp_path: Path) -> None:
    from tui.core.tools.fix import FixOptions, fix_file

    data = _jsonl(tmp_path / "d.jsonl", 3)
    os.chmod(data, 0o640)
    report = fix_file(data, FixOptions(dedupe=True))
    assert report.out is not None
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(report.out.stat().st_mode) == 0o666 & ~umask
    fix_file(data, FixOptions(dedupe=True), in_place=True)
    assert stat.S_IMODE(data.stat().st_mode) == 0o640


def test_an_unexpected_failure_is_one_line_not_a_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def broken() -> int:
        raise RuntimeError("boom")

    def interrupted() -> int:
        raise KeyboardInterrupt

    assert run_tool("split", broken) == 1
    err = capsys.readouterr().err
    assert err.startswith("ft-tui split: internal error: RuntimeError: boom")
    assert "Traceback" not in err
    with pytest.raises(KeyboardInterrupt):  # left to the CLI entry point (exit 130)
        run_tool("split", interrupted)

    def reader_went_away() -> int:
        raise BrokenPipeError(32, "Broken pipe")

    with pytest.raises(BrokenPipeError):  # left to the CLI entry point (`| head`: exit 0)
        run_tool("split", reader_went_away)
    assert "error" not in capsys.readouterr().err
