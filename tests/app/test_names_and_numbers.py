"""Names and numbers: tree names keep their ends, counts agree with their nouns, one number
format, and an empty file says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.style import Style
from textual.widgets import Static

from tests.app.helpers import text_of, wait_until
from tui.app import FtApp
from tui.widgets.dataset_tree import DatasetTree

ROW = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]}


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FT_TUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FT_TUI_CONFIG_DIR", str(tmp_path / "config"))


async def test_long_tree_names_keep_the_end_that_tells_them_apart(tmp_path: Path) -> None:
    names = ["drone_training_dataset.jsonl", "drone_training_dataset.train.jsonl"]
    names.append("drone_training_dataset.valid.jsonl")
    for name in names:
        (tmp_path / name).write_text(json.dumps(ROW) + "\n", encoding="utf-8")
    app = FtApp(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        tree = app.screen.query_one(DatasetTree)
        await wait_until(pilot, lambda: len(tree.root.children) == 3)
        width = tree.scrollable_content_region.width
        shown = [tree.render_label(n, Style(), Style()).plain for n in tree.root.children]
        assert len(set(shown)) == 3
        assert all(len(label) <= width - tree.guide_depth - 1 for label in shown)
        assert any(label.endswith("valid.jsonl") for label in shown), (shown, width)


async def test_one_example_is_singular_and_big_line_numbers_share_one_format(
    tmp_path: Path,
) -> None:
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(ROW) + "\n", encoding="utf-8")
    app = FtApp(path)
    async with app.run_test(size=(100, 30)) as pilot:
        summary = app.screen.query_one("#lint-summary", Static)
        await wait_until(pilot, lambda: "1 example (" in text_of(summary))  # the final report
        assert "1 examples" not in text_of(summary)
    big = tmp_path / "big.jsonl"
    big.write_text((json.dumps(ROW) + "\n") * 1200, encoding="utf-8")
    app = FtApp(big)
    async with app.run_test(size=(100, 30)) as pilot:
        title = app.screen.query_one("#example-title", Static)
        await wait_until(pilot, lambda: "of 1,200" in text_of(title))
        await pilot.press("end")
        await wait_until(pilot, lambda: "line 1,200 of 1,200" in text_of(title))


async def test_an_empty_file_is_called_empty_not_line_1_of_0(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("", encoding="utf-8")
    app = FtApp(path)
    async with app.run_test(size=(100, 30)) as pilot:
        title = app.screen.query_one("#example-title", Static)
        await wait_until(pilot, lambda: "empty file" in text_of(title))
        assert "of 0" not in text_of(title)


async def test_one_job_is_one_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.app.jobs_helpers import fast_polling, go_to_jobs, make_app
    from tests.fake_openai.server import FakeOpenAI

    fast_polling(monkeypatch)
    fake = FakeOpenAI().start()
    try:
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", fake.api_key)
        monkeypatch.delenv("FT_TUI_PROFILE", raising=False)
        fake.add_job()
        app = make_app(tmp_path)
        async with app.run_test(size=(80, 24)) as pilot:
            await go_to_jobs(pilot, app)
            status = app.screen.query_one("#jobs-status", Static)
            await wait_until(pilot, lambda: "1 job," in text_of(status))
    finally:
        fake.stop()
