"""`ft-tui fix IN`: mechanical fixes, each chosen explicitly; a dry run shows what would change."""

from __future__ import annotations

import argparse
from pathlib import Path

from tui.commands.dataset_tool_cli import print_lines, run_tool, stderr_progress


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, metavar="IN", help="JSONL dataset to fix")
    parser.add_argument("--out", type=Path, metavar="P", help="default <stem>.fixed.jsonl")
    parser.add_argument(
        "--drop-invalid",
        action="store_true",
        help="move lines with lint errors to <stem>.rejected.jsonl",
    )
    parser.add_argument("--dedupe", action="store_true", help="remove exact duplicate examples")
    parser.add_argument(
        "--normalize", action="store_true", help="strip BOM, use LF line endings, drop blank lines"
    )
    parser.add_argument("--trim", action="store_true", help="trim whitespace around message text")
    parser.add_argument(
        "--max-tokens-for",
        metavar="MODEL",
        help="move examples over MODEL's training token limit to <stem>.rejected.jsonl",
    )
    parser.add_argument("--model", help="model to lint against for --drop-invalid")
    parser.add_argument("--in-place", action="store_true", help="replace IN (atomically)")
    parser.add_argument("--dry-run", action="store_true", help="report what would change")
    parser.add_argument("--force", action="store_true", help="overwrite existing outputs")


def _fix(args: argparse.Namespace) -> int:
    from tui.core.tools.fix import FixOptions, fix_file
    from tui.core.tools.lint_bridge import example_linter, token_limit

    options = FixOptions(
        normalize=args.normalize,
        trim=args.trim,
        drop_invalid=args.drop_invalid,
        dedupe=args.dedupe,
        token_limit=token_limit(args.max_tokens_for) if args.max_tokens_for else None,
        lint=example_linter(args.model or args.max_tokens_for) if args.drop_invalid else None,
    )
    report = fix_file(
        args.input,
        options,
        out=args.out,
        in_place=args.in_place,
        dry_run=args.dry_run,
        force=args.force,
        progress=stderr_progress("fixing"),
    )
    print_lines(report.lines())
    return 0


def run(args: argparse.Namespace) -> int:
    return run_tool("fix", lambda: _fix(args))
