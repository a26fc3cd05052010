"""Every model-name form, parsed by the one owner (tui.core.model_names), and days left."""

from __future__ import annotations

from datetime import date

import pytest

from tui.core.model_names import (
    BASE,
    CHECKPOINT,
    FINE_TUNED,
    base_model_of,
    checkpoint_step,
    days_left,
    fine_tune_base,
    model_kind,
    parse_model_name,
    parse_shutdown_date,
    shutdown_date_for,
    suffix_of,
)

# name -> (kind, base model, suffix, checkpoint step)
NAMES: list[tuple[str, str, str, str, int | None]] = [
    ("gpt-4o-mini-2024-07-18", BASE, "gpt-4o-mini-2024-07-18", "", None),
    (
        "ft:gpt-4o-mini-2024-07-18:personal:recipe-ner:9o1eNNKO",
        FINE_TUNED,
        "gpt-4o-mini-2024-07-18",
        "recipe-ner",
        None,
    ),
    ("ft:gpt-4o-mini:openai::7p4lURel", FINE_TUNED, "gpt-4o-mini", "", None),
    (
        "ft:gpt-4.1-nano-2025-04-14:openai::BTz2REMH:ckpt-step-100",
        CHECKPOINT,
        "gpt-4.1-nano-2025-04-14",
        "",
        100,
    ),
    (
        "ft:HuggingFaceTB/SmolLM2-135M-Instruct:local:units:1a2b3c4d",
        FINE_TUNED,
        "HuggingFaceTB/SmolLM2-135M-Instruct",
        "units",
        None,
    ),
    ("gpt-35-turbo-0613.ft-b044a9d3cf9c4228", FINE_TUNED, "gpt-35-turbo-0613", "", None),
    ("gpt-4o-2024-08-06.ft-abc:ckpt-step-20", CHECKPOINT, "gpt-4o-2024-08-06", "", 20),
    # Malformed fine-tune names are names of base models everywhere, never half-parsed.
    ("ft:a:b", BASE, "ft:a:b", "", None),
    ("ft:a:b:c:d:step-3", BASE, "ft:a:b:c:d:step-3", "", None),
    ("ft::o:s:id", BASE, "ft::o:s:id", "", None),
    ("ft:a:b:c:d:e:f", BASE, "ft:a:b:c:d:e:f", "", None),
    ("ft:gpt-4o:o:s:", BASE, "ft:gpt-4o:o:s:", "", None),
    (".ft-abc", BASE, ".ft-abc", "", None),
]


@pytest.mark.parametrize(
    ("name", "kind", "base", "suffix", "step"), NAMES, ids=[n[0] for n in NAMES]
)
def test_every_name_form(name: str, kind: str, base: str, suffix: str, step: int | None) -> None:
    assert model_kind(name) == kind
    assert base_model_of(name) == base
    assert fine_tune_base(name) == (None if kind == BASE else base)
    assert suffix_of(name) == suffix
    assert checkpoint_step(name) == step
    assert (parse_model_name(name) is None) == (kind == BASE)


def test_short_labels() -> None:
    name = parse_model_name("ft:gpt-4o-mini-2024-07-18:personal:recipe-ner:9o1eNNKO")
    assert name is not None and name.short() == "recipe-ner (gpt-4o-mini-2024-07-18)"
    ckpt = parse_model_name("ft:gpt-4.1-nano-2025-04-14:openai::BTz2REMH:ckpt-step-100")
    assert ckpt is not None and ckpt.short() == "BTz2REMH (gpt-4.1-nano-2025-04-14) @ step 100"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2027-01-14", date(2027, 1, 14)),
        ("2027-01-14T00:00:00Z", date(2027, 1, 14)),
        (1799884800, date(2027, 1, 14)),  # Azure: unix seconds
        (date(2027, 1, 14), date(2027, 1, 14)),
        ("soon", None),
        (None, None),
        ("", None),
        (True, None),
        (10**20, None),
    ],
)
def test_shutdown_dates(value: object, expected: date | None) -> None:
    assert parse_shutdown_date(value) == expected


def test_a_fine_tune_lives_until_its_base_shuts_down_aliases_included() -> None:
    dates = {"gpt-4o-mini-2024-07-18": "2027-01-14", "gpt-4o-2024-08-06": "2027-03-01"}
    today = date(2026, 12, 1)
    tuned = "ft:gpt-4o-mini-2024-07-18:personal:recipe-ner:9o1eNNKO"
    aliased = "ft:gpt-4o-mini:openai::7p4lURel"  # some ft: ids name the undated alias
    for name in (tuned, aliased, "gpt-4o-mini-2024-07-18"):
        assert days_left(shutdown_date_for(name, dates), today) == 44
    assert shutdown_date_for("gpt-4o", dates) == date(2027, 3, 1)
    assert shutdown_date_for("ft:gpt-5:o::x", dates) is None
    # The same model gets the same answer in mode 2 (jobs) and mode 4 (models), which both
    # call shutdown_date_for; "ft:a:b" is a base model name in both.
    assert shutdown_date_for("ft:a:b", {"a": "2027-01-01"}) is None
