"""Compare at 80 columns: the two pane titles show what tells the models apart."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Static

from screens.chat import ChatScreen
from tests.app.helpers import text_of, wait_until
from tests.fake_openai.fixture import fake_openai
from tests.fake_openai.server import FakeOpenAI
from tui.app import FtApp
from tui.services.connection import connection_for

__all__ = ["fake_openai"]


async def test_compare_titles_differ_where_they_are_visible(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    models = []
    for _ in range(2):
        job_id = fake_openai.add_job(suffix="units")
        fake_openai.run_to_end(job_id)
        models.append(str(fake_openai.job(job_id).data["fine_tuned_model"]))
    app = FtApp(tmp_path, connection=connection_for())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        chat = app.screen
        assert isinstance(chat, ChatScreen)
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
