"""The conversation store (SQLite under the data dir), its chat-format JSONL export, and
appending a training example to a dataset file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tui.services.chat import ChatMessage, TurnMetrics
from tui.services.conversations import (
    ConversationStore,
    StoreError,
    append_example,
    training_example,
)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ConversationStore:
    monkeypatch.setenv("FT_TUI_DATA_DIR", str(tmp_path / "data"))
    return ConversationStore()


def test_store_lives_in_the_data_dir_and_survives_reopening(
    store: ConversationStore, tmp_path: Path
) -> None:
    assert store.path.parent == tmp_path / "data"
    conversation = store.create("gpt-4o-mini", "Be terse.")
    metrics = TurnMetrics("gpt-4o-mini", 12, 3, 0.25, 0.5, 0.0001)
    store.add_message(conversation, "user", "What is   the capital\nof France?")
    store.add_message(conversation, "assistant", "Paris.", metrics)

    reopened = ConversationStore(store.path)
    [summary] = reopened.recent()
    assert summary.title == "What is the capital of France?"
    assert summary.turns == 1 and summary.model == "gpt-4o-mini"
    assert summary.detail.startswith("gpt-4o-mini · 1 turn · 20")
    loaded = reopened.load(conversation)
    assert loaded.system_prompt == "Be terse."
    assert [(m.role, m.content) for m in loaded.messages] == [
        ("user", "What is   the capital\nof France?"),
        ("assistant", "Paris."),
    ]
    assert loaded.messages[1].metrics == metrics


def test_recent_is_newest_first_and_skips_empty_conversations(store: ConversationStore) -> None:
    first = store.create("a")
    store.add_message(first, "user", "first")
    store.create("never used")
    second = store.create("b")
    store.add_message(second, "user", "second")
    assert [s.title for s in store.recent()] == ["second", "first"]


def test_export_writes_chat_format_jsonl(store: ConversationStore, tmp_path: Path) -> None:
    one = store.create("m", "System says hi")
    store.add_message(one, "user", "u1")
    store.add_message(one, "assistant", "a1")
    two = store.create("m")
    store.add_message(two, "user", "u2")
    store.add_message(two, "assistant", "a2 ünïcode")

    out = tmp_path / "out" / "all.jsonl"
    assert store.export_jsonl(out) == 2
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert lines[0] == {
        "messages": [
            {"role": "system", "content": "System says hi"},
            {"role": "user", "content": "u1"},
            {"role": "assistant", "content": "a1"},
        ]
    }
    assert lines[1]["messages"][-1]["content"] == "a2 ünïcode"
    assert store.export_jsonl(tmp_path / "one.jsonl", [two]) == 1


def test_unwritable_store_gives_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match="Cannot open the conversation store"):
        ConversationStore(blocker / "db.sqlite3")


def test_append_example_adds_one_line_and_repairs_a_missing_newline(tmp_path: Path) -> None:
    dataset = tmp_path / "train.jsonl"
    dataset.write_text('{"messages": []}', encoding="utf-8")  # last line not terminated
    example = training_example("sys", [ChatMessage("user", "q"), ChatMessage("assistant", "a")])
    assert append_example(dataset, example) == 2
    assert append_example(dataset, example) == 3
    lines = dataset.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    assert json.loads(lines[1]) == {
        "messages": [
            {"role": "system", "content": "sys"},
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": "a"},
        ]
    }
    fresh = tmp_path / "new" / "fresh.jsonl"
    assert append_example(fresh, example) == 1


def test_append_example_refuses_a_directory(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a directory"):
        append_example(tmp_path, {"messages": []})
