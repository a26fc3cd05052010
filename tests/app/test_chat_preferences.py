"""Chat compare (F4) → F6 saves the two answers as a preference pair (DPO) after the user picks
the better one; the pair is linted and refused in a file of another format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from textual.widgets import Input, RadioSet

from screens.save_preference import SavePreferenceScreen
from tests.app.chat_helpers import SIZE, compare_with, is_idle, make_app, open_chat, send
from tests.app.helpers import text_of, wait_until
from tests.fake_openai.fixture import fake_openai  # noqa: F401
from tests.fake_openai.server import FakeOpenAI
from tui.core.lint import lint_path


def _answer(model: str, messages: list[Any]) -> str:
    return "Paris is the capital." if "nano" in model else "I think it is Lyon."


async def _compare_two(pilot: Any, app: Any, fake: FakeOpenAI) -> Any:
    fake.chat.responder = _answer
    chat = await open_chat(pilot, app)
    await compare_with(pilot, app, "gpt-4.1-nano")
    await send(pilot, app, "What is the capital of France?")
    await wait_until(pilot, lambda: len(chat.left.history) == 2 and len(chat.right.history) == 2)
    await wait_until(pilot, lambda: is_idle(app))
    return chat


async def test_f6_saves_the_better_answer_as_a_linted_dpo_line(
    tmp_path: Path,
    fake_openai: FakeOpenAI,  # noqa: F811
) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        chat = await _compare_two(pilot, app, fake_openai)
        await pilot.press("f6")
        await wait_until(pilot, lambda: isinstance(app.screen, SavePreferenceScreen))
        dialog = app.screen
        assert "capital of France" in text_of(dialog.query_one("#pref-prompt"))
        # Saving before choosing says what is missing and writes nothing.
        await pilot.press("f5")
        await wait_until(pilot, lambda: "better answer" in text_of(dialog.query_one("#pref-lint")))
        target = tmp_path / "prefs.jsonl"
        assert not target.exists()
        # The right side (gpt-4.1-nano) is better: down to it, select it, save.
        radio = dialog.query_one("#pref-better", RadioSet)
        radio.focus()
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: radio.pressed_index >= 0)
        dialog.query_one("#pref-path", Input).value = str(target)
        await pilot.press("f5")
        await wait_until(pilot, lambda: app.screen is chat)
        await wait_until(pilot, lambda: getattr(chat, "preference_path", None) == target)

    lines = target.read_text().splitlines()
    assert len(lines) == 1
    pair = json.loads(lines[0])
    preferred = pair["preferred_output"][0]["content"]
    rejected = pair["non_preferred_output"][0]["content"]
    assert (preferred, rejected) == ("Paris is the capital.", "I think it is Lyon.")
    assert pair["input"]["messages"][-1] == {
        "role": "user",
        "content": "What is the capital of France?",
    }
    report = lint_path(target)
    assert report.format == "preference"
    # the line itself is clean (one line is still "too few examples" for a whole file)
    assert [i.rule for i in report.issues if i.severity == "error"] == ["too_few_examples"]


async def test_a_pair_is_refused_in_a_chat_dataset_and_without_compare(
    tmp_path: Path,
    fake_openai: FakeOpenAI,  # noqa: F811
) -> None:
    chat_file = tmp_path / "train.jsonl"
    turns = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    original = json.dumps({"messages": turns}) + "\n"
    chat_file.write_text(original)
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        chat = await open_chat(pilot, app)
        await pilot.press("f6")  # not comparing: a hint, no dialog
        await pilot.pause()
        assert app.screen is chat
        chat = await _compare_two(pilot, app, fake_openai)
        await pilot.press("f6")
        await wait_until(pilot, lambda: isinstance(app.screen, SavePreferenceScreen))
        dialog = app.screen
        radio = dialog.query_one("#pref-better", RadioSet)
        radio.focus()
        await pilot.press("enter")
        dialog.query_one("#pref-path", Input).value = str(chat_file)
        await pilot.press("f5")
        await wait_until(
            pilot, lambda: "format_mismatch" in text_of(dialog.query_one("#pref-lint"))
        )
        assert app.screen is dialog
    assert chat_file.read_text() == original
