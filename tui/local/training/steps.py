"""One optimizer step's gradients and one evaluation pass, token-normalised.

Each micro-batch backpropagates (its summed CE) / (target tokens of the whole step), so the
gradient of a step is that of the mean CE over all its target tokens, however the step is split
into micro-batches."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tui.local.training.batching import LossSums, masked_sums, micro_batches, pad_batch
from tui.local.training.examples import TokenizedExample


def accumulate_gradients(
    model: Any,
    examples: list[TokenizedExample],
    *,
    pad_id: int,
    device: Any,
    token_budget: int,
    should_stop: Callable[[], bool] | None = None,
) -> LossSums | None:
    """Forward/backward every micro-batch of the step (gradients add up in `.grad`).

    Returns the step's loss sums, or None when `should_stop` said so between micro-batches."""
    step_targets = sum(e.n_targets for e in examples)
    sums = LossSums()
    for chunk in micro_batches(examples, token_budget):
        if should_stop is not None and should_stop():
            return None
        ids, mask, labels = pad_batch(chunk, pad_id, device)
        logits = model(input_ids=ids, attention_mask=mask).logits
        ce, correct, targets = masked_sums(logits, labels)
        (ce / step_targets).backward()
        sums.add(LossSums(float(ce.item()), correct, targets, int(mask.sum().item())))
    return sums


def evaluate(
    model: Any, examples: list[TokenizedExample], *, pad_id: int, device: Any, token_budget: int
) -> LossSums:
    """Masked CE and token accuracy over `examples`, in eval mode, without gradients."""
    import torch

    was_training = model.training
    model.eval()
    sums = LossSums()
    try:
        with torch.no_grad():
            for chunk in micro_batches(examples, token_budget):
                ids, mask, labels = pad_batch(chunk, pad_id, device)
                logits = model(input_ids=ids, attention_mask=mask).logits
                ce, correct, targets = masked_sums(logits, labels)
                sums.add(LossSums(float(ce.item()), correct, targets, int(mask.sum().item())))
    finally:
        if was_training:
            model.train()
    return sums
