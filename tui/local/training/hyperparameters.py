"""Resolving a job's hyperparameters for the trainer: "auto" rules, defaults, the job echo.

Names and ranges live in `tui.core.hyperparameters` (the one owner). Its docstring lists every
hyperparameter with its range, its "auto" rule and its default.
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


def resolve(
    method: str, n_examples: int, given: dict[str, Any], processes: int = 1
) -> Hyperparameters:
    """Checked values with "auto"/missing replaced by the rules and defaults above. With several
    training `processes` the global batch must split evenly: "auto" rounds up to a multiple,
    a given batch_size that does not divide is an error."""
    try:
        values = check(method, {k: v for k, v in given.items() if v is not None}, "hyperparameters")
    except HyperparameterError as exc:
        raise TrainingError(CODE, exc.message) from None
    batch = values.get("batch_size", "auto")
    if batch != "auto" and batch % processes:
        raise TrainingError(
            CODE,
            f"batch_size ({batch}) must be a multiple of the number of training processes "
            f"({processes}): each process trains an equal share of every batch",
        )
    auto_batch = -(-auto_batch_size(n_examples) // processes) * processes

    def pick(name: str, auto: Any) -> Any:
        value = values.get(name, "auto")
        return auto if value == "auto" else value

    modules = values.get("lora_target_modules")
    return Hyperparameters(
        n_epochs=pick("n_epochs", default_epochs(n_examples)),
        batch_size=pick("batch_size", auto_batch),
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
