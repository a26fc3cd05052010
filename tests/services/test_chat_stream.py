"""`stream_reply` against the fake OpenAI server through the real SDK: deltas, usage-based
metrics and cost, and every failure worded so the user knows what to do."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import openai
import pytest

from tests.fake_openai.fixture import fake_openai  # noqa: F401
from tests.fake_openai.server import FakeOpenAI
from tui.services.chat import (
    ChatError,
    ChatMessage,
    ChatSettings,
    chat_price,
    parse_settings,
    request_arguments,
    stream_reply,
)

MODEL = "gpt-4o-mini-2024-07-18"


@pytest.fixture
async def client(fake_openai: FakeOpenAI) -> AsyncIterator[openai.AsyncOpenAI]:  # noqa: F811
    async with openai.AsyncOpenAI(
        base_url=fake_openai.base_url, api_key=fake_openai.api_key, max_retries=0
    ) as sdk:
        yield sdk


def _hello() -> list[ChatMessage]:
    return [ChatMessage("user", "Say hello")]


async def test_deltas_arrive_in_order_and_join_to_the_reply(
    fake_openai: FakeOpenAI,  # noqa: F811
    client: openai.AsyncOpenAI,
) -> None:
    fake_openai.chat.reply = "Hello there, how can I help?"
    seen: list[str] = []

    async def on_text(text: str) -> None:
        seen.append(text)

    reply = await stream_reply(client, ChatSettings(MODEL), _hello(), on_text)
    assert reply.text == "Hello there, how can I help?"
    assert "".join(seen) == reply.text
    assert len(seen) == 6  # streamed word by word, not delivered at the end
    assert reply.finish_reason == "stop"
    assert reply.metrics.prompt_tokens == 10
    assert reply.metrics.completion_tokens == 6
    assert reply.metrics.first_token_s is not None
    assert reply.metrics.first_token_s <= reply.metrics.total_s


async def test_metrics_line_shows_tokens_rate_and_cost_of_a_fine_tuned_model(
    fake_openai: FakeOpenAI,  # noqa: F811
    client: openai.AsyncOpenAI,
) -> None:
    job_id = fake_openai.add_job()
    fake_openai.run_to_end(job_id)
    tuned = str(fake_openai.job(job_id).data["fine_tuned_model"])
    fake_openai.chat.reply = "one two three four five"
    fake_openai.chat.chunk_delay = 0.01

    async def ignore(_text: str) -> None:
        return None

    reply = await stream_reply(client, ChatSettings(tuned), _hello(), ignore, price=chat_price)
    metrics = reply.metrics
    assert metrics.cost_usd == pytest.approx(10 * 0.30e-6 + 5 * 1.20e-6)
    assert metrics.tokens_per_second is not None and metrics.tokens_per_second > 0
    line = metrics.describe()
    assert line.startswith("10 → 5 tok · first ")
    assert "tok/s" in line and "$0.0000" in line


def test_request_carries_system_prompt_settings_and_usage_option() -> None:
    settings = ChatSettings(MODEL, "Be brief.", temperature=0.2, max_tokens=64)
    history = [
        ChatMessage("user", "hi"),
        ChatMessage("assistant", "hello"),
        ChatMessage("user", "again"),
    ]
    args = request_arguments(settings, history)
    assert args["messages"][0] == {"role": "system", "content": "Be brief."}
    assert [m["role"] for m in args["messages"]] == ["system", "user", "assistant", "user"]
    assert args["stream_options"] == {"include_usage": True}
    assert args["temperature"] == 0.2 and args["max_tokens"] == 64
    bare = request_arguments(ChatSettings(MODEL), history[:1])
    assert "temperature" not in bare and "max_tokens" not in bare
    assert bare["messages"] == [{"role": "user", "content": "hi"}]


async def test_unknown_model_says_it_is_not_served_yet(
    client: openai.AsyncOpenAI,
) -> None:
    async def ignore(_text: str) -> None:
        return None

    with pytest.raises(ChatError) as caught:
        await stream_reply(client, ChatSettings("ft:gpt-4o-mini:org:new:abc"), _hello(), ignore)
    assert caught.value.kind == "model_not_found"
    assert "few minutes" in caught.value.message and "F2" in caught.value.message


async def test_rate_limit_says_to_wait(
    fake_openai: FakeOpenAI,  # noqa: F811
    client: openai.AsyncOpenAI,
) -> None:
    fake_openai.fail_next(429, count=1, path_contains="/chat/completions")

    async def ignore(_text: str) -> None:
        return None

    with pytest.raises(ChatError) as caught:
        await stream_reply(client, ChatSettings(MODEL), _hello(), ignore)
    assert caught.value.kind == "rate_limited"
    assert "send again" in caught.value.message


async def test_dropped_stream_keeps_the_partial_text(
    fake_openai: FakeOpenAI,  # noqa: F811
    client: openai.AsyncOpenAI,
) -> None:
    fake_openai.chat.reply = "alpha beta gamma delta"
    fake_openai.chat.drop_after = 3
    seen: list[str] = []

    async def on_text(text: str) -> None:
        seen.append(text)

    with pytest.raises(ChatError) as caught:
        await stream_reply(client, ChatSettings(MODEL), _hello(), on_text)
    assert caught.value.kind == "connection"
    assert "mid-reply" in caught.value.message
    assert caught.value.partial == "alpha beta"
    assert "".join(seen) == "alpha beta"


async def test_cancelling_the_task_stops_the_stream(
    fake_openai: FakeOpenAI,  # noqa: F811
    client: openai.AsyncOpenAI,
) -> None:
    fake_openai.chat.reply = " ".join(f"w{i}" for i in range(200))
    fake_openai.chat.chunk_delay = 0.02
    seen: list[str] = []
    first = asyncio.Event()

    async def on_text(text: str) -> None:
        seen.append(text)
        first.set()

    task = asyncio.create_task(stream_reply(client, ChatSettings(MODEL), _hello(), on_text))
    await asyncio.wait_for(first.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    count = len(seen)
    await asyncio.sleep(0.2)
    assert len(seen) == count < 200


@pytest.mark.parametrize(
    ("temperature", "max_tokens", "message"),
    [
        ("hot", "", "Temperature must be a number"),
        ("3", "", "from 0 to 2"),
        ("", "many", "whole number"),
        ("", "0", "at least 1"),
    ],
)
def test_bad_settings_name_the_field(temperature: str, max_tokens: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_settings(MODEL, "", temperature, max_tokens)


def test_good_settings_parse() -> None:
    settings = parse_settings(MODEL, "sys", "0.7", "128")
    assert settings == ChatSettings(MODEL, "sys", 0.7, 128)
    assert parse_settings(MODEL, "", " ", "").temperature is None
