"""A fixed world for the SVG snapshots: everything on screen that could differ between two runs
or two machines is pinned here.

- Wall-clock time is frozen (time-machine, not ticking) at `NOW` in UTC, so created dates, "days
  left", "updated HH:MM" and the fake server's timestamps are the same on every run. Monotonic
  clocks keep running: Textual, asyncio and the polling intervals need them.
- The backend is the loopback HTTP fake OpenAI (`fake_openai`), which hands out counter ids
  (`ftjob-000000000002`…) in the order a test creates things; its port never reaches the screen.
- Settings, data and cache live in fresh temporary directories (the fixture's env vars), and the
  working directory is a temporary one holding `datasets/`, so the app is started on a relative
  path and no temporary path is ever drawn.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.fake_openai.fixture import fake_openai
from tests.fake_openai.server import FakeOpenAI

__all__ = ["fake_openai"]

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=ZoneInfo("UTC"))
ASSET_DATASETS = Path(__file__).resolve().parents[2] / "assets" / "datasets"
DATASET_FILES = ("common_mistakes.jsonl", "toy_chat_fine_tuning.jsonl")


@pytest.fixture
def world(
    fake_openai: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeOpenAI]:
    """The fake OpenAI, a frozen UTC clock and a working directory with `datasets/` in it."""
    for var in ("FT_TUI_CONFIG_FILE", "NO_COLOR"):
        monkeypatch.delenv(var, raising=False)
    datasets = tmp_path / "datasets"
    datasets.mkdir()
    for name in DATASET_FILES:
        shutil.copyfile(ASSET_DATASETS / name, datasets / name)
    monkeypatch.chdir(tmp_path)
    # A ZoneInfo destination also sets TZ for the duration, so local-time formatting is UTC.
    with time_machine.travel(NOW, tick=False):
        yield fake_openai
