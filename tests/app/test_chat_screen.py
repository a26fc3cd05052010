"""The Chat screen as a user meets it, against the fake OpenAI server's scripted stream: the
model it opens on, streaming replies with metrics, Escape, errors that keep the prompt."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from tests.app.chat_helpers import (
    SIZE,
    finished_job_model,
    is_idle,
    make_app,
    messages_of,
    open_chat,
    prompt_of,
    send,
)
from tests.app.helpers import wait_until
from tests.fake_openai.fixture import fake_openai  # noqa: F401
from tests.fake_openai.server import FakeOpenAI
from tui.handoffs import ChatHandoff


async def test_opens_on_the_newest_fine_tuned_model_and_streams_a_reply(
    tmp_path: Path,
    fake_openai: FakeOpenAI,  # noqa: F811
) -> None:
    tuned = finished_job_model(fake_openai)
    fake_openai.chat.reply = "**Paris** is the capital."
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        chat = await open_chat(pilot, app)
        assert chat.left.model == tuned
        assert app.focused is prompt_of(app)
        await send(pilot, app, "Capital of France?")
        await wait_until(
            pilot,
            lambda: (
                len(messages_of(app)) == 2 and messages_of(app)[1].state == "done" and is_idle(app)
            ),
        )
        user, answer = messages_of(app)
        assert user.text == "Capital of France?"
        assert answer.text == "**Paris** is the capital."
        assert answer.state == "done"
        # tokens in/out from usage, time to first token, rate and the fine-tuned price
        assert answer.footer_text.startswith("10 → 4 tok · first ")
        assert "$" in answer.footer_text
        assert prompt_of(app).text == ""


async def test_a_handed_over_model_wins_and_is_consumed(
    tmp_path: Path,
    fake_openai: FakeOpenAI,  # noqa: F811
) -> None:
    finished_job_model(fake_openai)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.handoffs.chat = ChatHandoff("gpt-4.1-mini-2025-04-14")
        chat = await open_chat(pilot, app)
        assert chat.left.model == "gpt-4.1-mini-2025-04-14"
        assert app.handoffs.chat is None
        await pilot.press("escape")  # leave the prompt so mode keys work
        await pilot.press("1")
        app.handoffs.chat = ChatHandoff("gpt-4.1-nano-2025-04-14")
        await pilot.press("3")
        await wait_until(pilot, lambda: chat.left.model == "gpt-4.1-nano-2025-04-14")
        assert app.handoffs.chat is None


async def test_without_fine_tuned_models_the_default_base_model_is_used(
    tmp_path: Path,
    fake_openai: FakeOpenAI,  # noqa: F811
) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        chat = await open_chat(pilot, app)
        assert chat.left.model == "gpt-4o-mini-2024-07-18"


async def test_multi_turn_sends_the_history_and_keeps_the_conversation(
    tmp_path: Path,
    fake_openai: FakeOpenAI,  # noqa: F811
) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        chat = await open_chat(pilot, app)
        fake_openai.chat.reply = "first answer"
        await send(pilot, app, "one")
        await wait_until(pilot, lambda: len(chat.left.history) == 2)
        fake_openai.chat.reply = "second answer"
        await send(pilot, app, "two")
        await wait_until(pilot, lambda: len(chat.left.history) == 4)
        assert [m.content for m in chat.left.history] == [
            "one",
            "first answer",
            "two",
            "second answer",
        ]
        assert [m.text for m in messages_of(app)] == [
            "one",
            "first answer",
            "two",
            "second answer",
        ]


async def test_escape_stops_a_reply_and_gives_the_prompt_back(
    tmp_path: Path,
    fake_openai: FakeOpenAI,  # noqa: F811
) -> None:
    fake_openai.chat.reply = " ".join(f"word{i}" for i in range(300))
    fake_openai.chat.chunk_delay = 0.03
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        chat = await open_chat(pilot, app)
        await send(pilot, app, "Tell me a long story")
        await wait_until(
            pilot, lambda: len(messages_of(app)) == 2 and bool(messages_of(app)[1].text)
        )
        await pilot.press("escape")
        await wait_until(pilot, lambda: prompt_of(app).text == "Tell me a long story")
        await wait_until(pilot, lambda: not messages_of(app))
        assert chat.left.history == []
        assert app.focused is prompt_of(app)
        # the next send works normally
        fake_openai.chat.chunk_delay = 0
        fake_openai.chat.reply = "short"
        prompt_of(app).clear()
        await send(pilot, app, "Short one")
        await wait_until(pilot, lambda: len(chat.left.history) == 2)


async def test_a_fresh_fine_tuned_model_not_served_yet_says_so_and_keeps_the_prompt(
    tmp_path: Path,
    fake_openai: FakeOpenAI,  # noqa: F811
) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.handoffs.chat = ChatHandoff("ft:gpt-4o-mini-2024-07-18:org:fresh:abc123")
        chat = await open_chat(pilot, app)
        await send(pilot, app, "Are you there?")
        await wait_until(pilot, lambda: prompt_of(app).text == "Are you there?")
        await wait_until(pilot, lambda: len(messages_of(app)) == 2)
        answer = messages_of(app)[1]
        assert answer.state == "failed"
        assert "not available" in answer.footer_text and "few minutes" in answer.footer_text
        assert chat.left.history == []


async def test_a_dropped_connection_mid_stream_keeps_the_prompt(
    tmp_path: Path,
    fake_openai: FakeOpenAI,  # noqa: F811
) -> None:
    fake_openai.chat.reply = "this reply will be cut off"
    fake_openai.chat.drop_after = 3
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        chat = await open_chat(pilot, app)
        await send(pilot, app, "Keep me")
        await wait_until(pilot, lambda: prompt_of(app).text == "Keep me")
        answer = messages_of(app)[1]
        assert answer.state == "failed"
        assert "dropped mid-reply" in answer.footer_text
        assert answer.text == "this reply"  # what arrived stays readable
        assert chat.left.history == []


async def test_rate_limit_says_to_send_again(
    tmp_path: Path,
    fake_openai: FakeOpenAI,  # noqa: F811
) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_chat(pilot, app)
        fake_openai.fail_next(429, count=5, path_contains="/chat/completions")
        await send(pilot, app, "Hello?")
        await wait_until(pilot, lambda: prompt_of(app).text == "Hello?")
        assert "Rate limited" in messages_of(app)[1].footer_text


async def test_bad_settings_are_named_and_nothing_is_sent(
    tmp_path: Path,
    fake_openai: FakeOpenAI,  # noqa: F811
) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        chat = await open_chat(pilot, app)
        chat.query_one("#temperature", Input).value = "hot"
        await send(pilot, app, "hi")
        await pilot.pause()
        assert prompt_of(app).text == "hi"
        assert not messages_of(app)
        assert any("Temperature" in n.message for n in app._notifications)


async def test_ctrl_n_adds_a_line_instead_of_sending(
    tmp_path: Path,
    fake_openai: FakeOpenAI,  # noqa: F811
) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await open_chat(pilot, app)
        await pilot.press("a", "ctrl+n", "b", "alt+enter", "c")
        assert prompt_of(app).text == "a\nb\nc"
        assert not messages_of(app)


async def test_text_typed_while_a_reply_streams_is_never_lost(
    tmp_path: Path,
    fake_openai: FakeOpenAI,  # noqa: F811
) -> None:
    fake_openai.chat.reply = " ".join(f"w{i}" for i in range(60))
    fake_openai.chat.chunk_delay = 0.02
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        chat = await open_chat(pilot, app)
        prompt = prompt_of(app)
        # keys typed right after Enter, before the screen has handled the send
        prompt.insert("first")
        prompt.submit()
        prompt.insert("second")
        await wait_until(pilot, lambda: len(messages_of(app)) == 2)
        prompt.submit()  # Enter again while the reply is still streaming
        await wait_until(pilot, lambda: len(chat.left.history) == 2 and is_idle(app))
        assert chat.left.history[0].content == "first"
        assert prompt_of(app).text == "second"
        assert any("still streaming" in n.message for n in app._notifications)


async def test_switching_profile_picks_the_new_backends_default_model(
    tmp_path: Path,
    fake_openai: FakeOpenAI,  # noqa: F811
) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.handoffs.chat = ChatHandoff("some-model-of-the-old-backend")
        chat = await open_chat(pilot, app)
        assert chat.left.model == "some-model-of-the-old-backend"
        app.notify_screens("profile_changed")  # what FtApp.use_profile does
        await wait_until(pilot, lambda: chat.left.model == "gpt-4o-mini-2024-07-18")
