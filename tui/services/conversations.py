"""Kept chat conversations (SQLite under `tui.config.data_dir()`), their export as chat-format
JSONL, and appending a turn to a dataset file as a training example.

A conversation is one model's thread: in compare mode each side is its own conversation. The
store is synchronous and small; the chat screen calls it from `asyncio.to_thread`.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui import config
from tui.services.chat import ChatMessage, Role, TurnMetrics

SCHEMA_VERSION = 2  # 2: each user message records the system prompt sent with that turn
_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    model TEXT NOT NULL,
    system_prompt TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    metrics TEXT,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages(conversation_id, id);
"""
_MIGRATE_2 = "ALTER TABLE messages ADD COLUMN system_prompt TEXT"


class StoreError(Exception):
    """The conversation store cannot be used; the message names the file."""


@dataclass(frozen=True)
class StoredMessage:
    role: Role
    content: str
    metrics: TurnMetrics | None = None
    system_prompt: str | None = None  # on user messages: the system prompt sent with the turn

    def as_chat(self) -> ChatMessage:
        return ChatMessage(self.role, self.content)


@dataclass(frozen=True)
class ConversationSummary:
    id: int
    title: str
    model: str
    updated_at: float
    turns: int

    @property
    def detail(self) -> str:
        """e.g. `gpt-4o-mini · 3 turns · 2026-11-22 14:05` (local time)."""
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.updated_at))
        return f"{self.model} · {self.turns} turn{'' if self.turns == 1 else 's'} · {when}"


@dataclass(frozen=True)
class Conversation:
    id: int
    title: str
    model: str
    system_prompt: str
    messages: tuple[StoredMessage, ...]

    def chat_format(self) -> dict[str, Any]:
        """`{"messages": [...]}`, the fine-tuning chat format, system prompt first."""
        messages: list[dict[str, str]] = []
        if self.system_prompt.strip():
            messages.append({"role": "system", "content": self.system_prompt})
        messages.extend({"role": m.role, "content": m.content} for m in self.messages)
        return {"messages": messages}

    def sent_examples(self) -> list[dict[str, Any]]:
        """What was actually sent, as chat-format examples: one per run of turns that shared a
        system prompt, holding the request of the run's last turn and its reply. A conversation
        whose system prompt never changed is one example; a prompt set after turn 1 does not
        move to the start of turns sent without it."""
        examples: list[dict[str, Any]] = []
        sent: list[StoredMessage] = []
        current: str | None = None
        for message in self.messages:
            if message.role == "user":
                prompt = (
                    message.system_prompt
                    if message.system_prompt is not None
                    else self.system_prompt
                )
                if current is not None and prompt != current and sent:
                    examples.append(_example(current, sent))
                current = prompt
            sent.append(message)
        if sent:
            examples.append(_example(current or "", sent))
        return examples


def default_path() -> Path:
    return config.data_dir() / "conversations.sqlite3"


class ConversationStore:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.executescript(_SCHEMA)
                columns = {row[1] for row in db.execute("PRAGMA table_info(messages)")}
                if "system_prompt" not in columns:
                    db.execute(_MIGRATE_2)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"Cannot open the conversation store {self.path}: {exc}") from None

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            with closing(sqlite3.connect(self.path, timeout=5)) as db, db:
                db.execute("PRAGMA foreign_keys = ON")
                yield db
        except sqlite3.Error as exc:
            raise StoreError(f"Conversation store {self.path}: {exc}") from None

    def create(self, model: str, system_prompt: str = "", title: str = "") -> int:
        now = time.time()
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO conversations (title, model, system_prompt, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (title, model, system_prompt, now, now),
            )
            return int(cursor.lastrowid or 0)

    def add_message(
        self,
        conversation_id: int,
        role: Role,
        content: str,
        metrics: TurnMetrics | None = None,
        system_prompt: str | None = None,
    ) -> None:
        """`system_prompt`: on a user message, the system prompt sent with that turn."""
        now = time.time()
        encoded = None if metrics is None else json.dumps(metrics.as_dict())
        with self._connect() as db:
            db.execute(
                "INSERT INTO messages"
                " (conversation_id, role, content, metrics, created_at, system_prompt)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (conversation_id, role, content, encoded, now, system_prompt),
            )
            title_row = db.execute(
                "SELECT title FROM conversations WHERE id = ?", (conversation_id,)
            ).fetchone()
            if title_row is not None and not title_row[0] and role == "user":
                db.execute(
                    "UPDATE conversations SET title = ? WHERE id = ?",
                    (_title_from(content), conversation_id),
                )
            db.execute(
                "UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conversation_id)
            )

    def update_settings(self, conversation_id: int, model: str, system_prompt: str) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE conversations SET model = ?, system_prompt = ? WHERE id = ?",
                (model, system_prompt, conversation_id),
            )

    def recent(self, limit: int = 50) -> list[ConversationSummary]:
        """Conversations with at least one message, most recently updated first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT c.id, c.title, c.model, c.updated_at, COUNT(m.id) FROM conversations c"
                " JOIN messages m ON m.conversation_id = c.id AND m.role = 'user'"
                " GROUP BY c.id ORDER BY c.updated_at DESC, c.id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [ConversationSummary(int(r[0]), r[1], r[2], float(r[3]), int(r[4])) for r in rows]

    def load(self, conversation_id: int) -> Conversation:
        with self._connect() as db:
            head = db.execute(
                "SELECT id, title, model, system_prompt FROM conversations WHERE id = ?",
                (conversation_id,),
            ).fetchone()
            if head is None:
                raise StoreError(f"Conversation {conversation_id} does not exist")
            rows = db.execute(
                "SELECT role, content, metrics, system_prompt FROM messages"
                " WHERE conversation_id = ? ORDER BY id",
                (conversation_id,),
            ).fetchall()
        messages = tuple(
            StoredMessage(
                role=row[0],
                content=row[1],
                metrics=None if row[2] is None else TurnMetrics.from_dict(json.loads(row[2])),
                system_prompt=row[3],
            )
            for row in rows
        )
        return Conversation(int(head[0]), head[1], head[2], head[3], messages)

    def export_jsonl(self, path: Path, conversation_ids: Iterable[int] | None = None) -> int:
        """Write conversations as chat-format JSONL (`Conversation.sent_examples`: what was sent,
        one `{"messages": …}` per line); returns how many conversations were written. Without
        ids, every kept conversation, oldest first."""
        ids = (
            list(conversation_ids)
            if conversation_ids is not None
            else [s.id for s in reversed(self.recent(limit=1_000_000))]
        )
        lines = []
        written = 0
        for conversation_id in ids:
            conversation = self.load(conversation_id)
            if conversation.messages:
                written += 1
                lines += [json.dumps(e, ensure_ascii=False) for e in conversation.sent_examples()]
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        except OSError as exc:
            raise StoreError(f"Cannot write {path}: {exc.strerror or exc}") from None
        return written


def _example(system_prompt: str, sent: Sequence[StoredMessage]) -> dict[str, Any]:
    messages: list[dict[str, str]] = []
    if system_prompt.strip():
        messages.append({"role": "system", "content": system_prompt})
    messages.extend({"role": m.role, "content": m.content} for m in sent)
    return {"messages": messages}


def _title_from(content: str) -> str:
    first = " ".join(content.split())
    return first if len(first) <= 60 else first[:59] + "…"


def training_example(
    system_prompt: str, turns: Sequence[ChatMessage]
) -> dict[str, list[dict[str, str]]]:
    """A chat-format training example: the system prompt (when set) and the turns given."""
    messages: list[dict[str, str]] = []
    if system_prompt.strip():
        messages.append({"role": "system", "content": system_prompt})
    messages.extend(m.as_dict() for m in turns if m.role != "system")
    return {"messages": messages}


def append_example(path: Path, example: dict[str, Any]) -> int:
    """Append one example as a JSONL line to `path` (created when missing); returns its line
    number. A file that does not end with a newline gets one first, so lines never merge."""
    line = json.dumps(example, ensure_ascii=False)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        existing_lines = 0
        needs_newline = False
        if path.exists():
            if path.is_dir():
                raise StoreError(f"{path} is a directory: choose a .jsonl file")
            existing_lines, needs_newline = _count_lines(path)
        with path.open("a", encoding="utf-8") as handle:
            if needs_newline:
                handle.write("\n")
            handle.write(line + "\n")
    except OSError as exc:
        raise StoreError(f"Cannot write {path}: {exc.strerror or exc}") from None
    return existing_lines + 1


def _count_lines(path: Path) -> tuple[int, bool]:
    """(lines in the file, whether its last line lacks a newline), reading it in chunks."""
    count = 0
    last = b""
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    unterminated = bool(last) and last != b"\n"
    return count + (1 if unterminated else 0), unterminated
