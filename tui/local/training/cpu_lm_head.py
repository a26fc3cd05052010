"""The LM head's per-token log-probabilities on CPU: only supervised positions, one pass.

TRL's `SFTTrainer` scores every label through its fused LM head (`add_fused_lm_head`, on
`trl.kernels.ChunkedLogProbFunction`). On CUDA that is a Triton kernel over the supervised
positions only. On any other device its torch fallback projects *every* position (prompt tokens
included), folds each tile with about ten full-vocabulary passes (entropy, top-1, online
logsumexp) and projects it all again in the backward. With it, CPU training ran at 0.66x the
throughput of transformers' `Trainer` + peft (`benchmarks/train_bench.py`).

No library has a CPU version of the cheaper recipe, so it is written here:
- only positions whose label is not -100 reach the head (prompt tokens never do);
- tokens go through the head in chunks, so the full-vocabulary logits of the batch never exist
  (one chunk of `CHUNK_TOKENS x vocab` at a time);
- each log-probability depends on its own hidden state only, so the forward pass also computes
  d log p / d h for every token (`(onehot - softmax) @ W`, one hidden-sized row per token) and the
  backward is a scaling of those rows: two matrix products per chunk, none recomputed.

`install(model)` replaces the forward that TRL's `add_fused_lm_head` installed, for the common
case it can do exactly (frozen LM head, no bias, no logit scaling or soft-capping, temperature 1);
anything else keeps TRL's forward. The output has the fields `SFTTrainer.compute_loss` reads:
`log_probs` (with gradient), `entropy` and `is_top1` (no gradient), `label_mask`.
"""

from __future__ import annotations

import types
from typing import Any

CHUNK_TOKENS = 1024


def _log_probs_function() -> Any:
    import torch

    class SupervisedLogProbs(torch.autograd.Function):
        """log p(label) of each row of `hidden` (already restricted to supervised positions)."""

        @staticmethod
        def forward(
            ctx: Any, hidden: torch.Tensor, weight: torch.Tensor, labels: torch.Tensor
        ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
            n = hidden.shape[0]
            log_probs = hidden.new_empty(n, dtype=torch.float32)
            entropy = hidden.new_empty(n, dtype=torch.float32)
            is_top1 = torch.empty(n, dtype=torch.bool, device=hidden.device)
            grad_rows = torch.empty_like(hidden) if ctx.needs_input_grad[0] else None
            for start in range(0, n, CHUNK_TOKENS):
                end = min(start + CHUNK_TOKENS, n)
                logits = (hidden[start:end] @ weight.t()).float()
                target = labels[start:end]
                log_z = torch.logsumexp(logits, dim=-1)
                log_probs[start:end] = logits.gather(-1, target[:, None]).squeeze(-1) - log_z
                # top-1 as argmax counts it (the first maximum wins a tie)
                is_top1[start:end] = logits.argmax(-1) == target
                probs = logits.sub(log_z[:, None]).exp_()
                expected_logit = (probs[:, None, :] @ logits[:, :, None]).view(-1)
                entropy[start:end] = log_z - expected_logit
                if grad_rows is not None:
                    # d log p_target / d logits = onehot(target) - softmax
                    probs.neg_().scatter_add_(-1, target[:, None], torch.ones_like(log_z)[:, None])
                    grad_rows[start:end] = (probs.to(weight.dtype) @ weight).to(hidden.dtype)
            ctx.save_for_backward(grad_rows)
            ctx.mark_non_differentiable(entropy, is_top1)
            return log_probs, entropy, is_top1

        @staticmethod
        def backward(
            ctx: Any, grad_log_probs: torch.Tensor, *_: Any
        ) -> tuple[torch.Tensor | None, None, None]:
            (grad_rows,) = ctx.saved_tensors
            if grad_rows is None or grad_log_probs is None:
                return None, None, None
            return grad_rows * grad_log_probs[:, None].to(grad_rows.dtype), None, None

    return SupervisedLogProbs


def supported(model: Any) -> bool:
    """Whether `model`'s head is the plain frozen projection this module computes exactly."""
    config = model.config.get_text_config()
    head = model.get_output_embeddings()
    scaled = any(
        getattr(config, name, None) not in (None, 1.0)
        for name in ("logit_scale", "output_multiplier", "lm_head_multiplier", "logits_scaling")
    )
    return (
        head is not None
        and getattr(head, "bias", None) is None
        and not head.weight.requires_grad
        and getattr(config, "final_logit_softcapping", None) is None
        and not scaled
        and not getattr(config, "output_router_logits", False)
    )


def install(model: Any) -> bool:
    """On a model TRL gave a fused LM head: serve `fused_lm_head=True` calls from this module.
    Returns False (TRL's forward stays) when the head is not one this module handles."""
    if not supported(model):
        return False
    from trl.trainer.utils import FusedCausalLMOutput

    trl_forward = model.forward
    log_probs_of = _log_probs_function()

    def forward(self: Any, *args: Any, fused_lm_head: bool = False, **kwargs: Any) -> Any:
        if not fused_lm_head or kwargs.get("shift_labels") is not None:
            return trl_forward(*args, fused_lm_head=fused_lm_head, **kwargs)
        labels = kwargs.pop("labels")
        num_items = kwargs.pop("num_items_in_batch", None)
        kwargs["use_cache"] = False
        hidden = self.base_model(*args, **kwargs).last_hidden_state[:, :-1]
        labels = labels[:, 1:]
        mask = labels != -100
        head = self.get_output_embeddings()
        picked, entropy, top1 = log_probs_of.apply(hidden[mask], head.weight, labels[mask])
        log_probs = picked.new_zeros(mask.shape).masked_scatter(mask, picked)
        divisor = mask.sum().clamp(min=1) if num_items is None else num_items
        return FusedCausalLMOutput(
            loss=-log_probs.sum() / divisor,
            log_probs=log_probs,
            entropy=entropy.new_zeros(mask.shape).masked_scatter(mask, entropy),
            is_top1=top1.new_zeros(mask.shape).masked_scatter(mask, top1),
            label_mask=mask,
        )

    model.forward = types.MethodType(forward, model)
    return True
