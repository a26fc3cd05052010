"""The CPU LM head (`tui.local.training.cpu_lm_head`) trains exactly what the model's own loss
trains: same loss, same LoRA gradients, same accuracy, on a padding-free batch whose prompt
tokens are masked; and it steps aside for heads it does not handle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from tests.local.tiny_model import build_tiny_model
from tui.local.training import cpu_lm_head


def _peft_model(model_dir: Path) -> Any:
    from peft import LoraConfig, TaskType, get_peft_model
    from transformers import AutoModelForCausalLM
    from trl.trainer.utils import add_fused_lm_head

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32)
    add_fused_lm_head(model, outputs=("log_probs", "entropy", "is_top1"))
    config = LoraConfig(task_type=TaskType.CAUSAL_LM, r=4, lora_alpha=8, lora_dropout=0.0)
    peft_model = get_peft_model(model, config)
    # LoRA B starts at zero; make the adapter matter so its gradients are a real check
    for name, parameter in peft_model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(parameter, std=0.05)
    return peft_model


LENGTHS = [9, 14, 6]


def _flat_batch(vocab: int) -> dict[str, torch.Tensor]:
    """Three examples in one padding-free row; the first half of each is an unsupervised prompt."""
    generator = torch.Generator().manual_seed(1)
    lengths = LENGTHS
    ids = torch.randint(0, vocab, (sum(lengths),), generator=generator)
    labels = ids.clone()
    position_ids = torch.cat([torch.arange(n) for n in lengths])
    start = 0
    for n in lengths:
        labels[start : start + n // 2 + 1] = -100
        start += n
    return {"input_ids": ids[None], "position_ids": position_ids[None], "labels": labels[None]}


def _lora_grads(model: Any) -> dict[str, torch.Tensor]:
    return {
        name: p.grad.clone()
        for name, p in model.named_parameters()
        if p.requires_grad and p.grad is not None
    }


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


def test_loss_gradients_and_accuracy_match_the_models_own_loss(model_dir: Path) -> None:
    model = _peft_model(model_dir)
    batch = _flat_batch(model.config.vocab_size)

    # The reference: each example on its own through the model's full logits, then
    # cross-entropy summed over every supervised token of the batch and averaged
    losses, logits_rows, start = [], [], 0
    for n in LENGTHS:
        logits = model(input_ids=batch["input_ids"][:, start : start + n]).logits[0]
        logits_rows.append(logits)
        target = batch["labels"][0, start + 1 : start + n]
        losses.append(torch.nn.functional.cross_entropy(logits[:-1], target, reduction="sum"))
        start += n
    targets = batch["labels"][0, 1:]
    supervised = targets != -100
    reference_loss = torch.stack(losses).sum() / supervised.sum()
    reference_loss.backward()  # type: ignore[no-untyped-call]
    expected_grads = _lora_grads(model)
    logits = torch.cat(logits_rows)[:-1]  # position i predicts token i + 1 of the row
    expected_top1 = logits.argmax(-1)[supervised] == targets[supervised]
    model.zero_grad()

    assert cpu_lm_head.install(model.get_base_model())
    ours = model(**batch, fused_lm_head=True)
    ours.loss.backward()

    assert ours.loss.item() == pytest.approx(reference_loss.item(), abs=1e-5)
    grads = _lora_grads(model)
    assert grads.keys() == expected_grads.keys() and grads
    for name, grad in grads.items():
        torch.testing.assert_close(grad, expected_grads[name], atol=1e-5, rtol=1e-4, msg=name)
    assert torch.equal(ours.label_mask[0], supervised)
    assert torch.equal(ours.is_top1[0][supervised], expected_top1)
    assert not ours.is_top1[0][~supervised].any() and not ours.log_probs[0][~supervised].any()
    probs = torch.softmax(logits[supervised].detach(), -1)
    entropy = -(probs * probs.log()).sum(-1)
    torch.testing.assert_close(ours.entropy[0][supervised], entropy, atol=1e-5, rtol=1e-4)


def test_the_ordinary_forward_still_returns_logits_for_generation(model_dir: Path) -> None:
    model = _peft_model(model_dir)
    assert cpu_lm_head.install(model.get_base_model())
    batch = _flat_batch(model.config.vocab_size)
    out = model(input_ids=batch["input_ids"])
    assert out.logits.shape[-1] == model.config.vocab_size


def test_a_trainable_head_keeps_trls_forward(model_dir: Path) -> None:
    model = _peft_model(model_dir)
    base = model.get_base_model()
    base.get_output_embeddings().weight.requires_grad_(True)
    trl_forward = base.forward
    assert not cpu_lm_head.install(base)
    assert base.forward == trl_forward
