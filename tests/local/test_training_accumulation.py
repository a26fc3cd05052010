"""The loss and gradients of a step do not depend on how it is split into micro-batches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.local.tiny_model import build_tiny_model
from tui.local.training.examples import TokenizedExample, tokenize_example
from tui.local.training.steps import accumulate_gradients


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any, list[TokenizedExample]]:
    import torch

    from tui.local.training.hf import load_model, load_tokenizer
    from tui.local.training.loop import _with_lora

    directory = build_tiny_model(tmp_path_factory.mktemp("tiny"))
    tokenizer = load_tokenizer(directory)
    torch.manual_seed(0)
    model = _with_lora(load_model(directory, torch.device("cpu"), torch.float32))
    model.eval()  # no dropout: both runs must see the same function
    replies = ["red", "green green green green green", "blue blue", "hello world, the capital"]
    examples = []
    for i, reply in enumerate(replies):
        messages = [
            {"role": "user", "content": f"question {i}"},
            {"role": "assistant", "content": reply},
        ]
        ids, labels = tokenize_example(tokenizer, {"messages": messages})
        examples.append(TokenizedExample(i + 1, ids, labels))
    return model, tokenizer, examples


def grads_and_loss(model: Any, pad_id: int, examples: list[TokenizedExample], budget: int) -> Any:
    import torch

    model.zero_grad(set_to_none=True)
    sums = accumulate_gradients(
        model, examples, pad_id=pad_id, device=torch.device("cpu"), token_budget=budget
    )
    assert sums is not None
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}
    return sums, grads


def test_split_into_micro_batches_changes_nothing(setup: Any) -> None:
    import torch

    model, tokenizer, examples = setup
    targets = {e.n_targets for e in examples}
    assert len(targets) > 1  # unequal targets: a mean of per-micro-batch means would differ
    whole, whole_grads = grads_and_loss(model, tokenizer.pad_token_id, examples, budget=10**6)
    split, split_grads = grads_and_loss(model, tokenizer.pad_token_id, examples, budget=1)
    assert whole.targets == split.targets == sum(e.n_targets for e in examples)
    assert whole.correct == split.correct
    assert whole.loss == pytest.approx(split.loss, rel=1e-5)
    for name, grad in whole_grads.items():
        assert torch.allclose(grad, split_grads[name], rtol=1e-4, atol=1e-7), name
    assert any(g.abs().sum() > 0 for g in whole_grads.values())


def test_loss_is_token_weighted_not_a_mean_of_means(setup: Any) -> None:
    model, tokenizer, examples = setup
    pad = tokenizer.pad_token_id
    per_example = [grads_and_loss(model, pad, [e], budget=10**6)[0] for e in examples]
    together, _ = grads_and_loss(model, pad, examples, budget=1)
    token_mean = sum(s.ce for s in per_example) / sum(s.targets for s in per_example)
    mean_of_means = sum(s.loss for s in per_example) / len(per_example)
    assert together.loss == pytest.approx(token_mean, rel=1e-5)
    assert abs(together.loss - mean_of_means) > 1e-3


def test_padding_does_not_change_the_loss(setup: Any) -> None:
    model, tokenizer, examples = setup
    pad = tokenizer.pad_token_id
    alone = [grads_and_loss(model, pad, [e], budget=10**6)[0] for e in examples]
    padded, _ = grads_and_loss(model, pad, examples, budget=10**6)  # one right-padded batch
    assert padded.ce == pytest.approx(sum(s.ce for s in alone), rel=1e-5)
    assert padded.tokens == sum(len(e.input_ids) for e in examples)


def test_micro_batches_respect_the_token_budget(tmp_path: Path) -> None:
    from tui.local.training.batching import micro_batches

    examples = [TokenizedExample(i, [1] * n, [1] * n) for i, n in enumerate([5, 30, 10, 20, 8])]
    chunks = micro_batches(examples, token_budget=40)
    assert sorted(e.line for c in chunks for e in c) == [0, 1, 2, 3, 4]
    for chunk in chunks:
        width = max(len(e.input_ids) for e in chunk)
        assert len(chunk) == 1 or width * len(chunk) <= 40
