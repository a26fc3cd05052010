"""The tool dialogs open from the real app's Datasets screen on the selected file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.screen import Screen
from textual.widgets import Static

from screens.dataset_tools import ConvertScreen, FixScreen, SplitScreen
from tests.app.helpers import text_of, wait_until
from tests.tools.cli_helpers import chat, write_jsonl
from tui.app import FtApp


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FT_TUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FT_TUI_CONFIG_DIR", str(tmp_path / "config"))


def _text(screen: Screen[Any], widget_id: str) -> str:
    return text_of(screen.query_one(widget_id, Static))


async def test_split_from_the_datasets_screen_writes_both_files(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "qa.jsonl", [chat(f"q{i}", f"a{i}") for i in range(20)])
    app = FtApp(data)
    async with app.run_test(size=(140, 45)) as pilot:
        await wait_until(pilot, lambda: getattr(app.screen, "path", None) == data)
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, SplitScreen))
        dialog = app.screen
        await wait_until(
            pilot, lambda: "20 examples → 18 training" in _text(dialog, "#tool-preview")
        )
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "Done" in _text(dialog, "#tool-status"))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, SplitScreen))
    assert len((tmp_path / "qa.valid.jsonl").read_text(encoding="utf-8").splitlines()) == 2
    assert len((tmp_path / "qa.train.jsonl").read_text(encoding="utf-8").splitlines()) == 18


async def test_convert_and_fix_open_on_the_selected_file(tmp_path: Path) -> None:
    src = tmp_path / "faq.csv"
    src.write_text("question,answer\nHi?,Hello.\n", encoding="utf-8")
    app = FtApp(src)
    async with app.run_test(size=(140, 45)) as pilot:
        await wait_until(pilot, lambda: getattr(app.screen, "path", None) == src)
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ConvertScreen))
        dialog = app.screen
        assert isinstance(dialog, ConvertScreen) and dialog.source == src
        await wait_until(pilot, lambda: "user: Hi?" in _text(dialog, "#tool-preview"))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ConvertScreen))
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, FixScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, FixScreen))
    assert not (tmp_path / "faq.jsonl").exists()
