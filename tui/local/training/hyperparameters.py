"""Resolving a job's hyperparameters for the trainer: "auto" rules, defaults, the job echo.

Names and ranges live in `tui.core.hyperparameters` (the one owner).

OpenAI's hyperparameters, with the cookbook's "auto" rules:
* `n_epochs` (1-50) auto: the OpenAI cookbook rule, owned by `tui.core.stats.default_epochs`
  (the same number the linter's estimate shows).
* `batch_size` (1-256) auto: about 0.2 % of the examples, clamped to 1..8.
* `learning_rate_multiplier` (0-100, above 0) auto: 1.0; the learning rate is multiplier x 2e-4.
* `beta` (DPO only, 0-2, above 0) auto: 0.1.

Local-only ones (OpenAI's SDK passes extra keys through `method.<type>.hyperparameters`):
`lora_r` 1-256 (8), `lora_alpha` 1-1024 (16), `lora_dropout` 0-0.9 (0.05),
`lora_target_modules` module names or null for every linear layer, `max_seq_length` 16-131072
(null: the model's context, at most 4096), `warmup_ratio` 0-0.5 (0), `weight_decay` 0-1 (0),
`packing` true/false (false), `gradient_checkpointing` true/false/null (null: on for CUDA),
`quantization` "4bit"/"8bit"/null (null; QLoRA needs CUDA and the `gpu` extra).
"""

from __future__ import annotations

from typing import Any

from tui.core.hyperparameters import (
    CODE,
    DPO_KEYS,
    LOCAL_KEYS,
    OPENAI_KEYS,
    HyperparameterError,
    check,
    keys_for,
)
from tui.core.stats import default_epochs
from tui.local.training.interface import Hyperparameters, TrainingError

__all__ = [
    "CODE",
    "DPO_KEYS",
    "LOCAL_KEYS",
    "OPENAI_KEYS",
    "HyperparameterError",
    "check",
    "echo",
    "from_echo",
    "keys_for",
    "resolve",
]


def auto_batch_size(n_examples: int) -> int:
    return min(8, max(1, n_examples // 500))


def resolve(method: str, n_examples: int, given: dict[str, Any]) -> Hyperparameters:
    """Checked values with "auto"/missing replaced by the rules and defaults above."""
    try:
        values = check(method, {k: v for k, v in given.items() if v is not None}, "hyperparameters")
    except HyperparameterError as exc:
        raise TrainingError(CODE, exc.message) from None

    def pick(name: str, auto: Any) -> Any:
        value = values.get(name, "auto")
        return auto if value == "auto" else value

    modules = values.get("lora_target_modules")
    return Hyperparameters(
        n_epochs=pick("n_epochs", default_epochs(n_examples)),
        batch_size=pick("batch_size", auto_batch_size(n_examples)),
        learning_rate_multiplier=float(pick("learning_rate_multiplier", 1.0)),
        lora_r=values.get("lora_r", 8),
        lora_alpha=values.get("lora_alpha", 16),
        lora_dropout=float(values.get("lora_dropout", 0.05)),
        lora_target_modules=tuple(modules or ()),
        max_seq_length=values.get("max_seq_length"),
        warmup_ratio=float(values.get("warmup_ratio", 0.0)),
        weight_decay=float(values.get("weight_decay", 0.0)),
        packing=bool(values.get("packing", False)),
        gradient_checkpointing=pick("gradient_checkpointing", None),
        quantization=values.get("quantization"),
        beta=float(pick("beta", 0.1)),
    )


def echo(method: str, hp: Hyperparameters) -> dict[str, Any]:
    """The resolved values as the job object shows them."""
    shown: dict[str, Any] = {
        "n_epochs": hp.n_epochs,
        "batch_size": hp.batch_size,
        "learning_rate_multiplier": hp.learning_rate_multiplier,
    }
    if method == "dpo":
        shown["beta"] = hp.beta
    shown |= {
        "lora_r": hp.lora_r,
        "lora_alpha": hp.lora_alpha,
        "lora_dropout": hp.lora_dropout,
        "lora_target_modules": list(hp.lora_target_modules) or None,
        "max_seq_length": hp.max_seq_length,
        "warmup_ratio": hp.warmup_ratio,
        "weight_decay": hp.weight_decay,
        "packing": hp.packing,
        "gradient_checkpointing": hp.gradient_checkpointing,
        "quantization": hp.quantization,
    }
    return shown


def from_echo(values: dict[str, Any]) -> Hyperparameters:
    """A job's stored (resolved) hyperparameters back into the dataclass."""
    modules = values.get("lora_target_modules")
    return Hyperparameters(
        n_epochs=int(values["n_epochs"]),
        batch_size=int(values["batch_size"]),
        learning_rate_multiplier=float(values["learning_rate_multiplier"]),
        lora_r=int(values.get("lora_r", 8)),
        lora_alpha=int(values.get("lora_alpha", 16)),
        lora_dropout=float(values.get("lora_dropout", 0.05)),
        lora_target_modules=tuple(modules or ()),
        max_seq_length=values.get("max_seq_length"),
        warmup_ratio=float(values.get("warmup_ratio", 0.0)),
        weight_decay=float(values.get("weight_decay", 0.0)),
        packing=bool(values.get("packing", False)),
        gradient_checkpointing=values.get("gradient_checkpointing"),
        quantization=values.get("quantization"),
        beta=float(values.get("beta", 0.1)),
    )


def resolve_auto_hyperparameters(
    n_examples: int,
    n_epochs: int | str | None,
    batch_size: int | str | None,
    lr_mult: float | str | None,
) -> Hyperparameters:
    """OpenAI's three hyperparameters with "auto" (or None) resolved (see `resolve`).

    Raises TrainingError("invalid_hyperparameters", …) for values out of range."""
    given = {"n_epochs": n_epochs, "batch_size": batch_size, "learning_rate_multiplier": lr_mult}
    return resolve("supervised", n_examples, given)
