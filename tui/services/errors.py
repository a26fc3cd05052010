"""Turn any exception from the services layer into a message a user can act on.

    try:
        await jobs.cancel(job_id)
    except Exception as exc:
        msg = describe_error(exc)          # UserMessage(title, detail, hint, retryable, status)
        app.notify(str(msg), severity="error")

`describe_error` never raises and never returns a traceback. It knows the SDK's exceptions
(`openai.APIStatusError` and friends, without importing openai when it is not loaded yet), the
services' own errors (`ProfileError`, `LocalServerUnavailable`, `UploadError`) and plain OS errors.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class UserMessage:
    title: str
    detail: str
    hint: str = ""
    retryable: bool = False
    status: int | None = None

    def __str__(self) -> str:
        text = f"{self.title}: {self.detail}" if self.detail else self.title
        return f"{text} ({self.hint})" if self.hint else text


class ServiceError(Exception):
    """Base of the errors this layer raises itself; the message is already user-facing.
    Subclasses may set `title` (else it is made from the class name: FileActionError →
    "File action error")."""

    title: str = ""
    hint: str = ""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


def error_fields(exc: Any) -> tuple[str, str | None, str | None]:
    """(message, code, param) from an OpenAI-shaped error body, tolerating any shape."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            message = inner.get("message")
            code = inner.get("code")
            param = inner.get("param")
            return (
                str(message) if message else str(getattr(exc, "message", "") or exc),
                str(code) if code else None,
                str(param) if param else None,
            )
    return str(getattr(exc, "message", "") or exc), None, None


def retry_after_seconds(exc: BaseException) -> float | None:
    """The server's `Retry-After` (seconds) on a status error, if it sent a sane one."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    try:
        value = headers.get("retry-after")
        seconds = float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
    if seconds is None or not 0 <= seconds <= 3600:
        return None
    return seconds


def is_retryable(exc: BaseException) -> bool:
    """Rate limits, server errors, timeouts and dropped connections: worth trying again."""
    openai = sys.modules.get("openai")
    if openai is None:
        return isinstance(exc, ConnectionError | TimeoutError)
    if isinstance(exc, openai.APIConnectionError):
        return True
    if isinstance(exc, openai.APIStatusError):
        status = int(exc.status_code)
        return status in (408, 429) or status >= 500
    return isinstance(exc, ConnectionError | TimeoutError)


def _describe_status(exc: Any) -> UserMessage:
    status = int(exc.status_code)
    message, code, param = error_fields(exc)
    detail = message + (f" [{param}]" if param else "")
    if status == 401:
        return UserMessage(
            "Authentication failed", detail, "check the API key of this profile", False, status
        )
    if status == 403:
        return UserMessage(
            "Permission denied",
            detail,
            "the key's project or organization may lack access to fine-tuning",
            False,
            status,
        )
    if status == 404:
        hint = "check the id; a new fine-tuned model can take a few minutes to appear"
        if code == "model_not_found":
            hint = "the model is unknown to this profile's project, or not ready yet"
        return UserMessage("Not found", detail, hint, False, status)
    if status == 409:
        return UserMessage(
            "Conflict", detail, "the object changed; refresh and retry", False, status
        )
    if status == 429:
        hint = "rate limited; ft-tui retries with backoff"
        if code == "insufficient_quota":
            hint = "the account is out of quota; check billing"
            return UserMessage("Quota exceeded", detail, hint, False, status)
        return UserMessage("Too many requests", detail, hint, True, status)
    if status >= 500:
        return UserMessage(
            "Server error",
            detail,
            "the service had a problem; retrying later usually works",
            True,
            status,
        )
    title = "Request rejected" + (f" ({code})" if code else "")
    return UserMessage(title, detail, "", False, status)


def describe_error(exc: BaseException) -> UserMessage:
    """A short title, a detail line and a hint for any exception; never raises."""
    try:
        return _describe(exc)
    except Exception:  # a broken exception object must not crash the error path
        return UserMessage("Unexpected error", type(exc).__name__)


describe = describe_error  # short alias used by screens


def _describe(exc: BaseException) -> UserMessage:
    from tui.services.profiles import ProfileError

    if isinstance(exc, ProfileError):
        return UserMessage(
            "Settings problem", str(exc), "fix the settings file or the environment and restart"
        )
    if isinstance(exc, ServiceError):
        return UserMessage(exc.title or _words(type(exc).__name__), str(exc), exc.hint)
    openai = sys.modules.get("openai")
    if openai is not None:
        if isinstance(exc, openai.APITimeoutError):
            return UserMessage(
                "Timed out",
                "the server did not answer in time",
                "check the network; ft-tui retries",
                True,
            )
        if isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__ or exc.__context__
            detail = str(cause) if cause else str(exc)
            return UserMessage(
                "Cannot reach the server",
                detail,
                "check the network or the profile's base_url",
                True,
            )
        if isinstance(exc, openai.APIStatusError):
            return _describe_status(exc)
        if isinstance(exc, openai.OpenAIError):
            return UserMessage("API client error", str(exc))
    if isinstance(exc, FileNotFoundError):
        return UserMessage("File not found", str(exc.filename or exc))
    if isinstance(exc, PermissionError):
        return UserMessage("Permission denied", str(exc.filename or exc))
    if isinstance(exc, ConnectionError | TimeoutError):
        return UserMessage("Connection problem", str(exc) or type(exc).__name__, "", True)
    if isinstance(exc, OSError):
        return UserMessage("System error", exc.strerror or str(exc))
    return UserMessage("Unexpected error", f"{type(exc).__name__}: {exc}")


def _words(class_name: str) -> str:
    """`FileActionError` → "File action error"."""
    words = re.findall(r"[A-Z][a-z0-9]*|[a-z0-9]+", class_name) or [class_name]
    return " ".join([words[0]] + [w.lower() for w in words[1:]])
