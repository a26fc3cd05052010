"""The `fake_openai` pytest fixture: a started `FakeOpenAI` plus an environment that makes
`tui.services.connection.connection_for()` (and so `app.connection`) talk to it.

Use it from any test module or conftest::

    from tests.fake_openai.fixture import fake_openai  # noqa: F401  (registers the fixture)

    async def test_jobs_screen_lists_jobs(fake_openai: FakeOpenAI) -> None:
        job_id = fake_openai.add_job()
        fake_openai.advance(job_id, 3)
        conn = connection_for()                       # the "env" profile → fake_openai.base_url
        client = await conn.client()
        ...

It sets OPENAI_BASE_URL / OPENAI_API_KEY, removes FT_TUI_PROFILE and points FT_TUI_CONFIG_DIR
and FT_TUI_DATA_DIR at fresh temporary directories, so the user's own settings, cache and keys
are never read.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_openai.server import FakeOpenAI


@pytest.fixture
def fake_openai(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI().start()
    for var in ("FT_TUI_PROFILE", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", fake.api_key)
    monkeypatch.setenv("FT_TUI_CONFIG_DIR", str(tmp_path / "fake-config"))
    monkeypatch.setenv("FT_TUI_DATA_DIR", str(tmp_path / "fake-data"))
    try:
        yield fake
    finally:
        fake.stop()
