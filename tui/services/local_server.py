"""Start, reuse and stop the bundled `ft-tui serve` as a child process on loopback.

    server = LocalServer(data_dir)           # tui.config.local_server_dir() by default
    info = await server.ensure()             # ServerInfo(url, api_key, pid, started_by_us)
    client = AsyncOpenAI(base_url=info.base_url, api_key=info.api_key)
    ...
    await server.stop()                      # only stops a server this object started

Discovery files in the server's data dir (defined here; `ft-tui serve` need not write them):

- `server.json`: ``{"url": "http://127.0.0.1:PORT", "pid": PID, "port": PORT,
  "started_at": UNIX_SECONDS}``, written once `/health` answers; removed by the starter on stop.
- `api_key`: the key passed as `--api-key`, mode 0600: the file `ft-tui serve` itself uses when
  started without a key, so a key stored there is reused; a random one is created otherwise.
  Never logged.
- `server-console.log`: the child's stdout and stderr (its tail is shown if it fails to start).
- `start.lock`: serialises starts so two ft-tui windows do not start two servers.

A server is reused when `server.json` names a live pid and `GET <url>/health` answers 200 with
the key from `api_key`, or, for a profile with a fixed `port`, when a server started by hand
(`ft-tui serve --port N --data-dir DIR`) answers there with that key. Without the `local` extra
(torch, transformers, peft, starlette, uvicorn) `ensure()` raises `LocalServerUnavailable` with
an install hint instead of crashing.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tui.services.errors import ServiceError

DISCOVERY_FILE = "server.json"
KEY_FILE = "api_key"  # the same file `ft-tui serve` uses for its own key
LOG_FILE = "server-console.log"  # `ft-tui serve` itself logs to server.log
LOCK_FILE = "start.lock"  # `ft-tui serve` itself holds server.lock while it runs
LOCAL_EXTRA_MODULES = ("torch", "transformers", "peft", "starlette", "uvicorn")
INSTALL_HINT = "install ft-tui[local] or set OPENAI_API_KEY"


class LocalServerUnavailable(ServiceError):
    """The embedded server cannot run here (missing extra) or failed to start."""

    title = "Local server unavailable"


@dataclass(frozen=True)
class ServerInfo:
    url: str  # root, e.g. http://127.0.0.1:8765
    api_key: str
    pid: int
    started_by_us: bool

    @property
    def base_url(self) -> str:
        return self.url.rstrip("/") + "/v1"


def missing_local_requirements() -> list[str]:
    """Modules of the `local` extra (and the serve command) that cannot be imported here."""
    missing = [m for m in LOCAL_EXTRA_MODULES if importlib.util.find_spec(m) is None]
    if importlib.util.find_spec("tui.commands.serve") is None:
        missing.append("tui.commands.serve")
    return missing


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def health_ok(url: str, api_key: str, timeout: float = 2.0) -> bool:
    """Blocking: does `GET <url>/health` answer 200?"""
    request = urllib.request.Request(
        url.rstrip("/") + "/health", headers={"Authorization": f"Bearer {api_key}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (loopback)
            return int(response.status) == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def write_private(path: Path, text: str) -> None:
    """Write a file readable by its owner only (0600), even if it existed with wider modes."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def read_discovery(data_dir: Path) -> ServerInfo | None:
    """The server described by the discovery files, if both are readable and well-formed."""
    try:
        raw = json.loads((data_dir / DISCOVERY_FILE).read_text(encoding="utf-8"))
        key = (data_dir / KEY_FILE).read_text(encoding="utf-8").strip()
        url, pid = raw["url"], raw["pid"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(url, str) or not isinstance(pid, int) or not key:
        return None
    return ServerInfo(url=url, api_key=key, pid=pid, started_by_us=False)


class LocalServer:
    """One embedded server per data dir; reuses a live one, starts one otherwise."""

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        *,
        startup_timeout: float = 120.0,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.data_dir = data_dir
        self.port = port
        self.startup_timeout = startup_timeout
        self.extra_args = extra_args
        self._process: subprocess.Popen[bytes] | None = None
        self._info: ServerInfo | None = None

    @property
    def info(self) -> ServerInfo | None:
        return self._info

    def alive(self) -> bool:
        """Is the server we use still running (cheap: no request)?"""
        if self._info is None:
            return False
        if self._process is not None:
            return self._process.poll() is None
        if self._info.pid == -1:  # started by hand: assume alive; request errors will tell
            return True
        return pid_alive(self._info.pid)

    async def ensure(self) -> ServerInfo:
        """Reuse a live server for this data dir or start one; raises `LocalServerUnavailable`."""
        if self._info is not None and self.alive():
            return self._info
        self._info = None
        return await asyncio.to_thread(self._ensure_blocking)

    def _ensure_blocking(self) -> ServerInfo:
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LocalServerUnavailable(
                f"cannot create the local server's data dir {self.data_dir}: {exc.strerror}"
            ) from None
        with self._start_lock():
            found = read_discovery(self.data_dir)
            if found and pid_alive(found.pid) and health_ok(found.url, found.api_key):
                self._info = found
                return found
            manual = self._server_started_by_hand()
            if manual is not None:
                self._info = manual
                return manual
            missing = missing_local_requirements()
            if missing:
                raise LocalServerUnavailable(
                    f"the local server needs {', '.join(missing)}, which cannot be imported",
                    INSTALL_HINT,
                )
            self._info = self._start()
            return self._info

    @contextlib.contextmanager
    def _start_lock(self) -> Iterator[None]:
        try:
            import fcntl
        except ImportError:  # not POSIX: no cross-process lock
            yield
            return
        with open(self.data_dir / LOCK_FILE, "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _start(self) -> ServerInfo:
        port = self.port or free_port()
        api_key = self._read_or_create_key()
        command = [
            sys.executable,
            "-m",
            "tui",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--data-dir",
            str(self.data_dir),
            "--api-key",
            api_key,
            *self.extra_args,
        ]
        log_path = self.data_dir / LOG_FILE
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # the terminal's ctrl+c is the app's, not the server's
            )
        self._process = process
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self._process = None
                raise LocalServerUnavailable(
                    f"the local server exited with code {process.returncode}: "
                    f"{_log_tail(log_path)}",
                    f"see {log_path}",
                )
            if health_ok(url, api_key, timeout=1.0):
                discovery = {
                    "url": url,
                    "pid": process.pid,
                    "port": port,
                    "started_at": int(time.time()),
                }
                write_private(self.data_dir / DISCOVERY_FILE, json.dumps(discovery))
                return ServerInfo(url=url, api_key=api_key, pid=process.pid, started_by_us=True)
            time.sleep(0.2)
        self._terminate(process)
        raise LocalServerUnavailable(
            f"the local server did not answer /health within {self.startup_timeout:.0f} s",
            f"see {log_path}",
        )

    async def stop(self) -> None:
        """Stop the server if this object started it; a reused server keeps running."""
        process, self._process = self._process, None
        info, self._info = self._info, None
        if process is None:
            return
        await asyncio.to_thread(self._terminate, process)
        found = read_discovery(self.data_dir)
        if found is not None and info is not None and found.pid == info.pid:
            with contextlib.suppress(OSError):
                (self.data_dir / DISCOVERY_FILE).unlink()

    def _server_started_by_hand(self) -> ServerInfo | None:
        """A fixed port where `ft-tui serve` already answers with this data dir's key (the
        user started it in another terminal): use it. Its pid is unknown (-1)."""
        if not self.port:
            return None
        try:
            key = (self.data_dir / KEY_FILE).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return None
        url = f"http://127.0.0.1:{self.port}"
        if key and health_ok(url, key):
            return ServerInfo(url=url, api_key=key, pid=-1, started_by_us=False)
        return None

    def _read_or_create_key(self) -> str:
        """One key per data dir: keep the stored one so clients configured by hand still work."""
        path = self.data_dir / KEY_FILE
        try:
            key = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            key = ""
        if not key:
            key = "ftl-" + secrets.token_urlsafe(24)
            write_private(path, key + "\n")
        return key

    @staticmethod
    def _terminate(process: subprocess.Popen[bytes]) -> None:
        if process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _log_tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(text[-lines:]) or "(empty log)"
