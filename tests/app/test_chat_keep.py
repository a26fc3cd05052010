"""Closing the loop: save a turn (edited) into a dataset after linting it, reopen a kept
conversation, export conversations as chat-format JSONL, copy a reply."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import Checkbox, Input, OptionList, Static, TextArea

from screens.model_picker import PickerScreen
from screens.save_example import SaveExampleScreen
from tests.app.chat_helpers import SIZE, is_idle, make_app, messages_of, open_chat, send
from tests.app.helpers import text_of, wait_until
from tests.fake_openai.fixture import fake_openai  # noqa: F401
from tests.fake_openai.server import FakeOpenAI


async def test_a_turn_is_saved_after_editing_and_linting(
    tmp_path: Path,
    fake_openai: FakeOpenAI,  # noqa: F811
) -> None:
    dataset = tmp_path / "train.jsonl"
    dataset.write_text('{"messages": [{"role": "user", "content": "x"}]}\n', encoding="utf-8")
    fake_openai.chat.reply = "Paris, I think."
    app = make_app(dataset)
    async with app.run_test(size=SIZE) as pilot:
        chat = await open_chat(pilot, app)
        chat.query_one("#system-prompt", Input).value = "You answer geography questions."
        await send(pilot, app, "Capital of France?")
        await wait_until(pilot, lambda: len(chat.left.history) == 2 and is_idle(app))
        await pilot.press("f5")
        await wait_until(pilot, lambda: isinstance(app.screen, SaveExampleScreen))
        modal = app.screen
        assert modal.query_one("#example-path", Input).value == str(dataset)
        reply = modal.query_one("#example-reply", TextArea)
        assert reply.text == "Paris, I think."
        assert modal.query_one("#example-whole", Checkbox).disabled  # one turn only

        # a special token is a lint error: nothing is written
        reply.load_text("Paris<|endoftext|>")
        await pilot.press("f5")
        lint = modal.query_one("#example-lint", Static)
        await wait_until(pilot, lambda: "Not saved" in text_of(lint))
        assert "forbidden_special_token" in text_of(lint)
        # an empty reply is only a warning: shown first, written on a second Save
        reply.load_text("")
        await pilot.press("f5")
        await wait_until(pilot, lambda: "press Save again" in text_of(lint))
        assert "empty_assistant_message" in text_of(lint)
        assert len(dataset.read_text(encoding="utf-8").splitlines()) == 1

        reply.load_text("Paris.")
        await pilot.press("f5")
        await wait_until(pilot, lambda: app.screen is chat)
        lines = dataset.read_text(encoding="utf-8").splitlines()
        assert len(lines) == 2
        assert json.loads(lines[1]) == {
            "messages": [
                {"role": "system", "content": "You answer geography questions."},
                {"role": "user", "content": "Capital of France?"},
                {"role": "assistant", "content": "Paris."},
            ]
        }
        assert any("Line 2 of" in n.message for n in app._notifications)
        # the conversation itself keeps the model's own words
        assert chat.left.history[-1].content == "Paris, I think."


async def test_saving_the_whole_conversation_into_a_new_file(
    tmp_path: Path,
    fake_openai: FakeOpenAI,  # noqa: F811
) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        chat = await open_chat(pilot, app)
        for turn in ("one", "two"):
            fake_openai.chat.reply = f"answer {turn}"
            await send(pilot, app, turn)
            await wait_until(pilot, lambda: is_idle(app))
        await pilot.press("f5")
        await wait_until(pilot, lambda: isinstance(app.screen, SaveExampleScreen))
        modal = app.screen
        target = tmp_path / "new" / "examples.jsonl"
        assert modal.query_one("#example-path", Input).value == str(
            tmp_path / "chat_examples.jsonl"
        )
        modal.query_one("#example-path", Input).value = str(target)
        modal.query_one("#example-whole", Checkbox).value = True
        await pilot.press("f5")
        lint = modal.query_one("#example-lint", Static)
        await wait_until(pilot, lambda: "no_system_message" in text_of(lint))
        assert not target.exists()
        await pilot.press("f5")  # only a warning: the second Save writes
        await wait_until(pilot, lambda: app.screen is chat)
        [line] = target.read_text(encoding="utf-8").splitlines()
        roles = [m["role"] for m in json.loads(line)["messages"]]
        assert roles == ["user", "assistant", "user", "assistant"]
        assert chat.dataset_path == target


async def test_nothing_to_save_before_a_reply(
    tmp_path: Path,
    fake_openai: FakeOpenAI,  # noqa: F811
) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        chat = await open_chat(pilot, app)
        await pilot.press("f5")
        await pilot.pause()
        assert app.screen is chat
        assert any("Nothing to save" in n.message for n in app._notifications)


async def test_conversations_are_kept_reopened_and_exported(
    tmp_path: Path,
    fake_openai: FakeOpenAI,  # noqa: F811
) -> None:
    fake_openai.chat.reply = "kept answer"
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        chat = await open_chat(pilot, app)
        await send(pilot, app, "remember this")
        await wait_until(pilot, lambda: len(chat.left.history) == 2 and is_idle(app))
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: not messages_of(app))
        assert chat.left.history == []

        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
        options = app.screen.query_one(OptionList)
        await wait_until(pilot, lambda: options.option_count == 1)
        assert "remember this" in str(options.get_option_at_index(0).prompt)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is chat and len(messages_of(app)) == 2)
        assert [m.text for m in messages_of(app)] == ["remember this", "kept answer"]

        # continuing the reopened conversation appends to it
        fake_openai.chat.reply = "more"
        await send(pilot, app, "and this")
        await wait_until(pilot, lambda: len(chat.left.history) == 4 and is_idle(app))

        await pilot.press("f8")
        exports = tmp_path / "fake-data" / "exports"
        await wait_until(pilot, lambda: exports.is_dir() and any(exports.iterdir()))
        [export] = list(exports.iterdir())

        def toasts() -> list[str]:
            return [n.message for n in app._notifications]

        await wait_until(pilot, lambda: "Export path copied to the clipboard." in toasts())
        assert f"1 conversation written to {export}" in toasts()
        [line] = export.read_text(encoding="utf-8").splitlines()
        assert [m["content"] for m in json.loads(line)["messages"]] == [
            "remember this",
            "kept answer",
            "and this",
            "more",
        ]


async def test_copy_reply_never_crashes(
    tmp_path: Path,
    fake_openai: FakeOpenAI,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_openai.chat.reply = "copy me"
    app = make_app(tmp_path)
    copied: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        chat = await open_chat(pilot, app)
        await send(pilot, app, "hi")
        await wait_until(pilot, lambda: len(chat.left.history) == 2)
        monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
        await pilot.press("f9")
        assert copied == ["copy me"]
        assert any(n.message == "Reply copied to the clipboard." for n in app._notifications)

        def broken(_text: str) -> None:
            raise OSError("no terminal")

        monkeypatch.setattr(app, "copy_to_clipboard", broken)
        await pilot.press("f9")
        await pilot.pause()
        assert any("refused the clipboard" in n.message for n in app._notifications)
        await send(pilot, app, "still there?")  # the chat goes on after the refusal
        await wait_until(pilot, lambda: len(chat.left.history) == 4)
