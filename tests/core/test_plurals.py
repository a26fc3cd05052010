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
