"""The embedded `ft-tui serve`: start on demand, reuse for the same data dir, stop on exit, and
clear messages when it cannot run. Starts the real server (a fraction of a second)."""

from __future__ import annotations

import json
import socket
import stat
from pathlib import Path

import pytest

from tui.services import local_server
from tui.services.connection import Connection, connection_for
from tui.services.errors import describe_error
from tui.services.local_server import LocalServer, LocalServerUnavailable, pid_alive
from tui.services.profiles import Profile

pytestmark = [
    pytest.mark.local,
    pytest.mark.skipif(
        bool(local_server.missing_local_requirements()),
        reason="needs the local extra and tui/commands/serve.py: "
        + ", ".join(local_server.missing_local_requirements()),
    ),
]


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "FT_TUI_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("FT_TUI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("FT_TUI_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data" / "local"


async def test_connection_starts_uses_and_stops_the_embedded_server(isolated: Path) -> None:
    conn = connection_for()
    assert conn.profile.name == "local"
    states: list[str] = []
    conn.add_listener(lambda h: states.append(h.state))
    client = await conn.client()
    models = await client.models.list()
    assert models.data  # the server lists its base models
    assert states == ["connecting", "ok"]
    discovery = json.loads((isolated / "server.json").read_text())
    key_file = isolated / "api_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert discovery["url"].startswith("http://127.0.0.1:") and pid_alive(discovery["pid"])
    assert key_file.read_text().strip() not in (isolated / "server.json").read_text()
    await conn.aclose()
    assert not (isolated / "server.json").exists()
    assert not pid_alive(discovery["pid"])  # terminated and reaped


async def test_second_user_reuses_and_does_not_stop_it(isolated: Path) -> None:
    first = LocalServer(isolated)
    info = await first.ensure()
    try:
        second = LocalServer(isolated)
        reused = await second.ensure()
        assert (reused.url, reused.pid, reused.api_key) == (info.url, info.pid, info.api_key)
        assert not reused.started_by_us and info.started_by_us
        await second.stop()
        assert first.alive() and pid_alive(info.pid)
    finally:
        await first.stop()
    # a stale discovery file (dead pid) is ignored: a fresh server starts
    (isolated / "server.json").write_text(json.dumps({"url": info.url, "pid": 999999}))
    third = LocalServer(isolated)
    fresh = await third.ensure()
    assert fresh.started_by_us and fresh.pid != info.pid
    assert fresh.api_key == info.api_key  # one key per data dir
    await third.stop()


async def test_port_in_use_is_reported_with_the_servers_words(isolated: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        server = LocalServer(isolated, port=port, startup_timeout=20)
        with pytest.raises(LocalServerUnavailable) as caught:
            await server.ensure()
    message = str(describe_error(caught.value))
    assert "already in use" in message and "server-console.log" in message


async def test_missing_local_extra_is_a_clear_state(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local_server, "missing_local_requirements", lambda: ["torch", "peft"])
    conn = Connection(Profile(name="local", kind="local", source="built-in"))
    with pytest.raises(LocalServerUnavailable) as caught:
        await conn.client()
    assert "install ft-tui[local] or set OPENAI_API_KEY" in str(describe_error(caught.value))
    assert conn.health.state == "down" and "torch, peft" in conn.health.reason
    assert not (isolated / "server.json").exists()


async def test_server_started_by_hand_on_the_profiles_port_is_used(isolated: Path) -> None:
    starter = LocalServer(isolated)
    info = await starter.ensure()
    (isolated / "server.json").unlink()  # as if started in a terminal: no discovery file
    try:
        port = int(info.url.rsplit(":", 1)[1])
        by_port = LocalServer(isolated, port=port)
        found = await by_port.ensure()
        assert found.url == info.url and found.pid == -1 and not found.started_by_us
        assert by_port.alive()
        await by_port.stop()
        assert starter.alive()
    finally:
        await starter.stop()
