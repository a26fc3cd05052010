"""`ft-tui serve --inference vllm`: the protocol with a vLLM server, against a recording stand-in.

A real fine-tune (tiny model, trained by the real server) is served through the stand-in: its
adapter is loaded once with `POST /v1/load_lora_adapter`, chat requests carry the `ft:` id as
vLLM's model, answers come back streamed or not with the client's ids, deleting the model unloads
the adapter, and a vLLM that is down is a clear OpenAI-shaped error. The real vLLM check needs a
GPU: `benchmarks/gpu_check.sh`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from tests.local.conftest import TINY, LocalServer, dataset, wait_for_status
from tests.local.schemas import raw_json, validate
from tests.local.vllm_standin import VllmStandIn

HI = [{"role": "user", "content": "hello there"}]


@pytest.fixture()
def standin() -> Iterator[VllmStandIn]:
    server = VllmStandIn(TINY).start()
    yield server
    server.stop()


@pytest.fixture()
def server(tmp_path: Path, tiny_model_dir: Path, standin: VllmStandIn) -> Iterator[LocalServer]:
    args = ["--inference", "vllm", "--vllm-url", standin.url, "--sampling", f"{TINY}:top_p=0.5"]
    local = LocalServer(tmp_path / "data", tiny_model_dir, args)
    local.start()
    yield local
    local.stop()


def test_base_and_fine_tuned_chats_go_to_vllm(server: LocalServer, standin: VllmStandIn) -> None:
    client = server.client()
    raw = client.chat.completions.with_raw_response.create(model=TINY, messages=HI)
    validate(raw_json(raw), "CreateChatCompletionResponse")
    reply = raw.parse()
    assert reply.model == TINY
    assert reply.choices[0].message.content == f"[{TINY}] hello there"
    assert reply.usage.completion_tokens == 3
    (sent,) = standin.chats()
    assert sent["model"] == TINY and sent["stream"] is True
    assert sent["messages"] == HI
    # The server's defaults travel with the request: the cap and the sampling settings.
    assert (sent["max_tokens"], sent["temperature"], sent["top_p"]) == (2048, 1.0, 0.5)

    training = client.files.create(file=("t.jsonl", dataset(10)), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(
        model=TINY, training_file=training.id, hyperparameters={"n_epochs": 1}
    )
    done = wait_for_status(client, job.id, {"succeeded", "failed", "cancelled"})
    assert done.status == "succeeded", done.error
    tuned = done.fine_tuned_model
    assert tuned is not None

    reply = client.chat.completions.create(model=tuned, messages=HI, max_tokens=2)
    assert reply.model == tuned
    assert reply.choices[0].message.content == f"[{tuned}]" + " hello"
    assert reply.choices[0].finish_reason == "length"
    loads = [body for path, body in standin.calls if path == "/v1/load_lora_adapter"]
    assert [body["lora_name"] for body in loads] == [tuned]
    assert (Path(loads[0]["lora_path"]) / "adapter_config.json").is_file()
    assert standin.chats()[-1]["model"] == tuned

    text, finish = "", None
    for chunk in client.chat.completions.create(
        model=tuned, messages=HI, stream=True, n=2, logprobs=True
    ):
        assert chunk.model == tuned
        for choice in chunk.choices:
            if choice.index == 1:
                text += choice.delta.content or ""
                assert choice.logprobs is None or choice.logprobs.content is not None
            finish = choice.finish_reason or finish
    assert text == f"[{tuned}] hello there" and finish == "stop"
    assert standin.chats()[-1]["n"] == 2 and standin.chats()[-1]["logprobs"] is True
    assert standin.paths().count("/v1/load_lora_adapter") == 1  # loaded once

    client.models.delete(tuned)
    assert standin.calls[-1] == ("/v1/unload_lora_adapter", {"lora_name": tuned})
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model=tuned, messages=HI)


def test_vllm_errors_are_openai_shaped(server: LocalServer, standin: VllmStandIn) -> None:
    client = server.client()
    standin.base_model = "something-else"  # vLLM serves another model
    with pytest.raises(openai.BadRequestError) as rejected:
        client.chat.completions.create(model=TINY, messages=HI)
    body = rejected.value.body
    assert isinstance(body, dict) and "does not exist" in body["message"]
    assert standin.url in body["message"]
    standin.stop()
    with pytest.raises(openai.APIStatusError) as down:
        client.chat.completions.create(model=TINY, messages=HI)
    assert down.value.status_code == 502
    assert "vLLM server" in str(down.value.body)
