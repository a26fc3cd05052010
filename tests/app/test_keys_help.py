"""`?`/F1 lists the screen's own actions first in a panel that scrolls; Home/End (first/last
example) are listed and reachable from the palette; each action appears once in the palette;
in Chat, F1 opens help (shown in the footer) and Escape only offers "Stop reply" while one streams.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.containers import VerticalScroll
from textual.widgets import Static

from screens.chat import ChatScreen
from screens.help import KeysScreen
from tests.app.helpers import text_of, wait_until
from tests.fake_openai.fixture import fake_openai
from tests.fake_openai.server import FakeOpenAI
from tui.app import FtApp
from tui.services.connection import connection_for
from tui.widgets.prompt_input import PromptInput

__all__ = ["fake_openai"]


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FT_TUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FT_TUI_CONFIG_DIR", str(tmp_path / "config"))


def _rows(app: FtApp) -> list[str]:
    text = text_of(app.screen.query_one("#keys-table", Static))
    return [line.strip() for line in text.splitlines() if line.strip()]


def _dataset(tmp_path: Path) -> Path:
    row = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]}
    path = tmp_path / "train.jsonl"
    path.write_text((json.dumps(row) + "\n") * 3, encoding="utf-8")
    return path


async def test_help_lists_the_screens_actions_first_and_scrolls(tmp_path: Path) -> None:
    app = FtApp(_dataset(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("?")
        await wait_until(pilot, lambda: isinstance(app.screen, KeysScreen))
        rows = _rows(app)
        assert rows[0] == "Datasets keys"
        own = rows[: rows.index("Everywhere")]
        for action in ("Launch job", "Convert", "Split", "Fix", "First example", "Last example"):
            assert any(action in row for row in own), action
        assert any(row.startswith("home") and "First example" in row for row in own)
        assert not any("Focus Next" in row for row in own)  # Textual's own keys come later
        box = app.screen.query_one("#keys-box", VerticalScroll)
        assert len(rows) > 24
        await wait_until(pilot, lambda: box.max_scroll_y > 0)  # more keys than rows at 24 lines
        await pilot.press("pagedown")
        await wait_until(pilot, lambda: box.scroll_y > 0)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, KeysScreen))


async def test_home_and_end_move_to_the_first_and_last_example(tmp_path: Path) -> None:
    app = FtApp(_dataset(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: getattr(screen, "index", None) is not None)
        screen.query_one("#example-view").focus()
        await pilot.press("end")
        await wait_until(pilot, lambda: getattr(screen, "current", 0) == 2)
        await pilot.press("home")
        await wait_until(pilot, lambda: getattr(screen, "current", 2) == 0)


async def test_palette_lists_each_action_once_with_readable_keys(tmp_path: Path) -> None:
    app = FtApp(_dataset(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        commands = list(app.get_system_commands(app.screen))
        titles = [command.title for command in commands]
        assert len(titles) == len(set(titles)), titles
        assert "First example" in titles and "Last example" in titles
        assert titles.count("Keys") == 1
        assert not any("question_mark" in command.help for command in commands)


async def test_chat_offers_f1_for_help_and_escape_only_stops_a_streaming_reply(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    app = FtApp(tmp_path, connection=connection_for())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        chat = app.screen
        prompt = chat.query_one("#prompt", PromptInput)
        prompt.focus()
        await pilot.pause()
        active = chat.active_bindings
        assert active["f1"].binding.action.endswith("toggle_help") and active["f1"].binding.show
        shown: dict[str, str] = {}  # the footer: each action once, in binding order
        for binding in active.values():
            if binding.binding.show and binding.binding.action not in shown:
                key = app.get_key_display(binding.binding)
                shown[binding.binding.action] = f"{key} {binding.binding.description}"
        assert "f1 Keys" in "  ".join(shown.values())[:70]  # visible at 80 columns
        assert active["escape"].binding.description == "Leave prompt"
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, KeysScreen))
        assert "?" not in prompt.text
        assert _rows(app)[0] == "Chat keys"


async def test_the_same_toast_is_not_stacked_twice(tmp_path: Path) -> None:
    app = FtApp(_dataset(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(3):
            app.notify("Models not listed: connection refused", severity="warning")
        app.notify("Something else")
        await pilot.pause()
        shown = [n.message for n in app._notifications]  # what is on screen now
        assert shown.count("Models not listed: connection refused") == 1
        assert len(shown) == 2
