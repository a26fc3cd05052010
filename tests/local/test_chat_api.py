"""Chat completions of the real `ft-tui serve` through the real SDK: n, logprobs, tools, sampling
defaults, the default answer cap, broken weights, client disconnects, concurrent requests."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest

from tests.local.chat_models import (
    TOOL_CALL,
    TOOL_MESSAGES,
    TOOLS,
    build_broken,
    build_endless,
    build_toolbot,
)
from tests.local.conftest import API_KEY, TINY, LocalServer
from tests.local.schemas import raw_json, validate

HI = [{"role": "user", "content": "hello"}]
CAP = 24


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("chat-models")
    return {
        "endless": build_endless(tiny_model_dir, root / "endless"),
        "broken": build_broken(tiny_model_dir, root / "broken"),
        "toolbot": build_toolbot(tiny_model_dir, root / "toolbot"),
    }


def _serve(
    base: Path, tiny: Path, models: dict[str, Path], extra: list[str]
) -> Iterator[LocalServer]:
    args = [arg for name, path in models.items() for arg in ("--model", f"{name}={path}")]
    server = LocalServer(base / "server-data", tiny, args + extra)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path, models: dict[str, Path]
) -> Iterator[LocalServer]:
    """The default cap lowered to CAP tokens; `toolbot` answers greedily by default."""
    extra = ["--max-tokens-default", str(CAP), "--sampling", "toolbot:temperature=0"]
    yield from _serve(tmp_path_factory.mktemp("chat"), tiny_model_dir, models, extra)


def greedy(client: Any, model: str, messages: list[dict[str, Any]], **kwargs: Any) -> Any:
    options = {"temperature": 0, "max_tokens": 12} | kwargs
    return client.chat.completions.create(model=model, messages=messages, **options)


def raw_stream(server: LocalServer, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The chunks of a streamed chat, each checked against the OpenAPI schema."""
    chunks: list[dict[str, Any]] = []
    with (
        httpx2.Client(timeout=60.0) as http,
        http.stream(
            "POST",
            server.base_url + "/chat/completions",
            headers={"Authorization": f"Bearer {API_KEY}"},
            json=body | {"stream": True},
        ) as response,
    ):
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                chunk = json.loads(line[6:])
                validate(chunk, "CreateChatCompletionStreamResponse")
                chunks.append(chunk)
    return chunks


def test_n_choices_are_returned_and_counted(server: LocalServer) -> None:
    client = server.client()
    raw = client.chat.completions.with_raw_response.create(
        model=TINY, messages=HI, n=3, temperature=0, max_tokens=8
    )
    validate(raw_json(raw), "CreateChatCompletionResponse")
    reply = raw.parse()
    assert [c.index for c in reply.choices] == [0, 1, 2]
    single = greedy(client, TINY, HI, max_tokens=8)
    assert {c.message.content for c in reply.choices} == {single.choices[0].message.content}
    assert reply.usage.completion_tokens == 3 * single.usage.completion_tokens
    assert reply.usage.prompt_tokens == single.usage.prompt_tokens

    sampled = client.chat.completions.create(
        model=TINY, messages=HI, n=4, temperature=1.5, max_tokens=10, seed=3
    )
    assert len({c.message.content for c in sampled.choices}) > 1  # independent samples
    again = client.chat.completions.create(
        model=TINY, messages=HI, n=4, temperature=1.5, max_tokens=10, seed=3
    )
    assert [c.message.content for c in again.choices] == [
        c.message.content for c in sampled.choices
    ]


def test_n_choices_stream_with_their_index(server: LocalServer) -> None:
    client = server.client()
    texts: dict[int, str] = {0: "", 1: ""}
    finishes: dict[int, str] = {}
    for chunk in client.chat.completions.create(
        model=TINY, messages=HI, n=2, temperature=0, max_tokens=6, stream=True
    ):
        for choice in chunk.choices:
            texts[choice.index] += choice.delta.content or ""
            if choice.finish_reason:
                finishes[choice.index] = choice.finish_reason
    assert texts[0] == texts[1] == greedy(client, TINY, HI, max_tokens=6).choices[0].message.content
    assert set(finishes) == {0, 1}


def test_logprobs_and_top_logprobs(server: LocalServer) -> None:
    client = server.client()
    raw = client.chat.completions.with_raw_response.create(
        model=TINY, messages=HI, temperature=0, max_tokens=6, logprobs=True, top_logprobs=3
    )
    validate(raw_json(raw), "CreateChatCompletionResponse")
    choice = raw.parse().choices[0]
    entries = choice.logprobs.content
    assert entries and len(entries) <= 6
    assert "".join(e.token for e in entries) == choice.message.content
    for entry in entries:
        assert entry.logprob <= 0
        assert len(entry.top_logprobs) == 3
        values = [t.logprob for t in entry.top_logprobs]
        assert values == sorted(values, reverse=True)
        assert entry.top_logprobs[0].token == entry.token  # greedy picks the most likely
        assert entry.top_logprobs[0].logprob == pytest.approx(entry.logprob)
        assert sum(2.718281828**v for v in values) <= 1.0001
    plain = greedy(client, TINY, HI)
    assert plain.choices[0].logprobs is None

    body = {"model": TINY, "messages": HI, "temperature": 0, "max_tokens": 6, "logprobs": True}
    streamed = [
        entry["token"]
        for chunk in raw_stream(server, body)
        for c in chunk["choices"]
        for entry in (c["logprobs"] or {}).get("content") or []
    ]
    assert streamed == [e.token for e in entries]


def test_tool_calls_round_trip(server: LocalServer) -> None:
    client = server.client()
    raw = client.chat.completions.with_raw_response.create(
        model="toolbot", messages=TOOL_MESSAGES, tools=TOOLS, max_tokens=60
    )
    validate(raw_json(raw), "CreateChatCompletionResponse")
    choice = raw.parse().choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    (call,) = choice.message.tool_calls
    assert call.type == "function" and call.id.startswith("call_")
    assert call.function.name == TOOL_CALL["name"]
    assert json.loads(call.function.arguments) == TOOL_CALL["arguments"]

    # The call and its result go back; the template renders both and the model answers.
    follow_up = [
        *TOOL_MESSAGES,
        choice.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": '{"temp": 21}'},
    ]
    raw = client.chat.completions.with_raw_response.create(
        model="toolbot", messages=follow_up, tools=TOOLS, max_tokens=8
    )
    validate(raw_json(raw), "CreateChatCompletionResponse")

    # Streamed: the call arrives as tool_calls deltas the SDK can assemble.
    body = {"model": "toolbot", "messages": TOOL_MESSAGES, "tools": TOOLS, "max_tokens": 60}
    raw_stream(server, body)  # every chunk matches the schema
    calls: dict[int, dict[str, str]] = {}
    finish = None
    for chunk in client.chat.completions.create(
        model="toolbot", messages=TOOL_MESSAGES, tools=TOOLS, max_tokens=60, stream=True
    ):
        for c in chunk.choices:
            for delta in c.delta.tool_calls or []:
                entry = calls.setdefault(delta.index, {"name": "", "arguments": ""})
                entry["name"] += delta.function.name or ""
                entry["arguments"] += delta.function.arguments or ""
            finish = c.finish_reason or finish
    assert finish == "tool_calls"
    assert calls[0]["name"] == "get_weather"
    assert json.loads(calls[0]["arguments"]) == {"city": "Paris"}

    # tool_choice "none": the same text stays content.
    text = client.chat.completions.create(
        model="toolbot", messages=TOOL_MESSAGES, tools=TOOLS, tool_choice="none", max_tokens=60
    ).choices[0]
    assert text.finish_reason == "stop" and "<tool_call>" in (text.message.content or "")


def test_sampling_defaults_apply_when_omitted(server: LocalServer) -> None:
    client = server.client()
    # toolbot: `--sampling toolbot:temperature=0` makes omitted temperature greedy.
    answers = {
        client.chat.completions.create(model="toolbot", messages=HI, max_tokens=10, seed=s)
        .choices[0]
        .message.content
        for s in range(4)
    }
    assert answers == {greedy(client, "toolbot", HI, max_tokens=10).choices[0].message.content}
    # tiny sets nothing: OpenAI's temperature 1 applies, and seeds give different answers.
    sampled = {
        client.chat.completions.create(model=TINY, messages=HI, max_tokens=10, seed=s)
        .choices[0]
        .message.content
        for s in range(4)
    }
    assert len(sampled) > 1


def test_requests_without_max_tokens_are_capped(server: LocalServer) -> None:
    client = server.client()
    reply = client.chat.completions.create(model="endless", messages=HI, temperature=0)
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage.completion_tokens == CAP
    longer = client.chat.completions.create(
        model="endless", messages=HI, temperature=0, max_tokens=CAP + 5
    )
    assert longer.usage.completion_tokens == CAP + 5
    assert longer.choices[0].finish_reason == "length"
    chunks = list(
        client.chat.completions.create(
            model="endless",
            messages=HI,
            temperature=0,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert chunks[-1].usage.completion_tokens == CAP
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "length"


def test_broken_weights_answer_a_clear_error(server: LocalServer) -> None:
    client = server.client()
    with pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(model="broken", messages=HI)
    error: Any = caught.value.body
    assert error["code"] == "non_finite_logits"
    assert error["type"] == "server_error"
    assert "NaN" in error["message"] and "probability tensor" not in error["message"]
    with pytest.raises(openai.InternalServerError) as caught:  # before any text: a status
        client.chat.completions.create(model="broken", messages=HI, stream=True)
    assert caught.value.body["code"] == "non_finite_logits"  # type: ignore[index]
    assert greedy(client, TINY, HI).choices[0].message.content  # the server still answers


def _bad(client: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(**({"model": TINY, "messages": HI} | kwargs))
    body: dict[str, Any] = caught.value.body  # type: ignore[assignment]
    assert body["type"] == "invalid_request_error" and body["message"]
    return body


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"seed": 2**70}, "seed"),
        ({"seed": -(2**64)}, "seed"),
        ({"n": 0}, "n"),
        ({"n": 17}, "n"),
        ({"n": "2"}, "n"),
        ({"logprobs": "yes"}, "logprobs"),
        ({"top_logprobs": 2}, "top_logprobs"),
        ({"logprobs": True, "top_logprobs": 21}, "top_logprobs"),
        ({"tools": "get_weather"}, "tools"),
        ({"tools": [{"type": "retrieval"}]}, "tools[0].type"),
        (
            {"tools": [{"type": "function", "function": {"name": "bad name"}}]},
            "tools[0].function.name",
        ),
        (
            {"tools": [{"type": "function", "function": {"name": "f", "parameters": []}}]},
            "tools[0].function.parameters",
        ),
        ({"tools": TOOLS, "tool_choice": "required"}, "tool_choice"),
        ({"tool_choice": "auto"}, "tool_choice"),
        ({"temperature": 3}, "temperature"),
        ({"max_tokens": 2**40}, "max_tokens"),
    ],
)
def test_bad_chat_values_are_400_with_param(
    server: LocalServer, kwargs: dict[str, Any], param: str
) -> None:
    assert _bad(server.client(), **kwargs)["param"] == param


def test_concurrent_chats_equal_one_at_a_time(server: LocalServer) -> None:
    prompts = [[{"role": "user", "content": f"hello {'word ' * i}{i}"}] for i in range(8)]
    client = server.client()
    alone = [greedy(client, TINY, p).choices[0].message.content for p in prompts]

    async def together() -> list[str]:
        async_client = server.async_client()
        replies = await asyncio.gather(
            *(
                async_client.chat.completions.create(
                    model=TINY, messages=p, temperature=0, max_tokens=12
                )
                for p in prompts
            )
        )
        await async_client.close()
        return [r.choices[0].message.content for r in replies]

    assert asyncio.run(together()) == alone


# -- a client that leaves -------------------------------------------------------------------------


@pytest.fixture()
def long_server(
    tmp_path: Path, tiny_model_dir: Path, models: dict[str, Path]
) -> Iterator[LocalServer]:
    """Answers without max_tokens may run 200,000 tokens: minutes of work if nothing stops it."""
    yield from _serve(tmp_path, tiny_model_dir, models, ["--max-tokens-default", "200000"])


def _wait_for_log(server: LocalServer, text: str, count: int, timeout: float = 60.0) -> None:
    log = server.data_dir / "server.log"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and log.read_text(errors="replace").count(text) >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not logged {count} time(s) within {timeout}s")


STOPPED = "chat client disconnected: generation stopped"


def test_abandoned_chats_stop_generating(long_server: LocalServer) -> None:
    """Issue 13 item 4: a client without max_tokens gives up; the server stops its generation,
    so the next chat is answered instead of waiting behind minutes of work."""
    impatient = long_server.client(timeout=2.0)
    with pytest.raises(openai.APITimeoutError):
        impatient.chat.completions.create(model="endless", messages=HI)
    _wait_for_log(long_server, STOPPED, 1)
    # A request that cannot join the abandoned one's batch (other sampling) would queue behind
    # it for minutes: within the client's timeout it is answered.
    patient = long_server.client(timeout=60.0)
    reply = patient.chat.completions.create(
        model="endless", messages=HI, temperature=0.5, max_tokens=4
    )
    assert reply.usage.completion_tokens == 4

    # The same when a streaming client closes its stream mid-answer.
    with (
        httpx2.Client(timeout=30.0) as http,
        http.stream(
            "POST",
            long_server.base_url + "/chat/completions",
            headers={"Authorization": f"Bearer {API_KEY}"},
            json={"model": "endless", "messages": HI, "stream": True},
        ) as response,
    ):
        lines = 0
        for line in response.iter_lines():
            lines += line.startswith("data:")
            if lines >= 5:
                break
    _wait_for_log(long_server, STOPPED, 2)
    reply = patient.chat.completions.create(
        model="endless", messages=HI, temperature=0.5, max_tokens=4
    )
    assert reply.usage.completion_tokens == 4


def test_bad_chat_flags_exit_2_with_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    from tests.local.conftest import ROOT

    for flags, expected in [
        (["--inference", "vllm"], "--inference vllm needs --vllm-url"),
        (["--vllm-url", "http://gpu:8000"], "--vllm-url is only used with --inference vllm"),
        (["--inference", "vllm", "--vllm-url", "gpu:8000"], "--vllm-url expects http(s)"),
        (["--sampling", "tiny"], "--sampling expects NAME:temperature=T,top_p=P"),
        (["--sampling", "tiny:temperature=9"], "temperature must be a number from 0 to 2"),
        (["--max-tokens-default", "0"], "--max-tokens-default must be at least 1"),
    ]:
        result = subprocess.run(
            [sys.executable, "-m", "tui", "serve", "--data-dir", str(tmp_path), *flags],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 2, (flags, result.stderr)
        assert expected in result.stderr and len(result.stderr.strip().splitlines()) == 1
