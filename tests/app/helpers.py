"""Shared helpers for Pilot tests."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot


async def wait_until(
    pilot: Pilot[Any], predicate: Callable[[], bool], timeout: float = 20.0
) -> None:
    """Pump the app until `predicate()` holds; fail with a clear message after `timeout`."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await pilot.pause(0.05)


def text_of(widget: object) -> str:
    """The plain text a Static-like widget currently shows."""
    from rich.console import Console
    from rich.text import Text
    from textual.content import Content
    from textual.widgets import Static

    if not isinstance(widget, Static):
        return str(widget)
    content = widget.content
    if isinstance(content, str):
        return content
    if isinstance(content, (Text, Content)):
        return content.plain
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(content)
    return console.export_text()
