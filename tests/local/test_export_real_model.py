"""The export writers on the real default model, SmolLM2-135M-Instruct (30 layers, grouped-query
attention 9/3, tied embeddings, the `smollm` pre-tokenizer), with a LoRA adapter whose weights
are set at random (what training does to them does not matter to the writers): the merged folder
and the F16 GGUF, read back by transformers' GGUF loader, answer the same greedy text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.local.tiny_model import shared_default_model_dir

pytestmark = [pytest.mark.slow, pytest.mark.local]

PROMPT = [{"role": "user", "content": "What is the capital of France?"}]
# SmolLM2's logits span about ±30; F16 weights move them by a few hundredths to tenths.
F16_LOGIT_TOLERANCE = 0.5


def _random_adapter(base_dir: Path, out: Path) -> Path:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(base_dir), dtype=torch.float32)
    config = LoraConfig(r=8, lora_alpha=16, target_modules="all-linear", task_type="CAUSAL_LM")
    peft_model = get_peft_model(model, config)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, parameter in peft_model.named_parameters():
            if "lora_B" in name:  # B starts at zero; give it a small, real effect
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 1e-3)
    peft_model.save_pretrained(str(out))
    return out


def _greedy(model: Any, tokenizer: Any) -> tuple[str, Any]:
    import torch

    text = tokenizer.apply_chat_template(PROMPT, tokenize=False, add_generation_prompt=True)
    ids = torch.tensor([tokenizer(text, add_special_tokens=False)["input_ids"]])
    with torch.no_grad():
        logits = model(ids).logits[0]
        out = model.generate(ids, max_new_tokens=12, do_sample=False)
    return tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True), logits


def test_smollm2_merged_and_gguf_answer_alike(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tui.local.export.gguf_writer import write_gguf
    from tui.local.export.merged import write_merged

    base_dir = shared_default_model_dir(tmp_path_factory)
    adapter = _random_adapter(base_dir, tmp_path / "adapter")
    merged = tmp_path / "merged"
    merged.mkdir()
    write_merged(base_dir, adapter, merged, lambda _f, _s: None)
    converter = write_gguf(merged, tmp_path / "model.gguf", "f16", lambda _f, _s: None)
    assert "gguf-py" in converter

    reference, reference_logits = _greedy(
        AutoModelForCausalLM.from_pretrained(str(merged), dtype=torch.float32),
        AutoTokenizer.from_pretrained(str(merged)),
    )
    loaded = AutoModelForCausalLM.from_pretrained(
        str(tmp_path), gguf_file="model.gguf", dtype=torch.float32
    )
    tokenizer = AutoTokenizer.from_pretrained(str(tmp_path), gguf_file="model.gguf")
    answer, logits = _greedy(loaded, tokenizer)
    assert "Paris" in reference
    assert answer == reference
    assert (logits - reference_logits).abs().max().item() < F16_LOGIT_TOLERANCE
