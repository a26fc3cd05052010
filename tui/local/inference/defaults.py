"""Default sampling settings per base model: what a request that omits `temperature` / `top_p`
gets.

Order, first match wins, per setting:
1. an override for that base model (`ft-tui serve --sampling NAME:temperature=T,top_p=P`, which
   the app passes from the local profile's `sampling` table, `tui.services.profiles`);
2. the model's own `generation_config.json`, where it sets the value (`do_sample: false` there
   means greedy: temperature 0);
3. what this server declares for the model (`DECLARED`: the bundled SmolLM2's model card samples
   at temperature 0.2, top_p 0.9);
4. OpenAI's defaults, temperature 1 and top_p 1.

Fine-tunes and checkpoints use their base model's defaults.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from tui.local.base_models import DEFAULT_BASE_MODEL

OPENAI_TEMPERATURE = 1.0
OPENAI_TOP_P = 1.0
TEMPERATURE_RANGE = (0.0, 2.0)
TOP_P_RANGE = (0.0, 1.0)


@dataclass(frozen=True)
class Sampling:
    """Sampling settings; None leaves the setting to the next source."""

    temperature: float | None = None
    top_p: float | None = None

    def over(self, other: Sampling) -> Sampling:
        """These settings, with `other` filling what these leave unset."""
        return Sampling(
            temperature=self.temperature if self.temperature is not None else other.temperature,
            top_p=self.top_p if self.top_p is not None else other.top_p,
        )


# From the model card of HuggingFaceTB/SmolLM2-135M-Instruct ("temperature=0.2, top_p=0.9").
DECLARED: dict[str, Sampling] = {DEFAULT_BASE_MODEL: Sampling(temperature=0.2, top_p=0.9)}


def from_generation_config(model_dir: Path) -> Sampling:
    """The settings `generation_config.json` in `model_dir` sets explicitly (none when absent)."""
    try:
        data = json.loads((model_dir / "generation_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Sampling()
    if not isinstance(data, dict):
        return Sampling()
    temperature = _number(data.get("temperature"), TEMPERATURE_RANGE)
    top_p = _number(data.get("top_p"), TOP_P_RANGE)
    if data.get("do_sample") is False:
        return Sampling(temperature=0.0, top_p=top_p)
    return Sampling(temperature=temperature, top_p=top_p)


def defaults_for(name: str, model_dir: Path, overrides: dict[str, Sampling]) -> Sampling:
    """The complete defaults (both settings set) of base model `name` stored in `model_dir`."""
    chosen = overrides.get(name, Sampling())
    chosen = chosen.over(from_generation_config(model_dir))
    chosen = chosen.over(DECLARED.get(name, Sampling()))
    return chosen.over(Sampling(temperature=OPENAI_TEMPERATURE, top_p=OPENAI_TOP_P))


def parse_sampling_option(value: str) -> tuple[str, Sampling]:
    """`NAME:temperature=T,top_p=P` (either setting may be left out) from `--sampling`.

    Raises ValueError with a message for the user."""
    name, sep, settings = value.rpartition(":")
    name = name.strip()
    if not sep or not name or not settings.strip():
        raise ValueError(f"--sampling expects NAME:temperature=T,top_p=P, got {value!r}")
    found: dict[str, float] = {}
    for item in settings.split(","):
        key, eq, raw = item.partition("=")
        key = key.strip()
        if not eq or key not in ("temperature", "top_p"):
            raise ValueError(
                f"--sampling {value!r}: expected temperature=T and/or top_p=P, got {item!r}"
            )
        bounds = TEMPERATURE_RANGE if key == "temperature" else TOP_P_RANGE
        try:
            number = float(raw)
        except ValueError:
            number = math.nan
        if _number(number, bounds) is None:
            raise ValueError(
                f"--sampling {value!r}: {key} must be a number from {bounds[0]:g} to {bounds[1]:g}"
            )
        found[key] = number
    return name, Sampling(temperature=found.get("temperature"), top_p=found.get("top_p"))


def _number(value: object, bounds: tuple[float, float]) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or not bounds[0] <= value <= bounds[1]:
        return None
    return float(value)
