"""`ft-tui export` as a user runs it: a subprocess whose profile (`OPENAI_BASE_URL`) points at a
real `ft-tui serve`, or at the fake OpenAI. Success prints the serve command; every bad input is
one `error:` line, exit code 2, and no folder (not even a hidden half-written one)."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fake_openai.fixture import fake_openai  # noqa: F401 - registers the fixture
from tests.fake_openai.server import FakeOpenAI
from tests.local.conftest import API_KEY, ROOT, TINY, LocalServer, dataset, wait_for_status

pytestmark = pytest.mark.local


@pytest.fixture(scope="module")
def model(shared_server: LocalServer) -> str:
    client = shared_server.client()
    training = client.files.create(file=("train.jsonl", dataset(10)), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(
        model=TINY, training_file=training.id, hyperparameters={"n_epochs": 1}
    )
    done = wait_for_status(client, job.id, {"succeeded", "failed", "cancelled"})
    assert done.status == "succeeded", done.error
    assert done.fine_tuned_model
    return str(done.fine_tuned_model)


def _env(tmp_path: Path, base_url: str, key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "FT_TUI_"))}
    env |= {"OPENAI_BASE_URL": base_url, "OPENAI_API_KEY": key, "OMP_NUM_THREADS": "1"}
    home = tmp_path.parent / f"{tmp_path.name}-home"  # outside tmp_path, which tests inspect
    env |= {"FT_TUI_CONFIG_DIR": str(home / "cfg"), "FT_TUI_DATA_DIR": str(home / "data")}
    return env


def ft_tui(
    env: dict[str, str], *args: str, preexec: Any = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", "export", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=preexec,
        check=False,
    )


def assert_one_error(done: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    errors = [line for line in lines if "error" in line.lower()]
    assert len(errors) == 1 and errors[0].startswith("ft-tui export: error: "), done.stderr
    assert "Traceback" not in done.stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]


def test_export_downloads_the_folder_and_prints_the_serve_command(
    shared_server: LocalServer, model: str, tmp_path: Path
) -> None:
    env = _env(tmp_path, shared_server.base_url, API_KEY)
    out = tmp_path / "gguf"
    done = ft_tui(env, model, "--format", "gguf", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert f"llama-server -m {out / 'model-f16.gguf'}" in done.stdout
    assert "converter: gguf-py" in done.stdout
    assert "downloading…" in done.stderr  # progress, one line per stage off a terminal
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "model-f16.gguf"]


def test_existing_folder_needs_force(
    shared_server: LocalServer, model: str, tmp_path: Path
) -> None:
    env = _env(tmp_path, shared_server.base_url, API_KEY)
    out = tmp_path / "adapter"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    assert_one_error(ft_tui(env, model, "-f", "adapter", "-o", str(out)), "already exists")
    assert [p.name for p in out.iterdir()] == ["mine.txt"]
    done = ft_tui(env, model, "-f", "adapter", "-o", str(out), "--force")
    assert done.returncode == 0, done.stderr
    assert (out / "adapter_config.json").is_file() and not (out / "mine.txt").exists()


def test_unknown_model_and_unwritable_path_are_one_error_line(
    shared_server: LocalServer, model: str, tmp_path: Path
) -> None:
    env = _env(tmp_path, shared_server.base_url, API_KEY)
    out = tmp_path / "nothing"
    done = ft_tui(env, "ft:tiny:local::missing", "-f", "merged", "-o", str(out))
    assert_one_error(done, "ft:tiny:local::missing")
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert_one_error(ft_tui(env, model, "-f", "merged", "-o", str(blocker / "sub")), "a-file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def _small_files(limit: int) -> Any:
    def limit_file_size() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes fail with EFBIG, no kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return limit_file_size


def test_a_write_that_fails_midway_leaves_nothing(
    shared_server: LocalServer, model: str, tmp_path: Path
) -> None:
    """A file-size limit (any user can set one) stops the download as a full disk would."""
    env = _env(tmp_path, shared_server.base_url, API_KEY)
    out = tmp_path / "big"
    done = ft_tui(env, model, "-f", "gguf", "-o", str(out), preexec=_small_files(64 * 1024))
    assert_one_error(done, "too large")
    assert not out.exists() and not any(tmp_path.iterdir())


@contextlib.contextmanager
def _tiny_disk(where: Path, size: str) -> Iterator[Path]:
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip("mounting a small tmpfs needs root (CAP_SYS_ADMIN)")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False)


def test_a_full_disk_is_one_error_line_and_leaves_nothing(
    shared_server: LocalServer, model: str, tmp_path: Path
) -> None:
    env = _env(tmp_path, shared_server.base_url, API_KEY)
    with _tiny_disk(tmp_path / "disk", "256k") as disk:
        done = ft_tui(env, model, "-f", "gguf", "-o", str(disk / "out"))
        assert_one_error(done, "not enough disk space")
        assert list(disk.iterdir()) == []


def test_openai_cannot_export_and_says_what_to_do(
    fake_openai: FakeOpenAI,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    env = _env(tmp_path, fake_openai.base_url, fake_openai.api_key)
    out = tmp_path / "out"
    done = ft_tui(env, "ft:gpt-4o-mini-2024-07-18:org::abc123", "-f", "gguf", "-o", str(out))
    assert_one_error(done, "cannot be exported", "ft-tui record")
    assert not out.exists()
    # The openai profile is refused before any request: its weights are never downloadable.
    env["OPENAI_API_KEY"] = "sk-test"
    done = ft_tui(
        env, "ft:gpt-4o-mini:org::x", "-f", "merged", "-o", str(out), "--profile", "openai"
    )
    assert_one_error(done, "OpenAI does not let anyone download", "ft-tui record")
