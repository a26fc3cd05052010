"""`ft-tui serve` as a user starts it: key handling, the printed lines, a taken port."""

from __future__ import annotations

import os
import socket
import stat
import statistics
import subprocess
import sys
import time
from pathlib import Path

from tests.local.conftest import ROOT, LocalServer


def _serve(args: list[str], timeout: float = 30.0) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tui", "serve", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_generated_key_is_stored_0600_printed_and_reused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    process = _serve(["--port", "0", "--data-dir", str(data)])
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(3)]
    finally:
        process.terminate()
        process.wait(15)
    key_file = data / "api_key"
    key = key_file.read_text().strip()
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert "listening on http://127.0.0.1:" in lines[0] and lines[0].split()[4].endswith("/v1")
    assert key in lines[1] and "new" in lines[1]
    assert "OpenAI(base_url=" in lines[2]
    again = _serve(["--port", "0", "--data-dir", str(data)])
    try:
        assert again.stdout is not None
        again.stdout.readline()
        second = again.stdout.readline()
    finally:
        again.terminate()
        again.wait(15)
    assert key not in second and str(key_file) in second
    assert key_file.read_text().strip() == key


def test_taken_port_exits_2_with_a_clear_message(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "tui", "serve", "--port", str(port)]
            + ["--data-dir", str(tmp_path / "d"), "--api-key", "k"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_flags_are_explained(tmp_path: Path) -> None:
    for flags, expected in [
        (["--model", "no-equals-sign"], "expected [NAME=]SOURCE"),
        (["--model", "x=/no/such/dir"], "no such folder /no/such/dir"),
        (["--chat-template", "x"], "--chat-template expects NAME=FILE"),
        (["--chat-template", "nobody=/etc/hostname"], "no model is named 'nobody'"),
        (["--max-upload-size", "lots"], "--max-upload-size expects a size"),
    ]:
        result = subprocess.run(
            [sys.executable, "-m", "tui", "serve", "--data-dir", str(tmp_path), *flags],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 2 and expected in result.stderr
        assert "Traceback" not in result.stderr


def test_a_second_server_on_the_same_data_dir_is_refused(local_server: LocalServer) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tui", "serve", "--port", "0"]
        + ["--data-dir", str(local_server.data_dir), "--api-key", "k"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "another ft-tui serve is already using" in result.stderr
    local_server.client().models.list()  # the first one is unharmed


def test_keep_alive_requests_answer_in_milliseconds(local_server: LocalServer) -> None:
    client = local_server.client()
    client.models.list()  # open the connection
    latencies = []
    for _ in range(15):
        started = time.perf_counter()
        client.files.list()
        latencies.append(time.perf_counter() - started)
    # Without TCP_NODELAY every call on a reused connection waits ~40 ms for a delayed ACK.
    assert statistics.median(latencies) < 0.02
