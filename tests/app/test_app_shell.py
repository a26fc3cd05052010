"""Global behaviour: mode keys, help, palette, the in-app log, remapped keys, settings errors."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from textual.command import CommandPalette
from textual.widgets import RichLog

from screens.help import KeysScreen
from tests.app.helpers import wait_until
from tui.app import FtApp


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FT_TUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FT_TUI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("FT_TUI_CONFIG_FILE", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    data = tmp_path / "datasets"
    data.mkdir()
    row = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}
    (data / "a.jsonl").write_text(json.dumps(row) + "\n")
    return data


async def test_question_mark_toggles_the_key_help(tmp_path: Path) -> None:
    app = FtApp(tmp_path / "datasets")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, KeysScreen))
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: not isinstance(app.screen, KeysScreen))


async def test_palette_offers_modes_and_the_screen_actions(tmp_path: Path) -> None:
    app = FtApp(tmp_path / "datasets")
    async with app.run_test(size=(120, 36)) as pilot:
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert "Go to Jobs" in titles and "Go to Chat" in titles
        assert "Go to line" in titles and "Launch job" in titles  # bound on the Datasets screen
        assert any(t.startswith("Use profile: local") for t in titles)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))


async def test_f12_shows_the_log_with_recent_messages(tmp_path: Path) -> None:
    app = FtApp(tmp_path / "datasets")
    logging.getLogger().addHandler(app.log_buffer)
    try:
        logging.getLogger("ft-tui.test").warning("something to see in the log")
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.press("f12")
            await wait_until(pilot, lambda: bool(app.screen.query(RichLog)))
            log = app.screen.query_one(RichLog)
            await wait_until(
                pilot, lambda: any("something to see in the log" in line.text for line in log.lines)
            )
            await pilot.press("escape")
            await wait_until(pilot, lambda: not app.screen.query(RichLog))
    finally:
        logging.getLogger().removeHandler(app.log_buffer)


async def test_keymap_from_settings_remaps_a_binding(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "config.toml").write_text('[keymap]\n"datasets.goto" = "ctrl+g"\n')
    app = FtApp(tmp_path / "datasets" / "a.jsonl")
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "LineNumberPrompt")


async def test_broken_settings_file_is_explained_not_fatal(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "config.toml").write_text("[keymap\nbroken = ")
    app = FtApp(tmp_path / "datasets")
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(
            pilot, lambda: any("config.toml" in str(n.message) for n in app._notifications)
        )
        assert type(app.screen).__name__ == "DatasetsScreen"  # the app opened as usual
