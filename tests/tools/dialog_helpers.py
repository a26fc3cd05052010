"""A minimal app that opens one tool dialog and records what it dismissed with."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.screen import ModalScreen
from textual.widgets import Static

from tests.app.helpers import text_of, wait_until


class DialogHost(App[None]):
    def __init__(self, dialog: ModalScreen[Any]) -> None:
        super().__init__()
        self.dialog = dialog
        self.results: list[Any] = []

    def compose(self) -> ComposeResult:
        yield Static("host")

    def on_mount(self) -> None:
        self.push_screen(self.dialog, self.results.append)


def preview_text(app: DialogHost) -> str:
    return text_of(app.dialog.query_one("#tool-preview", Static))


def status_text(app: DialogHost) -> str:
    return text_of(app.dialog.query_one("#tool-status", Static))


async def settle(pilot: Pilot[Any]) -> None:
    """Let a pending preview timer fire and every worker finish."""
    await pilot.pause(0.4)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def wait_for_preview(pilot: Pilot[Any], app: DialogHost, needle: str) -> None:
    await wait_until(pilot, lambda: needle in preview_text(app))
