"""Time to first example on the Datasets screen for a large file (default 1 GB).

Builds the file in `bench-data/` by repeating realistic chat lines, then opens it in the real
app (headless) and measures the time from app start until the first example is on screen, the
time until the line index is complete, and peak RSS.

    python -m benchmarks.viewer_bench [--gb 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import resource
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench-data"


def build_file(size_gb: float) -> Path:
    path = DATA / f"viewer_{size_gb:g}gb.jsonl"
    target = int(size_gb * 1024**3)
    if path.exists() and path.stat().st_size >= target:
        return path
    DATA.mkdir(exist_ok=True)
    lines = []
    for i in range(2000):
        messages = [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": f"Question {i}: " + "how do I tune this? " * (i % 40)},
            {"role": "assistant", "content": "这是一个回答。" * (i % 30) + " Short answer."},
        ]
        lines.append(json.dumps({"messages": messages}, ensure_ascii=False))
    block = ("\n".join(lines) + "\n").encode()
    with path.open("wb") as handle:
        written = 0
        while written < target:
            handle.write(block)
            written += len(block)
    return path


async def measure(path: Path) -> dict[str, float]:
    from textual.widgets import Static

    from tui.app import FtApp
    from tui.core.line_index import LineIndex

    app = FtApp(path)
    start = time.perf_counter()
    result: dict[str, float] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        while True:
            body = app.screen.query("#example-body")
            if body:
                content = body.first(Static).content
                if "Question 0" in str(getattr(content, "plain", "")) or _has(content):
                    break
            await pilot.pause(0.01)
        result["first_example_s"] = time.perf_counter() - start
        screen = app.screen
        while True:
            index = getattr(screen, "index", None)
            if isinstance(index, LineIndex) and index.complete:
                break
            await pilot.pause(0.1)
        result["index_complete_s"] = time.perf_counter() - start
        result["lines"] = float(index.known_lines())
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def _has(content: object) -> bool:
    from rich.console import Console

    console = Console(width=120, record=True, file=io.StringIO())
    console.print(content)
    return "Question 0" in console.export_text()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gb", type=float, default=1.0)
    args = parser.parse_args()
    path = build_file(args.gb)
    size_mb = path.stat().st_size / 1e6
    result = asyncio.run(measure(path))
    print(f"file: {path.name} ({size_mb:,.0f} MB, {int(result['lines']):,} lines)")
    print(f"first example on screen: {result['first_example_s'] * 1000:,.0f} ms")
    print(f"line index complete:     {result['index_complete_s']:,.1f} s")
    print(f"peak RSS:                {result['peak_rss_mb']:,.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
