"""Mode 1 focus: the tree cursor opens the highlighted file (debounced) and keeps the focus so
the arrows keep browsing, also at 80 columns; the focused pane's title or border is coloured."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import Static, Tree

from tests.app.helpers import text_of, wait_until
from tui.app import FtApp


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FT_TUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FT_TUI_CONFIG_DIR", str(tmp_path / "config"))


def _write(path: Path, answer: str) -> None:
    row = {
        "messages": [{"role": "user", "content": "Q?"}, {"role": "assistant", "content": answer}]
    }
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")


@pytest.mark.parametrize("size", [(80, 24), (140, 40)])
async def test_the_tree_cursor_opens_files_and_keeps_the_focus(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    data = tmp_path / "sets"
    data.mkdir()
    _write(data / "a.jsonl", "Alpha answer")
    _write(data / "b.jsonl", "Bravo answer")
    app = FtApp(data)
    async with app.run_test(size=size) as pilot:
        tree = app.screen.query_one("#dataset-tree", Tree)
        await wait_until(pilot, lambda: len(tree.root.children) == 2)

        def body() -> str:
            return text_of(app.screen.query_one("#example-body", Static))

        tree.focus()
        await pilot.press("down")  # cursor on a.jsonl (the root line is first)
        await wait_until(pilot, lambda: "Alpha answer" in body())
        assert app.screen.focused is tree and tree.region.width > 0
        await pilot.press("down")
        await wait_until(pilot, lambda: "Bravo answer" in body())
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.focused is tree and tree.region.width > 0  # arrows still browse
        await pilot.press("up")
        await wait_until(pilot, lambda: "Alpha answer" in body())


async def test_the_focused_pane_is_marked_by_its_title_colour(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    _write(path, "Alpha answer")
    app = FtApp(path)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: "Alpha" in text_of(app.screen.query_one("#example-body")))
        title = app.screen.query_one("#example-title")
        lint_title = app.screen.query_one("#lint-title")
        app.screen.query_one("#example-view").focus()
        await pilot.pause()
        focused_bg = title.styles.background
        assert focused_bg != lint_title.styles.background
        app.screen.query_one("#lint-tree").focus()
        await wait_until(pilot, lambda: lint_title.styles.background == focused_bg, timeout=5)
        assert title.styles.background != focused_bg


async def test_a_file_written_while_away_shows_up_in_the_tree(tmp_path: Path) -> None:
    _write(tmp_path / "a.jsonl", "Alpha answer")
    app = FtApp(tmp_path)
    async with app.run_test(size=(140, 40)) as pilot:
        tree = app.screen.query_one("#dataset-tree", Tree)
        await wait_until(pilot, lambda: len(tree.root.children) == 1)
        datasets = app.screen
        await pilot.press("f12")  # away for a moment (as when Chat saves a turn with F5)
        await wait_until(pilot, lambda: app.screen is not datasets)
        _write(tmp_path / "chat_examples.jsonl", "Saved turn")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is datasets)
        await wait_until(pilot, lambda: len(tree.root.children) == 2)
        assert any("chat_examples.jsonl" in str(node.label) for node in tree.root.children)
