"""Chat with a fine-tune opens with the system prompt its training file used most, says so, and
leaves a prompt the user typed alone."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import Input

from screens.chat import ChatScreen
from tests.app.chat_helpers import finished_job_model, make_app, open_chat
from tests.app.helpers import wait_until
from tests.fake_openai.fixture import fake_openai
from tests.fake_openai.server import FakeOpenAI
from tui.handoffs import ChatHandoff

__all__ = ["fake_openai"]

PROMPT = "You convert units. Answer with the number and unit only."


def _training(n: int = 12) -> bytes:
    lines = []
    for i in range(n):
        system = PROMPT if i % 4 else "Be brief."  # 9 of 12 use PROMPT
        messages = [
            {"role": "system", "content": system},
            {"role": "user", "content": f"{i} km in m?"},
            {"role": "assistant", "content": f"{i * 1000} m"},
        ]
        lines.append(json.dumps({"messages": messages}))
    return ("\n".join(lines) + "\n").encode()


def _finished_model(fake: FakeOpenAI) -> str:
    file_id = fake.add_file("units.jsonl", _training(), "fine-tune")
    return finished_job_model(fake, training_file=file_id, suffix="units")


async def test_a_fine_tune_opens_with_its_training_system_prompt(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    model = _finished_model(fake_openai)
    app = make_app(tmp_path)
    toasts: list[str] = []
    original = app.notify

    def record(message: str, *args: object, **kwargs: object) -> None:
        toasts.append(message)
        original(message, *args, **kwargs)  # type: ignore[arg-type]

    app.notify = record  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24)) as pilot:
        app.handoffs.chat = ChatHandoff(model)
        await pilot.press("3")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        field = app.screen.query_one("#system-prompt", Input)
        await wait_until(pilot, lambda: field.value == PROMPT)
        assert any("pre-filled" in t and "9 of 12" in t for t in toasts)


async def test_a_typed_system_prompt_is_kept(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    model = _finished_model(fake_openai)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        chat = await open_chat(pilot, app)
        field = chat.query_one("#system-prompt", Input)
        field.value = "My own prompt."
        app.handoffs.chat = ChatHandoff(model)
        chat.on_screen_resume()
        await wait_until(pilot, lambda: chat.left.model == model)
        assert any(w.group == "chat-system-prompt" for w in chat.workers)
        await wait_until(
            pilot,
            lambda: not any(w.group == "chat-system-prompt" and w.is_running for w in chat.workers),
        )
        assert field.value == "My own prompt."
