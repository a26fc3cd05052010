"""Startup time of the headless CLI paths (`ft-tui --version`, `ft-tui lint --help`).

Runs each command N times in a fresh interpreter and reports the best and median wall time, plus
what `python -c pass` costs on the same machine for reference.

    python -m benchmarks.startup_bench [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "python -c pass (interpreter floor)": [sys.executable, "-c", "pass"],
    "ft-tui --version": [sys.executable, "-m", "tui", "--version"],
    "ft-tui lint --help": [sys.executable, "-m", "tui", "lint", "--help"],
}


def time_command(argv: list[str], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        samples.append(time.perf_counter() - start)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    print(f"{'command':<40} {'best ms':>9} {'median ms':>10}")
    for label, argv in COMMANDS.items():
        samples = time_command(argv, args.runs)
        print(f"{label:<40} {min(samples) * 1000:>9.1f} {statistics.median(samples) * 1000:>10.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
