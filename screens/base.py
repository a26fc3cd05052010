"""What every mode screen shares: the header with mode tabs and connection status, the footer,
and one place where worker failures become a toast instead of a traceback."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, cast

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

from tui.widgets.app_header import AppHeader

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from tui.app import FtApp

log = logging.getLogger("ft-tui.screens")


def error_text(error: BaseException) -> str:
    """`services.errors.describe_error` as one line for a status bar or a toast."""
    from tui.services.errors import describe_error

    return str(describe_error(error))


def ft_app(node: DOMNode) -> FtApp:
    """The running app, typed: screens reach its connection, start path and hand-offs here.
    (Dialogs are also run inside small test apps, so this is a cast, not a check.)"""
    return cast("FtApp", node.app)


def copy_text(screen: Screen[Any], text: str, what: str, *, echo: bool = True) -> bool:
    """OSC 52 copy that never crashes (terminals may refuse it), with a toast saying what
    happened; False when the terminal refused, and the toast then shows the text itself.
    `echo=False` is for long text (a chat reply): the toasts name only `what`."""
    try:
        screen.app.copy_to_clipboard(text)
    except Exception as exc:
        log.warning("copy failed: %s", exc)
        if echo:
            screen.notify(f"Could not copy the {what} ({exc}); it is: {text}", severity="warning")
        else:
            screen.notify("The terminal refused the clipboard.", severity="warning")
        return False
    if echo:
        screen.notify(f"Copied {what}: {text}", timeout=4)
    else:
        screen.notify(f"{what.capitalize()} copied to the clipboard.", timeout=4)
    return True


def toast_worker_error(node: DOMNode, event: Worker.StateChanged) -> bool:
    """A failed worker becomes one toast (and a log record), never a traceback; True when
    `event` was such a failure. `Worker.StateChanged` does not bubble, so a widget that runs
    its own workers (the Models tab's `ModelsPane`) calls this from its own handler too."""
    worker = event.worker
    if event.state is not WorkerState.ERROR or worker.error is None:
        return False
    log.error("%s failed", worker.name or "task", exc_info=worker.error)
    from tui.services.errors import describe_error as describe

    message = describe(worker.error)
    body = message.detail or message.title
    node.app.notify(
        f"{body}\n{message.hint}" if message.hint else body,
        title=f"{worker.description}: {message.title}" if worker.description else message.title,
        severity="error",
        timeout=8,
    )
    return True


class ModeScreen(Screen[None]):
    """Base class for the four mode screens: subclasses yield their body from `compose_body`."""

    MODE = ""

    @property
    def ft(self) -> FtApp:
        """The running app, typed (see `ft_app`)."""
        return ft_app(self)

    def compose(self) -> ComposeResult:
        yield AppHeader(self.MODE)
        yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        """The screen's own widgets, between the header and the footer."""
        yield from ()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if toast_worker_error(self, event):
            self.on_worker_failed(event.worker)

    def on_worker_failed(self, worker: Worker[Any]) -> None:
        """Hook for screens that must restore state when a worker fails."""
