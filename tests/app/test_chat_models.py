"""Picking models (fine-tuned, checkpoints, base; recent first) and comparing two side by side."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, OptionList

from screens.model_picker import ModelPickerScreen
from tests.app.chat_helpers import (
    SIZE,
    compare_with,
    is_idle,
    make_app,
    messages_of,
    open_chat,
    send,
)
from tests.app.helpers import wait_until
from tests.fake_openai.fixture import fake_openai  # noqa: F401
from tests.fake_openai.server import FakeOpenAI
from tui.services.conversations import ConversationStore
from tui.widgets.chat_message import MessageView


def _option_labels(picker: ModelPickerScreen) -> list[str]:
    options = picker.query_one(OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def test_picker_groups_fine_tuned_checkpoints_and_base_models(
    tmp_path: Path,
    fake_openai: FakeOpenAI,  # noqa: F811
) -> None:
    job = fake_openai.add_job(suffix="newer")
    fake_openai.run_to_end(job)
    newer_model = str(fake_openai.job(job).data["fine_tuned_model"])
    checkpoints = [str(c["fine_tuned_model_checkpoint"]) for c in fake_openai.job(job).checkpoints]
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        chat = await open_chat(pilot, app)
        assert chat.left.model == newer_model
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelPickerScreen))
        picker = app.screen
        assert isinstance(picker, ModelPickerScreen)
        await wait_until(pilot, lambda: len(_option_labels(picker)) > 4)
        labels = _option_labels(picker)
        assert labels[0] == "Fine-tuned"
        assert labels[1].split("  ")[0] == newer_model
        assert "Base models" in labels
        assert any(label.startswith("gpt-4.1-mini-2025-04-14") for label in labels)
        assert not any("embedding" in label for label in labels)
        assert checkpoints
        assert labels.index("Checkpoints") < labels.index("Base models")
        assert any(label.startswith(checkpoints[0]) for label in labels)
        # filter, then pick with Enter
        await pilot.press(*"nano")
        await pilot.press("enter")
        await wait_until(pilot, lambda: chat.left.model == "gpt-4.1-nano-2025-04-14")
        assert app.screen is chat


async def test_a_typed_model_id_can_be_used_and_escape_keeps_the_model(
    tmp_path: Path,
    fake_openai: FakeOpenAI,  # noqa: F811
) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        chat = await open_chat(pilot, app)
        before = chat.left.model
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelPickerScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is chat)
        assert chat.left.model == before
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelPickerScreen))
        app.screen.query_one(Input).value = "my-custom-model"
        await pilot.pause()
        await pilot.press("enter")
        await wait_until(pilot, lambda: chat.left.model == "my-custom-model")


async def test_compare_streams_the_same_prompt_to_two_models_at_once(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_openai: FakeOpenAI,  # noqa: F811
) -> None:
    fake_openai.chat.reply = "first turn"
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        chat = await open_chat(pilot, app)
        await send(pilot, app, "warm up")
        await wait_until(pilot, lambda: is_idle(app))
        await compare_with(pilot, app, "gpt-4.1-nano")
        assert chat.right.model == "gpt-4.1-nano-2025-04-14"
        assert chat.right.history == chat.left.history  # same conversation on both sides
        assert chat.right.display and chat.right.region.width > 0

        fake_openai.chat.reply = " ".join(f"t{i}" for i in range(20))
        fake_openai.chat.chunk_delay = 0.02
        arrivals: list[str] = []
        original = MessageView.append

        async def spy(message: MessageView, fragment: str) -> None:
            arrivals.append(str(message.parent.id if message.parent else ""))
            await original(message, fragment)

        monkeypatch.setattr(MessageView, "append", spy)
        await send(pilot, app, "compare this")
        await wait_until(
            pilot, lambda: len(chat.right.history) == 4 and len(chat.left.history) == 4
        )
        # both streamed at the same time: their fragments interleave
        assert arrivals.count("left-view") == arrivals.count("right-view") == 20
        first_right = arrivals.index("right-view")
        last_left = len(arrivals) - 1 - arrivals[::-1].index("left-view")
        assert first_right < last_left
        assert chat.left.history[-1].content == chat.right.history[-1].content
        assert "tok" in messages_of(app, "#right-view")[-1].footer_text
        # each side is kept as its own conversation, the shared first turn included
        await wait_until(pilot, lambda: is_idle(app))
        assert chat.right.conversation_id is not None
        kept = ConversationStore().load(chat.right.conversation_id)
        assert [m.content for m in kept.messages] == [m.content for m in chat.right.history]
        assert kept.model == "gpt-4.1-nano-2025-04-14"

        await pilot.press("f4")  # compare off again
        assert not chat.comparing and not chat.right.display
