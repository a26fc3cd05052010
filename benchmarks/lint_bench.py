"""Benchmark `ft-tui lint --json` against the cookbook-style single-threaded checker.

    python -m benchmarks.gen_chat_dataset          # once: bench-data/chat_100k.jsonl (~250 MB)
    python -m benchmarks.gen_repeated_dataset      # once: bench-data/drone_250mb.jsonl (~250 MB)
    python -m benchmarks.lint_bench [FILE] [--workers N]

Runs both as subprocesses, one after the other, on the same file, and prints for each the wall
time, throughput (MB/s), peak RSS of the whole process tree (sampled from /proc every 20 ms,
so pool workers count too) and the billed-token totals, which must be equal.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

MODEL = "gpt-3.5-turbo-0125"  # cl100k_base and the cookbook's 16,385-token cap
RSS_LIMIT_MB = 300


@dataclass
class RunResult:
    name: str
    wall_s: float
    cpu_s: float  # user + system time of the process and its workers
    peak_rss_mb: float
    output: dict[str, object]


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _tree_rss_kb(root: int) -> int:
    """Sum of VmRSS over `root` and its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as handle:
                fields = dict(line.split(":", 1) for line in handle if ":" in line)
        except OSError:
            continue
        pid = int(entry)
        children.setdefault(int(fields.get("PPid", "0").strip()), []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0]) if "VmRSS" in fields else 0
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def measure(name: str, argv: list[str]) -> RunResult:
    # Output goes to temporary files: a pipe would block the child once its buffer is full.
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        cpu_before = _children_cpu_s()
        start = time.perf_counter()
        with subprocess.Popen(argv, stdout=out, stderr=err) as proc:
            peak = 0
            while proc.poll() is None:
                peak = max(peak, _tree_rss_kb(proc.pid))
                time.sleep(0.02)
        wall = time.perf_counter() - start
        cpu = _children_cpu_s() - cpu_before
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{name} failed ({proc.returncode}): {stderr.decode()[-2000:]}")
    return RunResult(name, wall, cpu, peak / 1024, json.loads(stdout))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", default="bench-data/chat_100k.jsonl")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--model", default=MODEL, help=f"model for ft-tui lint (default {MODEL})")
    parser.add_argument(
        "--lint-only", action="store_true", help="skip the cookbook baseline (RSS at scale)"
    )
    args = parser.parse_args(argv)
    path = Path(args.file)
    if not path.is_file():
        print(f"{path}: not found; run `python -m benchmarks.gen_chat_dataset` first")
        return 2
    size_mb = path.stat().st_size / 1e6
    lint_cmd = [sys.executable, "-m", "tui", "lint", str(path), "--json", "--model", args.model]
    if args.workers:
        lint_cmd += ["--workers", str(args.workers)]
    cookbook_cmd = [
        sys.executable,
        "-m",
        "benchmarks.cookbook_checker",
        str(path),
        "--json",
        "--tools",
    ]
    if args.lint_only:
        ours = measure("ft-tui lint", lint_cmd)
        estimate = ours.output["estimate"]
        assert isinstance(estimate, dict)
        print(f"file: {path}  {size_mb:,.1f} MB, cpus: {os.cpu_count()}")
        print(
            f"ft-tui lint: {ours.wall_s:.2f} s, {size_mb / ours.wall_s:.1f} MB/s, peak RSS "
            f"{ours.peak_rss_mb:.0f} MB (goal < {RSS_LIMIT_MB} MB), examples "
            f"{ours.output['examples']:,}, billed tokens {estimate['billed_tokens']:,}"
        )
        return 0 if ours.peak_rss_mb < RSS_LIMIT_MB else 1
    load_before = os.getloadavg()[0]
    runs = [measure("cookbook-style", cookbook_cmd), measure("ft-tui lint", lint_cmd)]
    cookbook, ours = runs
    print(f"file: {path}  {size_mb:,.1f} MB, cpus: {os.cpu_count()}")
    print(f"load average before: {load_before:.1f} (other work on the machine slows both)")
    print(
        f"{'':16} {'wall s':>8} {'MB/s':>8} {'CPU s':>8} {'peak RSS MB':>12} {'billed tokens':>15}"
    )
    billed = {
        "cookbook-style": cookbook.output["billed_tokens"],
        "ft-tui lint": ours.output["estimate"]["billed_tokens"],  # type: ignore[index]
    }
    for run in runs:
        print(
            f"{run.name:16} {run.wall_s:8.2f} {size_mb / run.wall_s:8.1f} {run.cpu_s:8.2f} "
            f"{run.peak_rss_mb:12.0f} {billed[run.name]:>15,}"
        )
    speedup = cookbook.wall_s / ours.wall_s
    same = billed["cookbook-style"] == billed["ft-tui lint"]
    print(
        f"speed-up: {speedup:.2f}x (goals: >= 3x on the synthetic file, >= 5x on the repeated "
        f"drone file)   billed tokens equal: {same}"
    )
    print(
        f"CPU work: cookbook-style needs {cookbook.cpu_s / ours.cpu_s:.2f}x the CPU seconds of "
        f"ft-tui lint; load average after: {os.getloadavg()[0]:.1f}"
    )
    print(f"ft-tui peak RSS {ours.peak_rss_mb:.0f} MB (goal < {RSS_LIMIT_MB} MB)")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
