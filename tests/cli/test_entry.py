"""`ft-tui` itself: version, help, and a clear message for a path that does not exist."""

from __future__ import annotations

import subprocess
import sys

from tui import __version__


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args], capture_output=True, text=True, timeout=60
    )


def test_version() -> None:
    result = _run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"ft-tui {__version__}"


def test_help_lists_the_commands() -> None:
    result = _run("--help")
    assert result.returncode == 0
    for command in ("lint", "serve", "convert", "split", "fix"):
        assert command in result.stdout


def test_missing_path_is_a_message_not_a_traceback() -> None:
    result = _run("/no/such/dir/data.jsonl")
    assert result.returncode == 2
    assert "no such file or directory" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_option_is_a_usage_error() -> None:
    result = _run("lint", "--no-such-flag", "x.jsonl")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
