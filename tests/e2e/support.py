"""Shared by the end-to-end tests: a Connection to the real local server started by the
`local_server` / `shared_server` fixtures of `tests.local.conftest`."""

from __future__ import annotations

import pytest

from tests.local.conftest import API_KEY, LocalServer
from tui.services.connection import Connection
from tui.services.profiles import Profile


def local_connection(server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> Connection:
    """A connection to `server` as a compatible profile, failing fast instead of retrying."""
    monkeypatch.setenv("FT_TUI_E2E_LOCAL_KEY", API_KEY)
    profile = Profile(
        name="e2e-local",
        kind="compatible",
        source="test",
        base_url=server.base_url,
        api_key_env="FT_TUI_E2E_LOCAL_KEY",
    )
    return Connection(profile, max_retries=0)
