"""Aggregate stored rows into per-model summaries and pairwise tallies."""

from __future__ import annotations

from itertools import combinations

from tui.core.eval.pairwise import Verdict, by_score
from tui.core.eval.scorers import JUDGE
from tui.core.eval.stats import mean_ci95
from tui.services.eval.types import (
    EvalSpec,
    ModelSummary,
    PairwiseSummary,
    RowResult,
)


def pair_key(a: str, b: str) -> str:
    """The key of a pair of model labels in `RowResult.judge`."""
    return f"{a}|{b}"


def cost_usd(model: str, local: bool, prompt_tokens: int, completion_tokens: int) -> float | None:
    """Inference cost from the dated price table (fine-tuned OpenAI models); 0 on the local
    server; None when the price is unknown."""
    if local:
        return 0.0
    from tui.services.chat import chat_price

    price = chat_price(model)
    if price is None:
        return None
    return round(prompt_tokens * price[0] + completion_tokens * price[1], 6)


def row_verdict(row: RowResult, a: str, b: str, first_scorer: str) -> Verdict:
    """Who wins row `row` between labels a and b: the judge's verdict when there is one,
    else the first scorer."""
    if row.judge is not None and pair_key(a, b) in row.judge:
        verdict = row.judge[pair_key(a, b)]
        return "a" if verdict == "a" else "b" if verdict == "b" else "tie"
    ans_a, ans_b = row.answers.get(a), row.answers.get(b)
    score_a = ans_a.scores.get(first_scorer) if ans_a and ans_a.error is None else None
    score_b = ans_b.scores.get(first_scorer) if ans_b and ans_b.error is None else None
    return by_score(score_a, score_b)


def summarize(
    spec: EvalSpec, rows: list[RowResult], profiles: dict[str, tuple[str | None, bool]]
) -> tuple[list[ModelSummary], list[PairwiseSummary]]:
    """`profiles` maps each model label to (resolved profile name, is the local server)."""
    labels = [m.label for m in spec.models]
    scorers = list(spec.scorers)
    models: list[ModelSummary] = []
    for ref in spec.models:
        label = ref.label
        profile, local = profiles.get(label, (ref.profile, False))
        answers = [r.answers[label] for r in rows if label in r.answers]
        ok = [a for a in answers if a.error is None]
        summary = ModelSummary(model=ref.model, profile=profile, label=label)
        summary.answered = len(ok)
        summary.errors = len(answers) - len(ok)
        for name in scorers:
            values = [a.scores[name] for a in ok if name in a.scores]
            if values:
                mean, ci = mean_ci95(values)
                summary.scores[name] = round(mean, 6)
                summary.ci95[name] = (round(ci[0], 6), round(ci[1], 6))
        latencies = [a.latency_s for a in ok if a.latency_s is not None]
        summary.mean_latency_s = round(sum(latencies) / len(latencies), 4) if latencies else None
        summary.prompt_tokens = sum(a.prompt_tokens for a in answers)
        summary.completion_tokens = sum(a.completion_tokens for a in answers)
        summary.cost_usd = cost_usd(
            ref.model, local, summary.prompt_tokens, summary.completion_tokens
        )
        models.append(summary)
    decider = JUDGE if spec.judge is not None else (scorers[0] if scorers else "exact")
    pairwise: list[PairwiseSummary] = []
    for a, b in combinations(labels, 2):
        pair = PairwiseSummary(a=a, b=b)
        for row in rows:
            verdict = row_verdict(row, a, b, decider)
            if verdict == "a":
                pair.wins_a += 1
            elif verdict == "b":
                pair.wins_b += 1
            else:
                pair.ties += 1
        pairwise.append(pair)
    return models, pairwise
