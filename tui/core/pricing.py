"""The dated price and limits table (`assets/pricing.json`) and training-cost arithmetic."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tui.core.assets import asset


@dataclass(frozen=True)
class ModelPrices:
    """USD per 1M tokens; None where no source gives a price (never guessed as 0)."""

    training_per_1m: float | None
    training_per_hour: float | None
    input_per_1m: float | None
    cached_input_per_1m: float | None
    output_per_1m: float | None


@dataclass(frozen=True)
class PriceTable:
    as_of: str
    sources: dict[str, str]
    models: dict[str, dict[str, Any]]


def _opt_float(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def load_price_table(path: Path | None = None) -> PriceTable:
    source = path or asset("pricing.json")
    raw = json.loads(source.read_text(encoding="utf-8"))
    return PriceTable(
        as_of=str(raw["as_of"]), sources=dict(raw.get("sources", {})), models=dict(raw["models"])
    )


@cache
def price_table() -> PriceTable:
    return load_price_table()


def prices_from_entry(entry: dict[str, Any]) -> ModelPrices:
    return ModelPrices(
        training_per_1m=_opt_float(entry.get("training_per_1m")),
        training_per_hour=_opt_float(entry.get("training_per_hour")),
        input_per_1m=_opt_float(entry.get("input_per_1m")),
        cached_input_per_1m=_opt_float(entry.get("cached_input_per_1m")),
        output_per_1m=_opt_float(entry.get("output_per_1m")),
    )


def training_cost_usd(prices: ModelPrices | None, billed_tokens: int) -> float | None:
    """Cost of training `billed_tokens` (already multiplied by epochs); None if unpriced."""
    if prices is None or prices.training_per_1m is None:
        return None
    return round(billed_tokens * prices.training_per_1m / 1_000_000, 6)
