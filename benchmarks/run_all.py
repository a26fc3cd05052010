"""Runs every benchmark in turn with the settings whose figures the README reports.

    python -m benchmarks.run_all [--quick]

`--quick` uses the tiny model and smaller inputs (minutes instead of most of an hour). Each
benchmark is its own process, so one failing does not stop the others; the exit code says
whether all of them ran.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FULL: list[list[str]] = [
    ["startup_bench"],
    ["gen_chat_dataset"],
    ["lint_bench"],
    ["viewer_bench", "--gb", "1"],
    ["jobs_bench"],
    ["chart_bench"],
    ["chat_render_bench"],
    ["eval_ui_bench"],
    ["train_bench", "--examples", "20", "--epochs", "1", "--batch-size", "4"],
    ["chat_bench"],
    ["eval_bench", "fake", "local"],
]
QUICK: list[list[str]] = [
    ["startup_bench", "--runs", "5"],
    ["viewer_bench", "--gb", "0.1"],
    ["chat_render_bench", "--tokens", "4000"],
    ["eval_ui_bench", "--rows", "60", "--rounds", "1"],
    ["train_bench", "--tiny"],
    ["chat_bench", "--tiny"],
    ["eval_bench", "fake", "--rounds", "1", "--delay", "0.1"],
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    failed = []
    for name, *rest in QUICK if args.quick else FULL:
        print(f"\n=== {name} {' '.join(rest)}", flush=True)
        result = subprocess.run([sys.executable, "-m", f"benchmarks.{name}", *rest], cwd=ROOT)
        if result.returncode != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
