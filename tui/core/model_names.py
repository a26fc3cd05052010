"""Fine-tuned model names and shutdown dates (pure).

    parse_model_name("ft:gpt-4o-mini-2024-07-18:personal:recipe-ner:9o1eNNKO")
      → FineTunedName(base="gpt-4o-mini-2024-07-18", org="personal", suffix="recipe-ner",
                      model_id="9o1eNNKO", checkpoint_step=None)
    parse_model_name("ft:gpt-4.1-nano-2025-04-14:openai::BTz2REMH:ckpt-step-100").checkpoint_step
      → 100
    days_left("2027-01-14", today=date(2026, 11, 22)) → 53
    shutdown_label("2027-01-14", today=...) → "53 days left"

Names follow `ft:<base>:<org>:<suffix>:<id>[:ckpt-step-<N>]`; the suffix may be empty. Anything
else (a base model, a vendor's own naming) parses to None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_CKPT = re.compile(r"^ckpt-step-(\d+)$")


@dataclass(frozen=True)
class FineTunedName:
    base: str
    org: str
    suffix: str
    model_id: str
    checkpoint_step: int | None = None

    @property
    def is_checkpoint(self) -> bool:
        return self.checkpoint_step is not None

    def short(self) -> str:
        """A compact label for tables: ``recipe-ner (gpt-4o-mini…) @ step 100``."""
        label = self.suffix or self.model_id
        text = f"{label} ({self.base})"
        return f"{text} @ step {self.checkpoint_step}" if self.is_checkpoint else text


def parse_model_name(name: str) -> FineTunedName | None:
    if not name.startswith("ft:"):
        return None
    parts = name[3:].split(":")
    step: int | None = None
    if len(parts) == 5:
        match = _CKPT.match(parts[4])
        if match is None:
            return None
        step = int(match.group(1))
        parts = parts[:4]
    if len(parts) != 4:
        return None
    base, org, suffix, model_id = parts
    if not base or not model_id:
        return None
    return FineTunedName(base, org, suffix, model_id, step)


def base_model_of(name: str) -> str:
    """The base model of a fine-tune or checkpoint name; other names are returned unchanged."""
    parsed = parse_model_name(name)
    return parsed.base if parsed else name


def parse_shutdown_date(value: object) -> date | None:
    """`YYYY-MM-DD` (as the API sends it) to a date; anything else is None."""
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def days_left(shutdown_date: object, today: date) -> int | None:
    """Days until the shutdown date (negative once past); None when no date is announced."""
    parsed = parse_shutdown_date(shutdown_date)
    return None if parsed is None else (parsed - today).days


def shutdown_label(shutdown_date: object, today: date) -> str:
    left = days_left(shutdown_date, today)
    if left is None:
        return "no shutdown date"
    if left < 0:
        return f"shut down {-left} day{'s' * (left != -1)} ago"
    if left == 0:
        return "shuts down today"
    return f"{left} day{'s' * (left != 1)} left"
