"""Counted nouns: no "1 errors", no "2 replys"."""

from __future__ import annotations

from tui.core.plurals import plural, plural_noun


def test_counts_agree_with_their_noun() -> None:
    assert plural(1, "error") == "1 error"
    assert plural(0, "error") == "0 errors"
    assert plural(50_000, "example") == "50,000 examples"
    assert plural(1, "epoch") == "1 epoch"
    assert plural(2, "match") == "2 matches"
    assert plural(3, "entry") == "3 entries"
    assert plural(2, "key") == "2 keys"
    assert plural_noun(2, "warning(s)", "warnings") == "warnings"


def test_middle_ellipsis_keeps_the_end() -> None:
    from tui.core.plurals import middle_ellipsis

    assert middle_ellipsis("short.jsonl", 20) == "short.jsonl"
    cut = middle_ellipsis("drone_training_dataset.valid.jsonl", 20)
    assert len(cut) == 20 and cut.endswith("valid.jsonl") and "…" in cut
