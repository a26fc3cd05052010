"""The one owner of fine-tuning hyperparameter names, ranges and defaults (SFT and DPO).

Pure: the local server (`tui.local.training.hyperparameters` resolves "auto" and builds the
trainer's values), the job service and the new-job form all check values here.

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

import math
from typing import Any

OPENAI_KEYS = ("n_epochs", "batch_size", "learning_rate_multiplier")
DPO_KEYS = ("beta",)
LOCAL_KEYS = (
    "lora_r",
    "lora_alpha",
    "lora_dropout",
    "lora_target_modules",
    "max_seq_length",
    "warmup_ratio",
    "weight_decay",
    "packing",
    "gradient_checkpointing",
    "quantization",
)
INT_RANGES = {
    "n_epochs": (1, 50),
    "batch_size": (1, 256),
    "lora_r": (1, 256),
    "lora_alpha": (1, 1024),
    "max_seq_length": (16, 131072),
}
# (low, high, low_exclusive)
FLOAT_RANGES = {
    "learning_rate_multiplier": (0.0, 100.0, True),
    "beta": (0.0, 2.0, True),
    "lora_dropout": (0.0, 0.9, False),
    "warmup_ratio": (0.0, 0.5, False),
    "weight_decay": (0.0, 1.0, False),
}
QUANTIZATIONS = ("4bit", "8bit")
AUTO_ALLOWED = frozenset(OPENAI_KEYS + DPO_KEYS + ("gradient_checkpointing",))
MAX_TARGET_MODULES = 64
CODE = "invalid_hyperparameters"


class HyperparameterError(ValueError):
    """A bad value; `name` is the parameter as the caller named it (e.g. with its prefix)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message
        self.code = CODE


def keys_for(method: str) -> tuple[str, ...]:
    return OPENAI_KEYS + (DPO_KEYS if method == "dpo" else ()) + LOCAL_KEYS


def check(method: str, given: dict[str, Any], where: str) -> dict[str, Any]:
    """Validate the keys and values a client sent (keeping "auto"); raises HyperparameterError
    naming `<where>.<name>`."""
    allowed = keys_for(method)
    checked: dict[str, Any] = {}
    for name, value in given.items():
        param = f"{where}.{name}"
        if name not in allowed:
            what = "DPO" if method == "dpo" else "supervised fine-tuning"
            raise HyperparameterError(param, f"Unknown hyperparameter '{name}' for {what}.")
        checked[name] = _checked(name, value, param)
    return checked


def _checked(name: str, value: Any, param: str) -> Any:
    if value == "auto" and name in AUTO_ALLOWED:
        return "auto"
    if name in INT_RANGES:
        if value is None and name == "max_seq_length":
            return None
        low, high = INT_RANGES[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            auto = " or 'auto'" if name in AUTO_ALLOWED else ""
            null = " or null" if name == "max_seq_length" else ""
            raise HyperparameterError(
                param,
                f"Invalid value for '{param}': {_shown(value)}. It must be an integer from "
                f"{low} to {high}{auto}{null}.",
            )
        return value
    if name in FLOAT_RANGES:
        low_f, high_f, exclusive = FLOAT_RANGES[name]
        number = (
            float(value)
            if isinstance(value, int | float) and not isinstance(value, bool)
            else math.nan
        )
        too_low = number <= low_f if exclusive else number < low_f
        if not math.isfinite(number) or too_low or number > high_f:
            bound = ">" if exclusive else ">="
            auto = " or 'auto'" if name in AUTO_ALLOWED else ""
            raise HyperparameterError(
                param,
                f"Invalid value for '{param}': {_shown(value)}. It must be a number "
                f"{bound} {low_f:g} and <= {high_f:g}{auto}.",
            )
        return number
    if name in ("packing", "gradient_checkpointing"):
        if value is None and name == "gradient_checkpointing":
            return None
        if not isinstance(value, bool):
            raise HyperparameterError(
                param, f"Invalid value for '{param}': {_shown(value)}. It must be true or false."
            )
        return value
    if name == "quantization":
        if value is not None and value not in QUANTIZATIONS:
            raise HyperparameterError(
                param,
                f'Invalid value for \'{param}\': {_shown(value)}. It must be "4bit", "8bit" '
                "or null.",
            )
        return value
    if name == "lora_target_modules":
        if value is None or value == "all-linear":
            return None
        ok = (
            isinstance(value, list)
            and 0 < len(value) <= MAX_TARGET_MODULES
            and all(isinstance(m, str) and m.strip() and len(m) <= 200 for m in value)
        )
        if not ok:
            raise HyperparameterError(
                param,
                f"Invalid value for '{param}': {_shown(value)}. It must be a list of 1 to "
                f'{MAX_TARGET_MODULES} module names (e.g. ["q_proj", "v_proj"]), '
                '"all-linear" or null.',
            )
        return [m.strip() for m in value]
    raise HyperparameterError(param, f"Unknown hyperparameter '{name}'.")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
