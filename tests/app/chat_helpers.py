"""Shared setup of the Chat screen tests: the app on the fake OpenAI server (the real SDK over
loopback), mode 3 opened on a model, a prompt sent with the keyboard, a finished fine-tune."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input

from screens.chat import ChatScreen
from screens.model_picker import ModelPickerScreen
from tests.app.helpers import wait_until
from tests.fake_openai.server import FakeOpenAI
from tui.app import FtApp
from tui.services.connection import connection_for
from tui.widgets.chat_message import MessageView
from tui.widgets.chat_view import ChatView
from tui.widgets.prompt_input import PromptInput

SIZE = (100, 32)


def make_app(tmp_path: Path) -> FtApp:
    return FtApp(tmp_path, connection=connection_for())


def chat_screen(app: FtApp) -> ChatScreen:
    screen = app.screen
    assert isinstance(screen, ChatScreen)
    return screen


def messages_of(app: FtApp, view: str = "#left-view") -> list[MessageView]:
    return chat_screen(app).query_one(view, ChatView).messages


def prompt_of(app: FtApp) -> PromptInput:
    return chat_screen(app).query_one("#prompt", PromptInput)


async def open_chat(pilot: Pilot[None], app: FtApp) -> ChatScreen:
    """Mode 3, once a model is chosen (the newest fine-tune, a handed-over one or the default)."""
    await pilot.press("3")
    await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
    chat = chat_screen(app)
    await wait_until(pilot, lambda: bool(chat.left.model))
    return chat


def is_idle(app: FtApp) -> bool:
    """No reply under way: the prompt's title no longer says "replying…"."""
    return not prompt_of(app).border_title


async def send(pilot: Pilot[None], app: FtApp, text: str) -> None:
    """Type `text` into the prompt once no reply is under way, and press Enter."""
    await wait_until(pilot, lambda: is_idle(app))
    prompt = prompt_of(app)
    prompt.focus()
    prompt.insert(text)
    await pilot.press("enter")


async def compare_with(pilot: Pilot[None], app: FtApp, typed: str) -> None:
    """F4, a model id typed into the picker, Enter: the chat compares two models."""
    chat = chat_screen(app)
    await pilot.press("f4")
    await wait_until(pilot, lambda: isinstance(app.screen, ModelPickerScreen))
    app.screen.query_one(Input).value = typed
    await pilot.pause()
    await pilot.press("enter")
    await wait_until(pilot, lambda: chat.comparing)


def finished_job_model(
    fake: FakeOpenAI, *, training_file: str | None = None, suffix: str | None = "demo"
) -> str:
    """The fine-tuned model of a job the fake OpenAI runs to the end."""
    job_id = fake.add_job(training_file=training_file, suffix=suffix)
    fake.run_to_end(job_id)
    return str(fake.job(job_id).data["fine_tuned_model"])
