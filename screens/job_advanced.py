"""The new-job form's "Advanced (local)" field: the local server's own hyperparameters.

One line of `name=value` pairs, e.g. `lora_r=16, lora_alpha=32, packing=true,
lora_target_modules=q_proj|v_proj, quantization=4bit`. Values are numbers, true/false, null, or
text; `|` separates module names. Names and ranges are checked by `tui.core.hyperparameters`, the
one owner of both. Pure (no Textual), so every rule is testable alone.
"""

from __future__ import annotations

from typing import Any

from tui.core.hyperparameters import LOCAL_KEYS, HyperparameterError, check

PLACEHOLDER = "optional: lora_r=16, lora_alpha=32, max_seq_length=1024, packing=true"


def _value(name: str, text: str) -> Any:
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("null", "none", ""):
        return None
    if name == "lora_target_modules":
        return [part.strip() for part in text.split("|") if part.strip()]
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def parse_advanced(text: str, method: str) -> tuple[dict[str, Any], str]:
    """(settings, problem): the problem names the setting and says what it must be."""
    settings: dict[str, Any] = {}
    for pair in (p.strip() for p in text.split(",")):
        if not pair:
            continue
        name, sep, raw = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            return {}, f"advanced: write name=value pairs, got {pair!r}"
        if name not in LOCAL_KEYS:
            return {}, f"advanced: unknown setting {name!r} (one of {', '.join(LOCAL_KEYS)})"
        settings[name] = _value(name, raw.strip())
    try:
        check(method, settings, "advanced")
    except HyperparameterError as exc:
        return {}, exc.message
    return settings, ""
