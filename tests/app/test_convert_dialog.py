"""Convert dialog: the preview never shows a mapping the form no longer has; an open dropdown
has a border."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Select, Static

from screens.tool_convert import ConvertScreen
from tests.app.helpers import text_of, wait_until
from tui.app import FtApp


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FT_TUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FT_TUI_CONFIG_DIR", str(tmp_path / "config"))


def _open(tmp_path: Path) -> FtApp:
    path = tmp_path / "t.csv"
    path.write_text("instruction,question,output\nDo A,What?,Done\nDo B,Why?,Ok\n")
    return FtApp(path)


async def test_the_preview_follows_the_user_column_even_when_it_is_cleared(
    tmp_path: Path,
) -> None:
    app = _open(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ConvertScreen))
        preview = app.screen.query_one("#tool-preview", Static)
        await wait_until(pilot, lambda: "user ← instruction" in text_of(preview))
        user = app.screen.query_one("#map-user", Select)
        user.value = "question"
        await wait_until(pilot, lambda: "user ← question" in text_of(preview))
        user.clear()  # no user column: the preview must not keep the old mapping
        await wait_until(pilot, lambda: "user ← question" not in text_of(preview))
        assert "No preview" in text_of(preview) and "user" in text_of(preview)


async def test_an_open_dropdown_has_a_border(tmp_path: Path) -> None:
    app = _open(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ConvertScreen))
        user = app.screen.query_one("#map-user", Select)
        await wait_until(pilot, lambda: user.value == "instruction+question" or bool(user.value))
        user.focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: user.expanded)
        overlay = user.query_one("SelectOverlay")
        assert overlay.styles.border_top[0] != "" and overlay.styles.border_bottom[0] != ""


async def test_dialog_messages_name_the_dialogs_fields_not_cli_options(tmp_path: Path) -> None:
    from tui.core.tools.errors import ToolError
    from tui.core.tools.files import check_output

    app = _open(tmp_path)
    existing = tmp_path / "t.jsonl"
    existing.write_text("old\n")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ConvertScreen))
        dialog = app.screen
        assert isinstance(dialog, ConvertScreen)
        preview = dialog.query_one("#tool-preview", Static)
        await wait_until(pilot, lambda: "user ←" in text_of(preview))
        with pytest.raises(ToolError) as refused:  # what the tool says when Write is refused
            check_output(existing, [tmp_path / "t.csv"], force=False)
        assert "--force" in str(refused.value)
        dialog.set_status(str(refused.value), error=True)
        status = text_of(dialog.query_one("#tool-status", Static))
        assert "--force" not in status and "tick 'Overwrite'" in status
        dialog.query_one("#map-user", Select).clear()
        await wait_until(pilot, lambda: "No preview" in text_of(preview))
        assert "--map" not in text_of(preview) and "user column" in text_of(preview)
