"""Repeat a real dataset file to a target size, for the lint benchmark on repeated strings.

    python -m benchmarks.gen_repeated_dataset [SRC] [--mb 250] [--out bench-data/drone_250mb.jsonl]

Real datasets repeat the same long strings on every line (one system prompt, one `tools` list):
`drone_training.jsonl` carries the same 15 tool definitions on each of its 103 lines. Repeating
the file keeps that shape at scale.
"""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_SRC = Path(__file__).resolve().parents[1] / "assets" / "datasets" / "drone_training.jsonl"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", nargs="?", type=Path, default=DEFAULT_SRC)
    parser.add_argument("--mb", type=float, default=250.0, help="target size in MB (default 250)")
    parser.add_argument("--out", type=Path, default=Path("bench-data/drone_250mb.jsonl"))
    args = parser.parse_args(argv)
    block = args.src.read_bytes()
    if not block.endswith(b"\n"):
        block += b"\n"
    copies = max(1, round(args.mb * 1e6 / len(block)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("wb") as out:
        for _ in range(copies):
            out.write(block)
    size_mb = args.out.stat().st_size / 1e6
    print(f"{args.out}: {copies:,} copies of {args.src.name}, {size_mb:,.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
