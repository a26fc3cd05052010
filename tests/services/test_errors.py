"""Every failure becomes a short title, a detail and a hint; nothing raises on the error path."""

from __future__ import annotations

import openai
import pytest

from tests.fake_openai import FakeOpenAI
from tui.services.errors import ServiceError, UserMessage, describe_error, is_retryable
from tui.services.jobs import JobSpecError
from tui.services.local_server import LocalServerUnavailable


@pytest.mark.parametrize(
    ("status", "title", "retryable", "hint_words"),
    [
        (400, "Request rejected", False, ""),
        (401, "Authentication failed", False, "API key"),
        (403, "Permission denied", False, "project"),
        (404, "Not found", False, "few minutes"),
        (429, "Too many requests", True, "backoff"),
        (500, "Server error", True, "later"),
        (503, "Server error", True, "later"),
    ],
)
async def test_status_errors_from_the_sdk(
    fake_openai: FakeOpenAI, status: int, title: str, retryable: bool, hint_words: str
) -> None:
    client = openai.AsyncOpenAI(
        base_url=fake_openai.base_url, api_key=fake_openai.api_key, max_retries=0
    )
    fake_openai.fail_next(status)
    with pytest.raises(openai.APIStatusError) as caught:
        await client.models.list()
    message = describe_error(caught.value)
    assert (message.title, message.retryable, message.status) == (title, retryable, status)
    assert hint_words in message.hint
    assert f"Injected {status}" in message.detail
    assert is_retryable(caught.value) is retryable
    assert "Traceback" not in str(message)
    await client.close()


async def test_unknown_model_and_connection_refused(fake_openai: FakeOpenAI) -> None:
    client = openai.AsyncOpenAI(
        base_url=fake_openai.base_url, api_key=fake_openai.api_key, max_retries=0
    )
    with pytest.raises(openai.NotFoundError) as caught:
        await client.chat.completions.create(
            model="ft:gpt-4o:org::gone", messages=[{"role": "user", "content": "hi"}]
        )
    message = describe_error(caught.value)
    assert "does not exist" in message.detail and "not ready yet" in message.hint
    await client.close()
    base_url = fake_openai.base_url
    fake_openai.stop()
    fresh = openai.AsyncOpenAI(base_url=base_url, api_key=fake_openai.api_key, max_retries=0)
    with pytest.raises(openai.APIConnectionError) as refused:
        await fresh.models.list()
    await fresh.close()
    message = describe_error(refused.value)
    assert message.title == "Cannot reach the server" and message.retryable


def test_service_errors_and_plain_exceptions() -> None:
    assert describe_error(JobSpecError("suffix: 1 to 64 characters")) == UserMessage(
        "Invalid job settings", "suffix: 1 to 64 characters"
    )
    unavailable = describe_error(LocalServerUnavailable("no torch", "install ft-tui[local]"))
    assert str(unavailable) == "Local server unavailable: no torch (install ft-tui[local])"

    class FileActionError(ServiceError):
        pass

    assert describe_error(FileActionError("x")).title == "File action error"
    assert describe_error(FileNotFoundError(2, "No such file", "/tmp/x.jsonl")).detail == (
        "/tmp/x.jsonl"
    )
    assert describe_error(ValueError("bad")).detail == "ValueError: bad"

    class Broken(Exception):
        def __str__(self) -> str:
            raise RuntimeError("boom")

    assert describe_error(Broken()).title == "Unexpected error"
