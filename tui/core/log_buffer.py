"""An in-memory ring buffer of log records for the in-app log screen.

Over SSH the Textual devtools console is not there, so the app keeps its own recent log. Secrets
never reach it: callers log masked keys only.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

QUIET_LOGGERS = ("httpx", "httpx2", "httpcore", "httpcore2", "openai._base_client", "urllib3")


@dataclass(frozen=True)
class LogLine:
    created: float
    level: str
    logger: str
    message: str

    def format(self) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(self.created))
        return f"{stamp} {self.level:<7} {self.logger}: {self.message}"


class LogBuffer(logging.Handler):
    """Keeps the last `capacity` records and tells listeners about new ones."""

    def __init__(self, capacity: int = 2000) -> None:
        super().__init__(level=logging.INFO)
        self._lines: deque[LogLine] = deque(maxlen=capacity)
        self._listeners: list[Callable[[LogLine], None]] = []
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.exc_info and record.exc_info[1] is not None:
                message += f" ({type(record.exc_info[1]).__name__}: {record.exc_info[1]})"
            line = LogLine(record.created, record.levelname, record.name, message)
        except Exception:  # a bad log call must never break the app
            return
        with self._guard:
            self._lines.append(line)
            listeners = list(self._listeners)
        for listener in listeners:
            listener(line)

    def lines(self) -> list[LogLine]:
        with self._guard:
            return list(self._lines)

    def subscribe(self, listener: Callable[[LogLine], None]) -> Callable[[], None]:
        with self._guard:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._guard:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe


def install(capacity: int = 2000) -> LogBuffer:
    """Route the root logger into a new buffer (and nowhere near the terminal)."""
    buffer = LogBuffer(capacity)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(buffer)
    root.setLevel(logging.INFO)
    for noisy in QUIET_LOGGERS:  # one line per HTTP request would flood the log: debug only
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return buffer
