"""`m` in Datasets: Enter takes the highlighted match, not the literal text typed; the whole
title is readable at 80 columns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import OptionList, Static

from screens.prompts import ModelPrompt
from tests.app.helpers import text_of, wait_until
from tui.app import FtApp


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FT_TUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FT_TUI_CONFIG_DIR", str(tmp_path / "config"))


async def test_enter_takes_the_highlighted_match(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    row = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]}
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    app = FtApp(path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await pilot.press("m")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelPrompt))
        title = text_of(app.screen.query_one(".title", Static))
        assert "token limits and prices" in title and screen.model in title  # type: ignore[attr-defined]
        options = app.screen.query_one(OptionList)
        await wait_until(pilot, lambda: options.option_count > 3)
        await pilot.press(*"4.1-mini")
        await wait_until(pilot, lambda: options.option_count == 1)
        assert options.highlighted == 0
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, ModelPrompt))
        assert screen.model == "gpt-4.1-mini-2025-04-14"  # type: ignore[attr-defined]
