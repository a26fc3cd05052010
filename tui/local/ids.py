"""Object ids shaped like OpenAI's (`file-…`, `ftjob-…`, `ftevent-…`, `ftckpt_…`, `chatcmpl-…`)."""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def random_token(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def file_id() -> str:
    return "file-" + random_token(22)


def job_id() -> str:
    return "ftjob-" + random_token(24)


def event_id() -> str:
    return "ftevent-" + random_token(24)


def checkpoint_id() -> str:
    return "ftckpt_" + random_token(24)


def completion_id() -> str:
    return "chatcmpl-" + random_token(24)


def api_key() -> str:
    return "sk-local-" + random_token(40)
