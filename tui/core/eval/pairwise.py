"""Pairwise verdicts between two models on one row, and their tally.

Without a judge the first scorer decides: the higher score wins, equal scores tie. A failed
call (no score) counts as 0, so an answer beats an error and two errors tie.
"""

from __future__ import annotations

from typing import Literal

Verdict = Literal["a", "b", "tie"]


def by_score(score_a: float | None, score_b: float | None) -> Verdict:
    a = 0.0 if score_a is None else score_a
    b = 0.0 if score_b is None else score_b
    if a > b:
        return "a"
    if b > a:
        return "b"
    return "tie"


def tally(verdicts: list[Verdict]) -> tuple[int, int, int]:
    """(wins_a, wins_b, ties)."""
    return (verdicts.count("a"), verdicts.count("b"), verdicts.count("tie"))
