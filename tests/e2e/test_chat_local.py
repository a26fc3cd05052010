"""Mode 3 against the real local server (`ft-tui serve` subprocess, tiny random model): the
screen opens on the model a real job just made, streams its answer with real token counts,
compares it with its base model, and says so when a model does not exist."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, OptionList

from screens.chat import ChatScreen
from screens.model_picker import ModelPickerScreen
from tests.app.helpers import wait_until
from tests.e2e.support import local_connection
from tests.local.conftest import (
    TINY,
    LocalServer,
    dataset,
    wait_for_status,
)
from tui.app import FtApp
from tui.handoffs import ChatHandoff
from tui.widgets.chat_message import MessageView
from tui.widgets.prompt_input import PromptInput


def _finished(messages: list[MessageView]) -> bool:
    return (
        bool(messages) and messages[-1].state != "streaming" and "tok" in messages[-1].footer_text
    )


async def test_chat_with_a_freshly_fine_tuned_local_model(
    shared_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FT_TUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FT_TUI_CONFIG_DIR", str(tmp_path / "config"))
    client = shared_server.client()
    trained = client.files.create(file=("train.jsonl", dataset(12)), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(
        model=TINY,
        training_file=trained.id,
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2}}},
    )
    done = wait_for_status(client, job.id, {"succeeded", "failed", "cancelled"})
    assert done.status == "succeeded", done.error
    tuned = str(done.fine_tuned_model)

    app = FtApp(tmp_path, connection=local_connection(shared_server, monkeypatch))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("3")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        chat = app.screen
        assert isinstance(chat, ChatScreen)
        await wait_until(pilot, lambda: chat.left.model == tuned, timeout=30)

        chat.query_one("#max-tokens", Input).value = "12"
        prompt = chat.query_one("#prompt", PromptInput)
        prompt.insert("hello 3")
        await pilot.press("enter")
        await wait_until(pilot, lambda: _finished(chat.left.messages), timeout=120)
        answer = chat.left.messages[-1]
        assert answer.state == "done", answer.footer_text
        # real usage from the server: the prompt went through the chat template
        tokens_in = int(answer.footer_text.split(" → ")[0])
        assert tokens_in > 3
        assert " tok" in answer.footer_text
        assert chat.left.history[-1].content == answer.text
        await wait_until(pilot, lambda: not prompt.border_title)  # reply fully handled

        # the picker offers the job's model, its checkpoints and the base model
        await pilot.press("f4")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelPickerScreen))
        options = app.screen.query_one(OptionList)
        await wait_until(pilot, lambda: options.option_count > 2, timeout=30)
        labels = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert labels[0] == "Fine-tuned" and labels[1].startswith(tuned)
        assert any(label.startswith(TINY) for label in labels)
        app.screen.query_one(Input).value = TINY
        await pilot.pause()
        await pilot.press("enter")
        await wait_until(pilot, lambda: chat.comparing)
        assert chat.right.model == TINY

        prompt.insert("hello 5")
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: (
                len(chat.right.messages) == 4
                and _finished(chat.right.messages)
                and _finished(chat.left.messages[-1:])
                and len(chat.left.messages) == 4
            ),
            timeout=120,
        )
        assert chat.right.messages[-1].state == "done"
        assert chat.left.messages[-1].state == "done"
        assert len(chat.right.history) == len(chat.left.history) == 4


async def test_an_unknown_local_model_is_reported_and_the_prompt_kept(
    shared_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FT_TUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FT_TUI_CONFIG_DIR", str(tmp_path / "config"))
    app = FtApp(tmp_path, connection=local_connection(shared_server, monkeypatch))
    async with app.run_test(size=(100, 32)) as pilot:
        app.handoffs.chat = ChatHandoff("ft:tiny:local:gone:000000")
        await pilot.press("3")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        chat = app.screen
        assert isinstance(chat, ChatScreen)
        prompt = chat.query_one("#prompt", PromptInput)
        prompt.insert("anyone?")
        await pilot.press("enter")
        await wait_until(pilot, lambda: prompt.text == "anyone?", timeout=30)
        answer = chat.left.messages[-1]
        assert answer.state == "failed"
        assert "not available" in answer.footer_text
