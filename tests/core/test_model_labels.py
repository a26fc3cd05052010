"""Pane titles put what tells two models apart first."""

from __future__ import annotations

from tui.core.model_labels import distinguishing_label

BASE = "HuggingFaceTB/SmolLM2-135M-Instruct"


def test_two_fine_tunes_of_one_base_differ_in_their_first_20_characters() -> None:
    one = distinguishing_label(f"ft:{BASE}:local:units:ftjob-abc123")
    two = distinguishing_label(f"ft:{BASE}:local:units:ftjob-def456:ckpt-step-40")
    assert one.startswith("units · abc123 ·")
    assert two.startswith("units · def456 · ckpt 40 ·")
    assert one[:20] != two[:20]


def test_a_base_model_says_base() -> None:
    assert distinguishing_label(BASE) == f"base · {BASE}"
    assert distinguishing_label("") == ""
