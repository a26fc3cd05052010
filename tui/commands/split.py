"""`ft-tui split IN`: training and validation files, seeded and reproducible."""

from __future__ import annotations

import argparse
from pathlib import Path

from tui.commands.dataset_tool_cli import print_lines, run_tool, stderr_progress


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, metavar="IN", help="JSONL dataset to split")
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--validation",
        type=float,
        default=0.1,
        metavar="RATIO",
        help="fraction of examples for validation (default 0.1)",
    )
    size.add_argument("--count", type=int, metavar="N", help="exact number of validation examples")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--group-by-prompt",
        action="store_true",
        help="keep identical user prompts on the same side (no validation leak)",
    )
    parser.add_argument("--out-train", type=Path, metavar="P", help="default <stem>.train.jsonl")
    parser.add_argument("--out-valid", type=Path, metavar="P", help="default <stem>.valid.jsonl")
    parser.add_argument("--force", action="store_true", help="overwrite existing outputs")
    parser.add_argument("--dry-run", action="store_true", help="only count and show the plan")


def _split(args: argparse.Namespace) -> int:
    from tui.core.tools.files import derived_path
    from tui.core.tools.split import plan_split, split

    progress = stderr_progress("splitting")
    plan = plan_split(
        args.input,
        ratio=None if args.count is not None else args.validation,
        count=args.count,
        seed=args.seed,
        group_by_prompt=args.group_by_prompt,
        progress=progress,
    )
    print(plan.describe())
    if args.dry_run:
        return 0
    summary = split(
        plan,
        args.out_train or derived_path(args.input, "train"),
        args.out_valid or derived_path(args.input, "valid"),
        force=args.force,
        progress=progress,
    )
    print_lines(summary.lines())
    return 0


def run(args: argparse.Namespace) -> int:
    return run_tool("split", lambda: _split(args))
