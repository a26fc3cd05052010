"""Fixtures that run the real `ft-tui serve` as a subprocess on loopback, with the tiny model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.local.tiny_model import build_tiny_model

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "sk-test-local-key"
TINY = "tiny"


def chat_line(i: int, answer: str | None = None) -> str:
    messages = [
        {"role": "system", "content": "You answer briefly."},
        {"role": "user", "content": f"hello {i}"},
        {"role": "assistant", "content": answer or f"yes {i % 3}"},
    ]
    return json.dumps({"messages": messages})


def dataset(n: int) -> bytes:
    return ("\n".join(chat_line(i) for i in range(n)) + "\n").encode()


class LocalServer:
    """One `python -m tui serve` process; `restart()` keeps its data dir."""

    def __init__(self, data_dir: Path, model_dir: Path, extra_args: list[str]) -> None:
        self.data_dir = data_dir
        self.model_dir = model_dir
        self.extra_args = extra_args
        self.process: subprocess.Popen[str] | None = None
        self.base_url = ""
        self.stderr_path = data_dir.parent / f"{data_dir.name}-stderr.log"
        self.new_session = False  # True: its own process group, as under systemd or docker
        self.preexec: Callable[[], None] | None = None  # runs in the child before exec

    def start(self, timeout: float = 60.0) -> None:
        env = dict(os.environ)
        env["FT_TUI_DATA_DIR"] = str(self.data_dir.parent / "app-data")
        env["FT_TUI_CONFIG_DIR"] = str(self.data_dir.parent / "app-config")
        env["OMP_NUM_THREADS"] = "1"
        command = [sys.executable, "-m", "tui", "serve", "--port", "0"]
        command += ["--data-dir", str(self.data_dir), "--api-key", API_KEY]
        command += ["--model", f"{TINY}={self.model_dir}", *self.extra_args]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=self.stderr_path.open("a"),
            text=True,
            start_new_session=self.new_session,
            preexec_fn=self.preexec,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if "listening on " not in line:
            self.process.kill()
            raise RuntimeError(f"server did not start: {line!r}\n{self.stderr()}")
        self.base_url = line.split("listening on ", 1)[1].split()[0]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.base_url.removesuffix("/v1") + "/health") as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not answer /health\n{self.stderr()}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.process = None

    def kill(self) -> None:
        """Stop abruptly, as a crash or a power cut would."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(5)
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    def client(self, **kwargs: Any) -> Any:
        from openai import OpenAI

        options: dict[str, Any] = {"api_key": API_KEY, "max_retries": 0} | kwargs
        return OpenAI(base_url=self.base_url, **options)

    def async_client(self, **kwargs: Any) -> Any:
        from openai import AsyncOpenAI

        options: dict[str, Any] = {"api_key": API_KEY, "max_retries": 0} | kwargs
        return AsyncOpenAI(base_url=self.base_url, **options)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model") / "tiny")


def _server(base: Path, model_dir: Path, extra: list[str]) -> Iterator[LocalServer]:
    server = LocalServer(base / "server-data", model_dir, extra)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def local_server(tmp_path: Path, tiny_model_dir: Path) -> Iterator[LocalServer]:
    """A fresh server with its own data dir (upload cap lowered to 64 KiB for tests)."""
    yield from _server(tmp_path, tiny_model_dir, ["--max-upload-size", "64K"])


@pytest.fixture(scope="module")
def shared_server(
    tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path
) -> Iterator[LocalServer]:
    """One server for a whole test module (cheap checks that do not disturb each other)."""
    yield from _server(
        tmp_path_factory.mktemp("shared"), tiny_model_dir, ["--max-upload-size", "64K"]
    )


def wait_for_status(client: Any, job_id: str, statuses: set[str], timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        job = client.fine_tuning.jobs.retrieve(job_id)
        if job.status in statuses:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job.status} after {timeout}s")
        time.sleep(0.2)


def long_examples(n: int) -> bytes:
    """`n` chat lines whose answer runs past the tiny model's 512-token context."""
    answer = "the cat sat on a mat and the dog ran in a park " * 40
    lines = [
        {
            "messages": [
                {"role": "user", "content": f"story {i}"},
                {"role": "assistant", "content": answer},
            ]
        }
        for i in range(n)
    ]
    return ("\n".join(json.dumps(line) for line in lines) + "\n").encode()
