"""F8 exports what was sent at each turn: a system prompt set after turn 1 is not moved to the
start of the turns sent without it."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import Input

from tests.app.chat_helpers import SIZE, is_idle, make_app, open_chat, send
from tests.app.helpers import wait_until
from tests.fake_openai.fixture import fake_openai
from tests.fake_openai.server import FakeOpenAI
from tui.services.conversations import ConversationStore

__all__ = ["fake_openai"]


async def test_export_keeps_a_late_system_prompt_where_it_was_sent(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        chat = await open_chat(pilot, app)

        async def turn(text: str, turns: int) -> None:
            await send(pilot, app, text)
            await wait_until(pilot, lambda: len(chat.left.history) >= 2 * turns and is_idle(app))

        await turn("first question", 1)
        chat.query_one("#system-prompt", Input).value = "Answer in metres."
        await turn("second question", 2)
        store = ConversationStore()
        await wait_until(pilot, lambda: bool(store.recent()) and store.recent()[0].turns == 2)
        await pilot.press("f8")
        exports = store.path.parent / "exports"
        await wait_until(pilot, lambda: exports.is_dir() and any(exports.iterdir()))
        lines = next(exports.iterdir()).read_text(encoding="utf-8").splitlines()
        examples = [json.loads(line)["messages"] for line in lines]
        assert [m["role"] for m in examples[0]] == ["user", "assistant"]  # turn 1: no system
        assert examples[0][0]["content"] == "first question"
        assert examples[1][0] == {"role": "system", "content": "Answer in metres."}
        assert [m["content"] for m in examples[1][1:4:2]] == ["first question", "second question"]
