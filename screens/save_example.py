"""Save a chat turn as a training example: edit the reply if it needs it, choose the dataset
file, and the example is linted (the same rules as the Datasets screen and `ft-tui lint`)
before one line is appended. Errors block the write; warnings are shown and a second Save
writes anyway. F5 saves (the key that opened it), Escape cancels.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Static, TextArea

from tui.services.chat import ChatMessage
from tui.services.conversations import training_example
from tui.services.example_files import (
    Finding,
    StoreError,
    append_example,
    check_example,
    check_target,
)

DEFAULT_FILE_NAME = "chat_examples.jsonl"


@dataclass(frozen=True)
class SavedExample:
    path: Path
    line: int


def default_dataset_path(start: Path) -> Path:
    """The dataset the app was opened on, else `chat_examples.jsonl` in that directory."""
    if start.suffix == ".jsonl" and not start.is_dir():
        return start
    folder = start if start.is_dir() else start.parent
    return folder / DEFAULT_FILE_NAME


def render_findings(findings: list[Finding], *, confirm: bool = False) -> Text:
    """Lint findings as the save dialogs show them, with what to do next."""
    text = Text()
    for finding in findings:
        style = "bold red" if finding.severity == "error" else "yellow"
        text.append(f"{finding.severity} {finding.rule}: ", style=style)
        text.append(finding.message)
        if finding.hint:
            text.append(f" — {finding.hint}", style="dim")
        text.append("\n")
    if confirm:
        text.append("Only warnings: press Save again to write it anyway.", style="italic")
    elif any(f.is_error for f in findings):
        text.append("Not saved: fix the errors above.", style="italic")
    return text


class SaveExampleScreen(ModalScreen[SavedExample | None]):
    DEFAULT_CSS = """
    SaveExampleScreen > .dialog { height: 90%; }
    SaveExampleScreen #example-path { margin: 0 0 0 0; }
    SaveExampleScreen #example-reply { height: 1fr; min-height: 4; }
    SaveExampleScreen #example-lint { height: auto; max-height: 8; }
    SaveExampleScreen .dialog-buttons { height: 3; }
    """
    BINDINGS = [
        Binding("f5", "save", "Save", id="save_example.save"),
        Binding("escape", "cancel", "Cancel", id="save_example.cancel"),
    ]

    def __init__(
        self, *, system_prompt: str, history: list[ChatMessage], path: Path, model: str
    ) -> None:
        super().__init__()
        self._system_prompt = system_prompt
        self._history = [m for m in history if m.role != "system"]
        self._path = path
        self._model = model
        self._warned_for: str | None = None
        self._saving = False

    def compose(self) -> ComposeResult:
        turns = sum(1 for m in self._history if m.role == "user")
        reply = self._history[-1].content if self._history else ""
        with Vertical(classes="dialog"):
            yield Static("Save as a training example", classes="title")
            yield Label("Dataset file (appended to; created when missing)")
            yield Input(str(self._path), id="example-path")
            yield Checkbox(
                f"Whole conversation ({turns} turn{'' if turns == 1 else 's'}), not only the last",
                value=False,
                id="example-whole",
                disabled=turns < 2,
            )
            yield Label("Assistant reply — edit it before saving if it needs it")
            yield TextArea(reply, id="example-reply", soft_wrap=True, tab_behavior="focus")
            yield Static("", id="example-lint")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save (F5)", variant="primary", id="example-save")
                yield Button("Cancel (Esc)", id="example-cancel")

    def on_mount(self) -> None:
        self.query_one("#example-reply", TextArea).focus()

    def example(self) -> dict[str, object]:
        reply = self.query_one("#example-reply", TextArea).text
        whole = self.query_one("#example-whole", Checkbox).value
        turns = self._history[:-1] if whole else self._history[-2:-1]
        chosen = [*turns, ChatMessage("assistant", reply)]
        return dict(training_example(self._system_prompt, chosen))

    @on(Button.Pressed, "#example-save")
    async def action_save(self) -> None:
        if self._saving:
            return
        path, problem = check_target(self.query_one("#example-path", Input).value)
        if path is None:
            self._show([problem] if problem else [])
            return
        example = self.example()
        self._saving = True
        try:
            findings = await asyncio.to_thread(check_example, example, self._model, "chat", path)
            errors = [f for f in findings if f.severity == "error"]
            fingerprint = repr((example, str(path)))
            if errors or (findings and self._warned_for != fingerprint):
                self._warned_for = fingerprint
                self._show(findings, confirm=not errors)
                return
            line = await asyncio.to_thread(append_example, path, example)
        except StoreError as exc:
            self._show([Finding("error", "write", str(exc))])
            return
        finally:
            self._saving = False
        self.dismiss(SavedExample(path, line))

    def _show(self, findings: list[Finding], *, confirm: bool = False) -> None:
        self.query_one("#example-lint", Static).update(render_findings(findings, confirm=confirm))

    @on(Button.Pressed, "#example-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
