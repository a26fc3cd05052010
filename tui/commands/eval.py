"""`ft-tui eval DATASET --model M [--model M2 …]`: held-out evaluation of models side by side.

Exit status: 0 the run completed (even when some calls failed: those are errors in the
results), 2 bad arguments or unreadable input (one `error:` line), 130 interrupted (the run is
kept; `--resume RUN_ID` continues it). Never imports Textual; openai is imported only when the
first call is made.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tui.commands.dataset_tool_cli import run_tool

if TYPE_CHECKING:
    from tui.services.eval import EvalSpec, RowResult, RunSummary


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dataset", type=Path, nargs="?", metavar="DATASET", help="chat JSONL")
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="M",
        help="model of the active profile, or PROFILE=MODEL (repeat to compare)",
    )
    parser.add_argument(
        "--scorer",
        action="append",
        default=[],
        metavar="S",
        help="exact, normalized, contains, regex:PATTERN, json, f1, judge "
        "(repeat or comma-separate; default exact,normalized,f1)",
    )
    parser.add_argument("--judge", metavar="MODEL", help="pairwise LLM judge (MODEL or P=MODEL)")
    parser.add_argument("--limit", type=int, metavar="N", help="evaluate the first N rows")
    parser.add_argument(
        "--concurrency", type=int, default=4, metavar="K", help="calls at once per backend (4)"
    )
    parser.add_argument("--temperature", type=float, metavar="T")
    parser.add_argument("--max-tokens", type=int, metavar="N")
    parser.add_argument("--seed", type=int, metavar="S")
    parser.add_argument("--resume", metavar="RUN_ID", help="continue an interrupted run")
    parser.add_argument("--list", action="store_true", help="list stored runs and exit")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument("--out", type=Path, metavar="FILE", help="write one JSON line per row")


def _scorers(values: list[str]) -> list[str]:
    from tui.services.eval import DEFAULT_SCORERS

    names: list[str] = []
    for value in values:
        # a regex may contain commas: only split plain lists
        names.extend([value] if value.startswith("regex:") else value.split(","))
    names = [n.strip() for n in names if n.strip()]
    return names or list(DEFAULT_SCORERS)


def _spec(args: argparse.Namespace) -> EvalSpec:
    from tui.services.eval import EvalError, EvalSpec, ModelRef

    if args.dataset is None:
        raise EvalError("give a DATASET (or --resume RUN_ID)")
    if not args.model:
        raise EvalError("give at least one --model")
    return EvalSpec(
        dataset=args.dataset,
        models=[ModelRef.parse(m) for m in args.model],
        scorers=_scorers(args.scorer),
        judge=ModelRef.parse(args.judge) if args.judge else None,
        limit=args.limit,
        concurrency=args.concurrency,
        temperature=args.temperature,
        max_tokens=args.max_tokens,
        seed=args.seed,
    )


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def print_summary(summary: RunSummary) -> None:
    """The human-readable result: models × scorers with 95% intervals, then pairwise wins."""
    scorers = list(summary.spec.scorers)
    print(f"run {summary.run_id}  {summary.dataset}  {summary.done_rows}/{summary.examples} rows")
    width = max([len(m.label) for m in summary.models] + [5])
    head = f"{'model':<{width}}  " + "  ".join(f"{s[:22]:<22}" for s in scorers)
    print(head + "  errors  latency  cost")
    for m in summary.models:
        cells = []
        for s in scorers:
            if s in m.scores:
                lo, hi = m.ci95[s]
                cells.append(f"{m.scores[s]:.3f} [{lo:.2f}, {hi:.2f}]".ljust(22))
            else:
                cells.append("-".ljust(22))
        cost = "-" if m.cost_usd is None else f"${m.cost_usd:.4f}"
        latency = "-" if m.mean_latency_s is None else f"{m.mean_latency_s:.2f}s"
        print(f"{m.label:<{width}}  " + "  ".join(cells) + f"  {m.errors:>6}  {latency:>7}  {cost}")
    if summary.pairwise:
        decider = "judge" if summary.spec.judge else (scorers[0] if scorers else "-")
        print(f"pairwise (by {decider}):")
        for p in summary.pairwise:
            print(f"  {p.a} vs {p.b}: {p.wins_a} - {p.wins_b}, {p.ties} ties")


def _write_out(path: Path, rows: list[RowResult]) -> None:
    from tui.core.tools.files import atomic_output

    with atomic_output(path) as handle:
        for row in rows:
            handle.write(json.dumps(row.to_out_json(), ensure_ascii=False).encode() + b"\n")


@dataclass
class _Progress:
    """The progress line on stderr (only when it is a terminal)."""

    enabled: bool
    run_id: str = ""
    total: int = 0
    done: int = 0

    def on_start(self, run_id: str, total: int, done: int) -> None:
        self.run_id, self.total, self.done = run_id, total, done

    def on_row(self, row: RowResult, summary: RunSummary) -> None:
        self.done += 1
        if self.enabled:
            errors = sum(m.errors for m in summary.models)
            percent = 100 * self.done // max(1, self.total)
            sys.stderr.write(
                f"\reval {percent:3d}%  {self.done}/{self.total} rows  {errors} errors\x1b[K"
            )
            sys.stderr.flush()

    def clear(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def _list_runs() -> int:
    from tui.services.eval import EvalStore

    runs = EvalStore().list_runs()
    if not runs:
        print("no eval runs yet (ft-tui eval DATASET --model M)")
    for run in runs:
        head = ", ".join(
            f"{m.label} {m.scores.get(run.spec.scorers[0], 0):.2f}" for m in run.models
        )
        print(
            f"{run.run_id}  {run.status:<9}  {run.done_rows}/{run.examples}  {run.dataset}  {head}"
        )
    return 0


def _run(args: argparse.Namespace) -> int:
    import asyncio

    from tui.core.tools.files import same_file
    from tui.services.eval import EvalError, EvalStore, run_eval

    if args.list:
        return _list_runs()
    store = EvalStore()
    spec = store.spec(args.resume) if args.resume else _spec(args)
    if args.out is not None and (same_file(args.out, spec.dataset) or args.out.is_dir()):
        raise EvalError(f"--out {args.out}: choose a file other than the dataset")
    progress = _Progress(sys.stderr.isatty())
    try:
        summary = asyncio.run(
            run_eval(
                spec,
                store=store,
                resume_run_id=args.resume,
                on_row=progress.on_row,
                on_start=progress.on_start,
            )
        )
    except KeyboardInterrupt:
        if progress.run_id:
            print(f"\ninterrupted; continue with: ft-tui eval --resume {progress.run_id}",
                  file=sys.stderr)  # fmt: skip
        raise
    finally:
        progress.clear()
    if args.out is not None:
        _write_out(args.out, store.rows(summary.run_id))
    for m in summary.models:
        if m.answered == 0 and m.errors:
            first = next(
                (r.answers[m.label].error for r in store.rows(summary.run_id)
                 if m.label in r.answers), None,
            )  # fmt: skip
            print(f"warning: {m.label}: every call failed: {first}", file=sys.stderr)
    if args.json:
        print(json.dumps(summary.to_json()))
    else:
        print_summary(summary)
    return 0


def run(args: argparse.Namespace) -> int:
    from tui.services.eval import EvalError

    return run_tool("eval", lambda: _run(args), bad_input=(EvalError,))
