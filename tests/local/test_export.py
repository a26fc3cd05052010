"""Export proofs against the real `ft-tui serve` (tiny random Llama model, fine-tuned for real):
the merged folder, the GGUF file and the adapter answer exactly as the server does; the Ollama
Modelfile and the model card say what they must; bad requests get OpenAI-shaped errors."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.local.conftest import TINY, LocalServer, wait_for_status
from tests.local.tiny_model import pattern_examples
from tui import __version__
from tui.services.exports import ExportError, ExportResult, export_model

pytestmark = pytest.mark.local

PROMPT = [{"role": "user", "content": "say green"}]
MAX_TOKENS = 8
MAIN_SYSTEM = "You name colours."
# Logits of the F16 GGUF against the float32 merged model, on this tiny random model whose
# logits reach about ±10: F16 rounding of every weight moves them by a few hundredths.
F16_LOGIT_TOLERANCE = 0.1


def _training_bytes() -> bytes:
    lines = []
    for i, example in enumerate(pattern_examples(24)):
        system = MAIN_SYSTEM if i % 4 else "Rare system prompt."
        lines.append(
            json.dumps({"messages": [{"role": "system", "content": system}, *example["messages"]]})
        )
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="module")
def tuned(shared_server: LocalServer) -> dict[str, Any]:
    client = shared_server.client()
    data = _training_bytes()
    training = client.files.create(file=("colours.jsonl", data), purpose="fine-tune")
    validation = client.files.create(
        file=("valid.jsonl", data[:400].rsplit(b"\n", 1)[0] + b"\n"), purpose="fine-tune"
    )
    job = client.fine_tuning.jobs.create(
        model=TINY,
        training_file=training.id,
        validation_file=validation.id,
        suffix="export",
        method={
            "type": "supervised",
            "supervised": {
                "hyperparameters": {"n_epochs": 2, "batch_size": 4, "learning_rate_multiplier": 4}
            },
        },
    )
    done = wait_for_status(client, job.id, {"succeeded", "failed", "cancelled"}, timeout=300)
    assert done.status == "succeeded", done.error
    checkpoints = client.fine_tuning.jobs.checkpoints.list(job.id).data
    return {
        "model": done.fine_tuned_model,
        "job": done,
        "checkpoint": checkpoints[0].fine_tuned_model_checkpoint,
        "training_sha": hashlib.sha256(data).hexdigest(),
    }


def server_answer(server: LocalServer, model: str) -> str:
    reply = server.client().chat.completions.create(
        model=model,
        messages=PROMPT,
        temperature=0,
        max_tokens=MAX_TOKENS,
    )
    return reply.choices[0].message.content or ""


def greedy(model: Any, tokenizer: Any) -> tuple[str, Any]:
    """(greedy answer, logits of the prompt) the way the server renders the prompt."""
    import torch

    text = tokenizer.apply_chat_template(PROMPT, tokenize=False, add_generation_prompt=True)
    ids = torch.tensor([tokenizer(text, add_special_tokens=False)["input_ids"]])
    with torch.no_grad():
        logits = model(ids).logits[0]
        out = model.generate(ids, max_new_tokens=MAX_TOKENS, do_sample=False)
    return tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True), logits


async def export(server: LocalServer, model: str, fmt: str, out: Path, **kw: Any) -> ExportResult:
    stages: list[str] = []
    result = await export_model(
        server.async_client(), None, model, fmt, out, progress=lambda s, f: stages.append(s), **kw
    )
    assert "downloading" in stages and stages[-1] == "unpacking"
    return result


async def test_merged_folder_answers_like_the_server(
    shared_server: LocalServer, tuned: dict[str, Any], tmp_path: Path
) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    result = await export(shared_server, tuned["model"], "merged", tmp_path / "merged")
    assert {"config.json", "model.safetensors", "tokenizer.json", "generation_config.json"} <= set(
        result.files
    )
    assert result.serve_commands == [f"vllm serve {tmp_path / 'merged'}"]
    model = AutoModelForCausalLM.from_pretrained(str(result.path), dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(str(result.path))
    assert tokenizer.chat_template  # the chat template travels with the weights
    answer, _ = greedy(model, tokenizer)
    assert answer and answer == server_answer(shared_server, tuned["model"])
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no staging left behind


async def test_gguf_loads_back_with_the_same_answer_and_close_logits(
    shared_server: LocalServer, tuned: dict[str, Any], tmp_path: Path
) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    merged = await export(shared_server, tuned["model"], "merged", tmp_path / "merged")
    result = await export(shared_server, tuned["model"], "gguf", tmp_path / "gguf")
    assert "model-f16.gguf" in result.files and "gguf-py" in result.converter
    assert result.serve_commands[0] == f"llama-server -m {tmp_path / 'gguf' / 'model-f16.gguf'}"
    reference = AutoModelForCausalLM.from_pretrained(str(merged.path), dtype=torch.float32)
    loaded = AutoModelForCausalLM.from_pretrained(
        str(result.path), gguf_file="model-f16.gguf", dtype=torch.float32
    )
    tokenizer = AutoTokenizer.from_pretrained(str(result.path), gguf_file="model-f16.gguf")
    answer, logits = greedy(loaded, tokenizer)
    _, reference_logits = greedy(reference, AutoTokenizer.from_pretrained(str(merged.path)))
    assert answer == server_answer(shared_server, tuned["model"])
    assert (logits - reference_logits).abs().max().item() < F16_LOGIT_TOLERANCE

    q8 = await export(shared_server, tuned["model"], "gguf", tmp_path / "q8", quantization="q8_0")
    quantized = AutoModelForCausalLM.from_pretrained(
        str(q8.path), gguf_file="model-q8_0.gguf", dtype=torch.float32
    )
    # Q8_0 stores each block of 32 weights as int8 times one float16 scale d = max|w| / 127:
    # a weight is off by at most half a step, plus up to 127 times the scale's float16 rounding
    # (2**-11 relative), so by at most 0.57 d <= 0.6 * max|w| / 127 over a whole tensor.
    weights = dict(quantized.named_parameters())
    for name, original in reference.named_parameters():
        step = 0.6 * original.detach().abs().max().item() / 127 + 1e-6
        assert (weights[name] - original).abs().max().item() <= step, name


async def test_adapter_loads_with_peft_on_the_base_model(
    shared_server: LocalServer, tuned: dict[str, Any], tmp_path: Path, tiny_model_dir: Path
) -> None:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    result = await export(shared_server, tuned["model"], "adapter", tmp_path / "adapter")
    assert {"adapter_config.json", "adapter_model.safetensors", "README.md"} == set(result.files)
    config = json.loads((result.path / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == str(tiny_model_dir)
    assert result.serve_commands[0].startswith(f"vllm serve {tiny_model_dir} --enable-lora")
    base = AutoModelForCausalLM.from_pretrained(str(tiny_model_dir), dtype=torch.float32)
    model = PeftModel.from_pretrained(base, str(result.path))
    answer, _ = greedy(model, AutoTokenizer.from_pretrained(str(tiny_model_dir)))
    assert answer == server_answer(shared_server, tuned["model"])


async def test_ollama_folder_has_gguf_and_a_modelfile_from_the_chat_template(
    shared_server: LocalServer, tuned: dict[str, Any], tmp_path: Path
) -> None:
    result = await export(shared_server, tuned["model"], "ollama", tmp_path / "ollama")
    assert {"Modelfile", "model-f16.gguf", "README.md"} == set(result.files)
    text = (result.path / "Modelfile").read_text()
    assert text.startswith("FROM ./model-f16.gguf\n")
    assert "<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n" in text
    # the tiny template's own default system turn, for conversations that bring none
    assert "<|im_start|>system\nYou are a tiny test model.<|im_end|>" in text
    assert 'PARAMETER stop "<|im_end|>"' in text
    assert f'SYSTEM """{MAIN_SYSTEM}"""' in text  # the training file's most used system prompt
    assert "Rare system prompt" not in text
    assert result.serve_commands[0].startswith("ollama create ft-tiny-local-export-")


async def test_every_export_carries_a_model_card(
    shared_server: LocalServer, tuned: dict[str, Any], tmp_path: Path
) -> None:
    checkpoint = tuned["checkpoint"]
    result = await export(shared_server, checkpoint, "adapter", tmp_path / "ckpt")
    card = (result.path / "README.md").read_text()
    job = tuned["job"]
    assert f'base_model: "{TINY}"' in card
    assert f"`colours.jsonl` (`{job.training_file}`), sha256 `{tuned['training_sha']}`" in card
    assert "`valid.jsonl`" in card
    assert '"batch_size": 4' in card and '"n_epochs": 2' in card
    assert f"fine-tuning job: `{job.id}`" in card
    assert f"ft-tui {__version__}" in card
    assert "final training loss: " in card and "final training loss: not reported" not in card
    assert "final validation loss: not reported" not in card
    assert "checkpoint at step" in card


async def test_existing_folder_is_kept_without_force_and_replaced_with_it(
    shared_server: LocalServer, tuned: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(ExportError, match="already exists"):
        await export(shared_server, tuned["model"], "adapter", out)
    assert (out / "keep.txt").read_text() == "mine"
    await export(shared_server, tuned["model"], "adapter", out, force=True)
    assert not (out / "keep.txt").exists() and (out / "adapter_config.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_bad_export_requests_get_openai_shaped_errors(
    shared_server: LocalServer, tuned: dict[str, Any]
) -> None:
    import openai

    client = shared_server.client()

    def error(call: Any) -> tuple[int, dict[str, Any]]:
        with pytest.raises(openai.APIStatusError) as caught:
            call()
        body = caught.value.body
        assert isinstance(body, dict)
        return caught.value.status_code, body

    def post(body: dict[str, Any]) -> Any:
        return lambda: client.post("/exports", body=body, cast_to=object)

    status, body = error(post({"model": "ft:tiny:local::nothere", "format": "gguf"}))
    assert (status, body["code"], body["param"]) == (404, "model_not_found", "model")
    status, body = error(post({"model": tuned["model"], "format": "onnx"}))
    assert (status, body["param"]) == (400, "format")
    status, body = error(
        post({"model": tuned["model"], "format": "adapter", "quantization": "q8_0"})
    )
    assert (status, body["param"]) == (400, "quantization")
    status, body = error(post({"model": TINY, "format": "merged"}))
    assert (status, body["code"]) == (400, "model_not_exportable")
    status, body = error(lambda: client.get("/exports/export-nope", cast_to=object))
    assert (status, body["code"]) == (404, "export_not_found")


def test_a_deleted_model_cannot_be_exported(
    shared_server: LocalServer, tuned: dict[str, Any]
) -> None:
    import openai

    client = shared_server.client()
    checkpoints = client.fine_tuning.jobs.checkpoints.list(tuned["job"].id).data
    doomed = checkpoints[-1].fine_tuned_model_checkpoint
    client.models.delete(doomed)
    with pytest.raises(openai.NotFoundError) as caught:
        client.post("/exports", body={"model": doomed, "format": "adapter"}, cast_to=object)
    assert isinstance(caught.value.body, dict) and caught.value.body["code"] == "model_not_found"
