"""Compare at 80 columns: the two pane titles show what tells the models apart."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from tests.app.chat_helpers import finished_job_model, make_app, open_chat
from tests.app.helpers import text_of
from tests.fake_openai.fixture import fake_openai
from tests.fake_openai.server import FakeOpenAI

__all__ = ["fake_openai"]


async def test_compare_titles_differ_where_they_are_visible(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    models = [finished_job_model(fake_openai, suffix="units") for _ in range(2)]
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        chat = await open_chat(pilot, app)
        chat.left.set_model(models[0])
        chat.right.set_model(models[1])
        chat.add_class("comparing")
        await pilot.pause()
        titles = []
        for view in (chat.left, chat.right):
            title = view.query_one(".model-title", Static)
            width = title.content_region.width
            assert 0 < width < 40
            titles.append(text_of(title)[:width])
        assert titles[0] != titles[1]
        assert titles[0].startswith("units · ")
