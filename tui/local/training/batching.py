"""Micro-batches bounded by a token budget, right-padded per batch, and masked loss sums."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tui.local.training.examples import IGNORE, TokenizedExample


def micro_batches(
    examples: list[TokenizedExample], token_budget: int
) -> list[list[TokenizedExample]]:
    """Split one optimizer step's examples (longest first, to pad little) into micro-batches
    whose padded size (count x longest) stays within `token_budget`; never fewer than one
    example per micro-batch."""
    ordered = sorted(examples, key=lambda e: len(e.input_ids), reverse=True)
    chunks: list[list[TokenizedExample]] = []
    current: list[TokenizedExample] = []
    for example in ordered:
        longest = len(current[0].input_ids) if current else len(example.input_ids)
        if current and (len(current) + 1) * longest > token_budget:
            chunks.append(current)
            current = []
        current.append(example)
    if current:
        chunks.append(current)
    return chunks


def pad_batch(examples: list[TokenizedExample], pad_id: int, device: Any) -> tuple[Any, Any, Any]:
    """(input_ids, attention_mask, labels) tensors, right-padded to the longest example."""
    import torch

    width = max(len(e.input_ids) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE, dtype=torch.long)
    for row, example in enumerate(examples):
        n = len(example.input_ids)
        ids[row, :n] = torch.tensor(example.input_ids)
        mask[row, :n] = 1
        labels[row, :n] = torch.tensor(example.labels)
    return ids.to(device), mask.to(device), labels.to(device)


@dataclass
class LossSums:
    ce: float = 0.0  # summed cross-entropy over target tokens
    correct: int = 0  # target tokens whose argmax prediction is right
    targets: int = 0
    tokens: int = 0  # non-padding tokens seen

    def add(self, other: LossSums) -> None:
        self.ce += other.ce
        self.correct += other.correct
        self.targets += other.targets
        self.tokens += other.tokens

    @property
    def loss(self) -> float:
        return self.ce / self.targets if self.targets else 0.0

    @property
    def accuracy(self) -> float:
        return self.correct / self.targets if self.targets else 0.0


def masked_sums(logits: Any, labels: Any) -> tuple[Any, int, int]:
    """(summed CE tensor, correct count, target count): logits at t predict the label at t+1.

    The labels are shifted (not the logits), so the big logits tensor is never copied."""
    import torch
    import torch.nn.functional as functional

    targets = torch.cat([labels[:, 1:], torch.full_like(labels[:, :1], IGNORE)], dim=1)
    flat_logits = logits.float().reshape(-1, logits.size(-1))
    flat_targets = targets.reshape(-1)
    ce = functional.cross_entropy(flat_logits, flat_targets, ignore_index=IGNORE, reduction="sum")
    mask = flat_targets != IGNORE
    with torch.no_grad():
        correct = int((flat_logits.argmax(dim=-1)[mask] == flat_targets[mask]).sum().item())
    return ce, correct, int(mask.sum().item())
