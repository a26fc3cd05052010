"""Model names resolve to the right tokenizer, limit and price; unknown prices stay null."""

from __future__ import annotations

import pytest

from tui.core.models_catalog import resolve_model
from tui.core.pricing import price_table, training_cost_usd


@pytest.mark.parametrize(
    ("model", "encoding", "limit"),
    [
        ("gpt-4o-mini-2024-07-18", "o200k_base", 65536),
        ("gpt-4o", "o200k_base", 65536),
        ("gpt-4.1-nano-2025-04-14", "o200k_base", 32768),
        ("gpt-3.5-turbo", "cl100k_base", 16385),
        ("gpt-3.5-turbo-0613", "cl100k_base", 4096),
        ("davinci-002", "cl100k_base", 16384),
        ("ft:gpt-4o-mini-2024-07-18:personal:pinolo:9uJPbR69", "o200k_base", 65536),
        ("ft:gpt-3.5-turbo-0125:org::abc:ckpt-step-10", "cl100k_base", 16385),
    ],
)
def test_known_models(model: str, encoding: str, limit: int) -> None:
    info = resolve_model(model)
    assert (info.encoding, info.training_limit, info.known) == (encoding, limit, True)


def test_families_outside_the_table_get_their_encoding_but_no_price() -> None:
    info = resolve_model("gpt-5-mini")
    assert info.encoding == "o200k_base" and info.prices is None and not info.known
    assert "not in the price table" in info.note
    assert resolve_model("gpt-4-32k").encoding == "cl100k_base"


def test_unknown_model_falls_back_to_o200k_and_says_so() -> None:
    info = resolve_model("my-llama")
    assert info.encoding == "o200k_base" and "unknown model" in info.note


def test_price_table_is_dated_and_costs_follow_the_guide() -> None:
    table = price_table()
    assert table.as_of and table.sources
    # The guide: 100k tokens x 3 epochs ~ $0.90 on gpt-4o-mini and ~ $2.40 on gpt-3.5-turbo.
    assert training_cost_usd(resolve_model("gpt-4o-mini").prices, 300_000) == pytest.approx(0.9)
    assert training_cost_usd(resolve_model("gpt-3.5-turbo").prices, 300_000) == pytest.approx(2.4)
    assert training_cost_usd(resolve_model("o4-mini").prices, 300_000) is None  # hourly
    assert training_cost_usd(None, 10) is None
