"""What one mode hands to another, typed (the one owner of cross-mode hand-offs).

A producer calls an `FtApp` method (`open_chat`, `start_job`, `open_eval_form`); the method
stores the hand-off here and switches mode; the receiving screen takes it (which clears it) when
it shows. Each hand-off is taken once, so coming back to a mode later does not replay it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class ChatHandoff:
    model: str
    system_prompt: str | None = None  # with `turns`: a conversation to show (e.g. an eval row)
    turns: list[Any] | None = None


@dataclass(frozen=True)
class EvalFormHandoff:
    dataset: str = ""
    models: list[str] = field(default_factory=list)


@dataclass
class Handoffs:
    chat: ChatHandoff | None = None
    new_job_file: Path | None = None
    eval_form: EvalFormHandoff | None = None

    def take_chat(self) -> ChatHandoff | None:
        found, self.chat = self.chat, None
        return found

    def take_new_job_file(self) -> Path | None:
        found, self.new_job_file = self.new_job_file, None
        return found

    def take_eval_form(self) -> EvalFormHandoff | None:
        found, self.eval_form = self.eval_form, None
        return found
