"""An unticked checkbox is visibly empty; a ticked one shows its mark."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Checkbox

from screens.tool_convert import ConvertScreen
from tests.app.helpers import wait_until
from tui.app import FtApp


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FT_TUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FT_TUI_CONFIG_DIR", str(tmp_path / "config"))


async def test_unticked_is_empty_and_ticked_is_marked(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("question,answer\nHi?,Yo\n", encoding="utf-8")
    app = FtApp(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ConvertScreen))
        box = app.screen.query(Checkbox).first()
        for focused in (False, True):
            if focused:
                box.focus()
            box.value = False
            await pilot.pause()
            off = box.get_component_rich_style("toggle--button")
            assert off.color == off.bgcolor, "the X of an unticked box must not show"
            box.value = True
            await pilot.pause()
            on = box.get_component_rich_style("toggle--button")
            assert on.color != on.bgcolor
