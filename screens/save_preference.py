"""Save two answers to one conversation as a preference pair (DPO): pick the better answer (and,
with more than two, the worse one), choose the preference file, and the pair is linted before
one line is appended — the same file rules as F5 "save turn". F5 saves, Escape cancels.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from screens.save_example import render_findings
from tui.services.example_files import check_target
from tui.services.preferences import (
    Candidate,
    Finding,
    StoreError,
    check_preference,
    preference_example,
    save_preference,
)

PREVIEW_CHARS = 400


@dataclass(frozen=True)
class SavedPreference:
    path: Path
    line: int
    preferred: str
    rejected: str


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= PREVIEW_CHARS else flat[: PREVIEW_CHARS - 1] + "…"


class SavePreferenceScreen(ModalScreen[SavedPreference | None]):
    DEFAULT_CSS = """
    SavePreferenceScreen > .dialog { height: 95%; }
    SavePreferenceScreen #pref-answers { height: 1fr; min-height: 4; }
    SavePreferenceScreen RadioSet { width: 1fr; height: auto; }
    SavePreferenceScreen #pref-lint { height: auto; max-height: 6; }
    SavePreferenceScreen .dialog-buttons { height: 3; }
    """
    BINDINGS = [
        Binding("f5", "save", "Save", id="save_preference.save"),
        Binding("escape", "cancel", "Cancel", id="save_preference.cancel"),
    ]

    def __init__(
        self,
        *,
        prompt: Sequence[Mapping[str, Any]],
        candidates: Sequence[Candidate],
        path: Path,
        model: str,
        preferred: int | None = None,
    ) -> None:
        super().__init__()
        self._prompt = list(prompt)
        self._candidates = list(candidates)
        self._path = path
        self._model = model
        self._initial = preferred
        self._warned_for: str | None = None
        self._saving = False

    def compose(self) -> ComposeResult:
        last_user = next(
            (str(m.get("content", "")) for m in reversed(self._prompt) if m.get("role") == "user"),
            "",
        )
        with Vertical(classes="dialog"):
            yield Static("Save as a preference pair (DPO)", classes="title")
            yield Static(Text(f"Prompt: {_preview(last_user)}", style="italic"), id="pref-prompt")
            with VerticalScroll(id="pref-answers"):
                for index, candidate in enumerate(self._candidates, 1):
                    line = Text(f"{index}. {candidate.label}: ", style="bold")
                    line.append(_preview(candidate.text) or "(empty)", style="")
                    yield Static(line, classes="pref-answer")
            with Horizontal(id="pref-choice"):
                yield self._radio("Better answer", "pref-better", self._initial)
                if len(self._candidates) > 2:
                    yield self._radio("Worse answer", "pref-worse", None)
            yield Label("Preference file (appended to; created when missing)")
            yield Input(str(self._path), id="pref-path")
            yield Static("", id="pref-lint")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save (F5)", variant="primary", id="pref-save")
                yield Button("Cancel (Esc)", id="pref-cancel")

    def _radio(self, title: str, widget_id: str, chosen: int | None) -> RadioSet:
        buttons = [
            RadioButton(f"{i}. {c.label}", value=(i - 1) == chosen)
            for i, c in enumerate(self._candidates, 1)
        ]
        radio = RadioSet(*buttons, id=widget_id)
        radio.border_title = title
        return radio

    def on_mount(self) -> None:
        self.query_one("#pref-better", RadioSet).focus()

    def _choice(self, widget_id: str) -> int | None:
        radios = self.query(f"#{widget_id}").results(RadioSet)
        for radio in radios:
            index = radio.pressed_index
            return index if index >= 0 else None
        return None

    def chosen(self) -> tuple[Candidate, Candidate] | Finding:
        """(preferred, rejected), or why they cannot be told yet."""
        better = self._choice("pref-better")
        if better is None:
            return Finding("error", "choice", "Pick the better answer first.")
        worse = 1 - better if len(self._candidates) == 2 else self._choice("pref-worse")
        if worse is None:
            return Finding("error", "choice", "Pick the worse answer too.")
        return self._candidates[better], self._candidates[worse]

    @on(Button.Pressed, "#pref-save")
    async def action_save(self) -> None:
        if self._saving:
            return
        path, problem = check_target(self.query_one("#pref-path", Input).value)
        pair = self.chosen()
        if isinstance(pair, Finding) or path is None:
            self._show([f for f in (problem, pair) if isinstance(f, Finding)])
            return
        preferred, rejected = pair
        example = preference_example(self._prompt, preferred, rejected)
        self._saving = True
        try:
            findings = await asyncio.to_thread(
                check_preference, example, self._model, path, preferred, rejected
            )
            errors = [f for f in findings if f.is_error]
            fingerprint = repr((example, str(path)))
            if errors or (findings and self._warned_for != fingerprint):
                self._warned_for = fingerprint
                self._show(findings, confirm=not errors)
                return
            line = await asyncio.to_thread(save_preference, path, example)
        except StoreError as exc:
            self._show([Finding("error", "write", str(exc))])
            return
        finally:
            self._saving = False
        self.dismiss(SavedPreference(path, line, preferred.label, rejected.label))

    def _show(self, findings: list[Finding], *, confirm: bool = False) -> None:
        self.query_one("#pref-lint", Static).update(render_findings(findings, confirm=confirm))

    @on(Button.Pressed, "#pref-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


def open_for_compare(screen: Any, views: Sequence[Any]) -> None:
    """Chat compare (F6): offer the two sides' last replies as a preference pair. `views` are
    the two ChatViews; the chosen file is remembered on the screen for the next save."""
    from textual.widgets import Input as InputWidget

    from tui.services.preferences import compare_pair, default_preference_path

    system = screen.query_one("#system-prompt", InputWidget).value
    pair = compare_pair(system, [(v.model, v.history) for v in views])
    if pair is None:
        screen.notify("Send a prompt first: both sides need a reply to compare.", timeout=4)
        return
    prompt, candidates = pair
    path = getattr(screen, "preference_path", None) or default_preference_path(
        screen.app.start_path
    )

    def saved(result: SavedPreference | None) -> None:
        if result is not None:
            screen.preference_path = result.path
            screen.notify(
                f"Line {result.line} of {result.path}: {result.preferred} over {result.rejected}",
                title="Preference pair saved",
                timeout=6,
            )

    screen.app.push_screen(
        SavePreferenceScreen(prompt=prompt, candidates=candidates, path=path, model=views[0].model),
        saved,
    )
