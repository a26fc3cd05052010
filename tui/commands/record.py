"""`ft-tui record DATASET --model M --out golden.jsonl`: re-answer every prompt with model M.

Keeps what a model does as a chat JSONL (e.g. an OpenAI fine-tune before its shutdown date):
training data for a replacement and a reference for `ft-tui eval`. Exit status: 0 done (rows
that failed are listed in `<out stem>.rejected.jsonl`), 2 bad arguments or unreadable input,
130 interrupted (continue with `--resume`). Never imports Textual.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tui.commands.dataset_tool_cli import run_tool, stderr_progress


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dataset", type=Path, metavar="DATASET", help="chat JSONL")
    parser.add_argument(
        "--model", required=True, metavar="M", help="model to record (MODEL or PROFILE=MODEL)"
    )
    parser.add_argument("--out", type=Path, required=True, metavar="FILE", help="output JSONL")
    parser.add_argument(
        "--concurrency", type=int, default=4, metavar="K", help="calls at once (default 4)"
    )
    parser.add_argument("--resume", action="store_true", help="continue an interrupted recording")
    parser.add_argument("--force", action="store_true", help="replace an existing output file")


def _run(args: argparse.Namespace) -> int:
    import asyncio

    from tui.services.eval import ModelRef
    from tui.services.eval.record import record_golden

    model = ModelRef.parse(args.model)
    progress = stderr_progress("recording", unit="rows")
    try:
        result = asyncio.run(
            record_golden(
                args.dataset,
                model,
                args.out,
                concurrency=args.concurrency,
                resume=args.resume,
                force=args.force,
                on_progress=progress,
            )
        )
    except KeyboardInterrupt:
        again = f"ft-tui record {args.dataset} --model {args.model} --out {args.out} --resume"
        print(f"\ninterrupted; continue with: {again}", file=sys.stderr)
        raise
    resumed = f" ({result.skipped} from the interrupted run)" if result.skipped else ""
    print(f"wrote {result.written} examples to {result.out}{resumed}")
    if result.rejected_path is not None:
        print(f"rejected {result.rejected} rows, with reasons: {result.rejected_path}")
    return 0


def run(args: argparse.Namespace) -> int:
    from tui.services.eval import EvalError

    return run_tool("record", lambda: _run(args), bad_input=(EvalError,))
