"""Fine-tuned model names and shutdown dates (pure).

    parse_model_name("ft:gpt-4o-mini-2024-07-18:personal:recipe-ner:9o1eNNKO")
      → FineTunedName(base="gpt-4o-mini-2024-07-18", org="personal", suffix="recipe-ner",
                      model_id="9o1eNNKO", checkpoint_step=None)
    parse_model_name("ft:gpt-4.1-nano-2025-04-14:openai::BTz2REMH:ckpt-step-100").checkpoint_step
      → 100
    days_left("2027-01-14", today=date(2026, 11, 22)) → 53
    shutdown_label("2027-01-14", today=...) → "53 days left"

Names follow `ft:<base>:<org>:<suffix>:<id>[:ckpt-step-<N>]` (OpenAI and the local server; the
suffix may be empty) or `<base>.ft-<id>[:ckpt-step-<N>]` (Azure). Anything else, including a
malformed `ft:` name such as `ft:a:b`, is a base model name and parses to None.

This module is the one owner of model-name parsing, model kinds, checkpoint steps, shutdown
dates (with aliases) and days left, which are counted in UTC days as the API's dates are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal

_CKPT = re.compile(r"^ckpt-step-(\d+)$")
AZURE_FT_MARK = ".ft-"

ModelKind = Literal["base", "fine-tuned", "checkpoint"]
BASE: ModelKind = "base"
FINE_TUNED: ModelKind = "fine-tuned"
CHECKPOINT: ModelKind = "checkpoint"


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
    """The parts of a fine-tune or checkpoint name; None for base models and malformed names."""
    head, step = _split_checkpoint(name)
    if head is None:
        return None
    if head.startswith("ft:"):
        parts = head[3:].split(":")
        if len(parts) != 4:
            return None
        base, org, suffix, model_id = parts
    elif AZURE_FT_MARK in head and ":" not in head:
        base, _, model_id = head.partition(AZURE_FT_MARK)
        org = suffix = ""
    else:
        return None
    if not base or not model_id:
        return None
    return FineTunedName(base, org, suffix, model_id, step)


def _split_checkpoint(name: str) -> tuple[str | None, int | None]:
    """(name without `:ckpt-step-N`, N); (None, None) when the last part is a malformed step."""
    head, sep, tail = name.rpartition(":")
    if sep and tail.startswith(("ckpt-", "step-")):
        match = _CKPT.match(tail)
        return (head, int(match.group(1))) if match else (None, None)
    return name, None


def fine_tune_base(name: str) -> str | None:
    """The base model named in a fine-tune or checkpoint name; None for other names."""
    parsed = parse_model_name(name)
    return parsed.base if parsed else None


def base_model_of(name: str) -> str:
    """The base model of a fine-tune or checkpoint name; other names are returned unchanged."""
    return fine_tune_base(name) or name


def model_kind(name: str) -> ModelKind:
    parsed = parse_model_name(name)
    if parsed is None:
        return BASE
    return CHECKPOINT if parsed.is_checkpoint else FINE_TUNED


def checkpoint_step(name: str) -> int | None:
    parsed = parse_model_name(name)
    return parsed.checkpoint_step if parsed else None


def suffix_of(name: str | None) -> str:
    """The user's suffix in a fine-tune name ("" when none or not a fine-tune)."""
    parsed = parse_model_name(name) if name else None
    return parsed.suffix if parsed else ""


def parse_shutdown_date(value: object) -> date | None:
    """`YYYY-MM-DD` (OpenAI), an ISO timestamp, or unix seconds (Azure's deprecation dates)."""
    if isinstance(value, date):
        return value.date() if isinstance(value, datetime) else value
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, tz=UTC).date()
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


_SNAPSHOT_TAIL = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{4})$")  # -2024-07-18 or -0613


def _is_snapshot_of(name: str, alias: str) -> bool:
    """`gpt-4o-2024-08-06` is a snapshot of `gpt-4o`; `gpt-4o-mini-2024-07-18` is not."""
    return name.startswith(alias + "-") and _SNAPSHOT_TAIL.fullmatch(name[len(alias) :]) is not None


def today_utc() -> date:
    """The day the API's shutdown dates are counted against."""
    return datetime.now(tz=UTC).date()


def shutdown_date_for(name: str, dates: Mapping[str, object]) -> date | None:
    """A model's shutdown date from the listed dates: its own, else its base model's (a fine-tune
    lives until its base shuts down), else the earliest dated snapshot its base is an alias of
    (`gpt-4o-mini` in some ft: names means `gpt-4o-mini-2024-07-18`)."""
    base = base_model_of(name)
    for candidate in (name, base):
        found = parse_shutdown_date(dates.get(candidate))
        if found is not None:
            return found
    snapshots = [parse_shutdown_date(d) for n, d in dates.items() if _is_snapshot_of(n, base)]
    dated = [d for d in snapshots if d is not None]
    return min(dated) if dated else None


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
