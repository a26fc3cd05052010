"""`ft-tui lint FILE`: check a dataset, count tokens, estimate epochs and cost.

Exit status: 0 no error, 1 errors found, 2 the file cannot be read. Never imports Textual or
openai.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from tui.core.lint import LintReport
    from tui.core.stats import Summary


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", nargs="?", help="training file (JSONL)")
    parser.add_argument(
        "--model",
        metavar="M",
        help="base or fine-tuned model: sets the tokenizer, token limit and price "
        "(default gpt-4o-mini-2024-07-18)",
    )
    parser.add_argument("--validation", metavar="FILE", help="validation file, also checked")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument(
        "--workers", type=int, metavar="N", help="processes for big files (default: CPU count)"
    )
    parser.add_argument(
        "--show", type=int, default=3, metavar="N", help="example lines shown per rule (default 3)"
    )
    parser.add_argument(
        "--rules", action="store_true", help="list every rule (id, severity, cookbook key, fix)"
    )


def _print_rules(out: TextIO) -> None:
    from tui.core.rules import RULES

    for rule in RULES.values():
        cookbook = f"  [cookbook: {rule.cookbook}]" if rule.cookbook else ""
        print(f"{rule.id:<32} {rule.severity:<8} {rule.title}{cookbook}", file=out)
        print(f"{'':<41} fix: {rule.hint}", file=out)


def _fmt_num(value: float | None) -> str:
    if value is None:
        return "-"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def _summary_line(label: str, s: Summary) -> str:
    if not s.count:
        return f"  {label:<24} -"
    approx = "" if s.exact else "  (quantiles binned, ±0.5%)"
    return (
        f"  {label:<24} min {_fmt_num(s.min)}  max {_fmt_num(s.max)}  mean {_fmt_num(s.mean)}"
        f"  median {_fmt_num(s.median)}  p10 {_fmt_num(s.p10)}  p90 {_fmt_num(s.p90)}{approx}"
    )


def _print_issues(report: LintReport, show: int, out: TextIO) -> None:
    from tui.core.rules import RULES

    for severity, title in (("error", "Errors"), ("warning", "Warnings")):
        rules = [
            (r, n) for r, n in report.counts_by_rule.items() if n and RULES[r].severity == severity
        ]
        if not rules:
            continue
        total = sum(n for _, n in rules)
        print(f"\n{title} ({total:,})", file=out)
        for rule_id, n in sorted(rules, key=lambda rn: (-rn[1], rn[0])):
            rule = RULES[rule_id]
            print(f"  {rule_id} ×{n:,} — {rule.title}", file=out)
            kept = report.issues_for(rule_id)
            for issue in kept[:show]:
                where = f"line {issue.line}" if issue.line is not None else "file"
                print(f"      {where}: {issue.message}", file=out)
            if n > show:
                more = [str(i.line) for i in kept[show : show + 10] if i.line is not None]
                tail = f" (lines {', '.join(more)}…)" if more else ""
                print(f"      … {n - show:,} more{tail}", file=out)
            print(f"      fix: {rule.hint}", file=out)


def _print_report(report: LintReport, show: int, out: TextIO, title: str = "") -> None:
    from tui.core.formats import FORMAT_LABELS
    from tui.core.models_catalog import resolve_model
    from tui.core.pricing import price_table

    info = resolve_model(report.model)
    limit = (
        f"{report.training_limit:,} tokens per training example"
        if report.training_limit
        else "no known per-example token limit"
    )
    label = FORMAT_LABELS.get(report.format, report.format)
    if info.reinforcement_only and report.format == "chat":
        label = "chat (RFT: prompts for the model to answer; extra keys go to graders)"
    print(
        f"{title}{report.path}: {label}, {report.examples:,} examples\n"
        f"model {report.model} ({report.encoding}, {limit})",
        file=out,
    )
    if report.model_note:
        print(f"note: {report.model_note}", file=out)
    _print_issues(report, show, out)
    if not report.counts_by_rule:
        print("\nNo problems found", file=out)
    stats = report.stats
    if stats.total_tokens.count:
        print(
            "\nStatistics (tokens are exact for text; tools, tool calls, images estimated)",
            file=out,
        )
        print(_summary_line("messages per example", stats.messages), file=out)
        print(_summary_line("tokens per example", stats.total_tokens), file=out)
        print(_summary_line("trained tokens", stats.trained_tokens), file=out)
        print(f"  examples over the limit  {stats.over_limit:,}", file=out)
    if title:
        return
    est = report.estimate
    hourly = info.prices.training_per_hour if info.prices else None
    if est.cost_usd is not None:
        cost = f"≈ ${est.cost_usd:,.2f} (prices as of {price_table().as_of})"
    elif hourly is not None:
        cost = f"billed per training hour (${hourly:,.0f}/h), not per token"
    else:
        cost = "cost unknown (no price for this model)"
    print(
        f"\nEstimate (cookbook heuristic)\n"
        f"  {est.epochs} epochs × {est.tokens_per_epoch:,} tokens per epoch = "
        f"{est.billed_tokens:,} billed tokens, {cost}",
        file=out,
    )


class _Progress:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.shown = False

    def __call__(self, done: int, total: int, _partial: object) -> None:
        pct = 100 * done / total if total else 100
        self.stream.write(f"\rlinting… {pct:5.1f}%  {done / 2**20:,.0f}/{total / 2**20:,.0f} MiB")
        self.stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * 60 + "\r")
            self.stream.flush()


def run(args: argparse.Namespace) -> int:
    import orjson

    from tui.core.lint import LintFailed, lint_path
    from tui.core.tokens import TokenizerDataError

    if args.rules:
        _print_rules(sys.stdout)
        return 0
    if args.file is None:
        print("ft-tui lint: give a FILE to check (or --rules to list the rules)", file=sys.stderr)
        return 2
    if args.workers is not None and args.workers < 1:
        print("ft-tui lint: --workers must be at least 1", file=sys.stderr)
        return 2
    progress = _Progress(sys.stderr) if sys.stderr.isatty() and not args.json else None
    try:
        report = lint_path(
            args.file,
            model=args.model,
            validation=args.validation,
            workers=args.workers,
            on_progress=progress,
        )
    except LintFailed as exc:
        print(f"ft-tui lint: {exc}", file=sys.stderr)
        return 2
    except TokenizerDataError as exc:
        print(f"ft-tui lint: cannot count tokens: {exc}", file=sys.stderr)
        return 2
    except MemoryError:
        print("ft-tui lint: out of memory", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug must still not print a traceback at the user
        print(f"ft-tui lint: internal error: {exc!r}; please report it", file=sys.stderr)
        return 2
    finally:
        if progress is not None:
            progress.clear()
    if args.json:
        sys.stdout.write(orjson.dumps(report.to_json()).decode() + "\n")
    else:
        _print_report(report, max(0, args.show), sys.stdout)
        if report.validation is not None:
            print("", file=sys.stdout)
            _print_report(report.validation, max(0, args.show), sys.stdout, title="validation: ")
    failed = report.has_errors or (report.validation is not None and report.validation.has_errors)
    return 1 if failed else 0
