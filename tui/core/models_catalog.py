"""Model name → tokenizer encoding, training-example token limit and prices."""

from __future__ import annotations

from dataclasses import dataclass

from tui.core.local_models import is_open_model, open_model_encoding
from tui.core.model_names import base_model_of
from tui.core.pricing import ModelPrices, price_table, prices_from_entry

DEFAULT_MODEL = "gpt-4o-mini-2024-07-18"
# The cookbook's MAX_TOKENS_PER_EXAMPLE, used when a model's limit is not known.
COOKBOOK_EXAMPLE_LIMIT = 16385

# Local training and inference cost nothing per token (the machine is the user's own).
LOCAL_PRICES = ModelPrices(0.0, None, 0.0, 0.0, 0.0)
_O200K_PREFIXES = ("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o")
_CL100K_PREFIXES = ("gpt-3.5", "gpt-35", "gpt-4", "davinci-002", "babbage-002")


@dataclass(frozen=True)
class ModelInfo:
    requested: str
    name: str  # the catalog name, or the base name when unknown
    encoding: str
    training_limit: int | None
    prices: ModelPrices | None
    known: bool
    note: str  # empty when everything comes from the table
    reinforcement_only: bool = False  # RFT models: examples end with the user, no assistant


def _family_encoding(name: str) -> str | None:
    lowered = name.lower()
    if lowered.startswith(_O200K_PREFIXES):
        return "o200k_base"
    if lowered.startswith(_CL100K_PREFIXES):
        return "cl100k_base"
    return None


def resolve_model(model: str | None) -> ModelInfo:
    requested = (model or DEFAULT_MODEL).strip()
    base = base_model_of(requested)
    table = price_table().models
    entry_name = base if base in table else None
    if entry_name is None:
        entry_name = next((n for n, e in table.items() if base in e.get("aliases", [])), None)
    if entry_name is not None:
        entry = table[entry_name]
        limit = entry.get("training_example_tokens")
        return ModelInfo(
            requested=requested,
            name=entry_name,
            encoding=str(entry["encoding"]),
            training_limit=int(limit) if isinstance(limit, int) else None,
            prices=prices_from_entry(entry),
            known=True,
            note="" if isinstance(limit, int) else "no published training-example token limit",
            reinforcement_only=entry.get("methods") == ["reinforcement"],
        )
    if is_open_model(base):  # trained by the local server: its own tokenizer and limit
        encoding_name, limit, note = open_model_encoding(base)
        return ModelInfo(
            requested=requested,
            name=base,
            encoding=encoding_name,
            training_limit=limit,
            prices=LOCAL_PRICES,
            known=True,
            note=note,
        )
    encoding = _family_encoding(base)
    if encoding is None:
        return ModelInfo(
            requested=requested,
            name=base,
            encoding="o200k_base",
            training_limit=COOKBOOK_EXAMPLE_LIMIT,
            prices=None,
            known=False,
            note=(
                f"unknown model {base!r}: tokens counted with o200k_base, cookbook limit "
                f"{COOKBOOK_EXAMPLE_LIMIT} per example, no price"
            ),
        )
    return ModelInfo(
        requested=requested,
        name=base,
        encoding=encoding,
        training_limit=COOKBOOK_EXAMPLE_LIMIT,
        prices=None,
        known=False,
        note=(
            f"{base!r} is not in the price table (as of {price_table().as_of}): "
            f"{encoding}, cookbook limit {COOKBOOK_EXAMPLE_LIMIT} per example, no price"
        ),
    )


def known_models() -> list[str]:
    return list(price_table().models)
