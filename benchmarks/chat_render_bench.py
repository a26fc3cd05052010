"""Benchmark streaming a long reply into the chat view, as the Chat screen does it.

    python -m benchmarks.chat_render_bench [--tokens 20000] [--rate 2000] [--size 100x40] [--json]

A headless Textual app holds the real `ChatView` with one assistant `MessageView`; a producer
writes Markdown tokens (paragraphs, lists, headings, code blocks) at a fixed rate through
`MessageView.append` (Textual's `MarkdownStream`), exactly like a reply arriving from the API.
Measured while streaming:

- keeps up: the producer's lag behind its schedule, and the backlog (characters written but not
  yet in the Markdown widget) sampled every 100 ms; rendering keeps up when the backlog does not
  grow from the first quarter of the run to the last and the final lag is small;
- the largest gap between two frames sent to the (headless) terminal, and the longest stall of
  the event loop (a 5 ms heartbeat timer);
- CPU time (this process) per 1,000 tokens, and the cost of the one full render at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from dataclasses import asdict, dataclass
from typing import Any

from textual.app import App, ComposeResult

from tui.gc_policy import tune_for_ui
from tui.widgets.chat_view import ChatView

_PARAGRAPH = (
    "Fine-tuning works best when every example shows the **exact** behaviour you want, "
    "including the tone, the format and the length of the answer. Start with `50` to `100` "
    "examples, check the loss curve, then add more where the model is still wrong."
)
_BLOCKS = [
    "## Step {n}: prepare the data\n\n",
    _PARAGRAPH + "\n\n",
    "- keep one system prompt for all examples\n- split off a validation file\n"
    "- lint before you upload\n\n",
    "```python\nfor line in open('train.jsonl'):\n    example = json.loads(line)\n"
    "    assert example['messages'][-1]['role'] == 'assistant'\n```\n\n",
    "1. upload the file\n2. create the job\n3. watch the loss fall\n\n",
    "> A model that never sees a refusal will never refuse.\n\n",
]


def reply_tokens(count: int) -> list[str]:
    """`count` tokens of a Markdown answer: words with their leading space, newlines apart."""
    tokens: list[str] = []
    n = 0
    while len(tokens) < count:
        n += 1
        for block in _BLOCKS:
            text = block.format(n=n)
            for piece in text.split(" "):
                tokens.append(piece if not tokens or tokens[-1].endswith("\n") else " " + piece)
    return tokens[:count]


@dataclass
class Result:
    tokens: int
    rate: float
    size: str
    duration_s: float
    ideal_s: float
    keeps_up: bool
    final_lag_s: float
    max_lag_s: float
    backlog_first_quarter_chars: float
    backlog_last_quarter_chars: float
    max_backlog_chars: int
    drain_s: float
    frames: int
    max_frame_gap_ms: float
    p99_frame_gap_ms: float
    max_loop_stall_ms: float
    cpu_ms_per_1k_tokens: float
    final_render_ms: float


class BenchApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ChatView("bench-model", id="view")

    def on_mount(self) -> None:
        self.call_after_refresh(tune_for_ui)  # the same collector policy as FtApp


async def run(tokens: int, rate: float, size: tuple[int, int]) -> Result:
    app = BenchApp()
    frames: list[float] = []
    beats: list[float] = []
    backlog: list[tuple[float, int]] = []
    async with app.run_test(size=size) as pilot:
        original_display = app._display

        def display(screen: Any, renderable: Any) -> None:
            frames.append(time.perf_counter())
            original_display(screen, renderable)

        app._display = display  # type: ignore[method-assign]
        view = app.query_one(ChatView)
        await view.add_message("user", "You", "Explain fine-tuning, at length.")
        message = await view.add_message("assistant", "bench-model")
        await pilot.pause()
        words = reply_tokens(tokens)
        written = 0
        written_chars = 0

        def sample() -> None:
            now = time.perf_counter()
            beats.append(now)
            if not backlog or now - backlog[-1][0] >= 0.1:
                shown = len(message.rendered_text)
                backlog.append((now, written_chars - shown))

        heartbeat = app.set_interval(0.005, sample)
        frames.clear()
        lags: list[float] = []
        cpu0 = time.process_time()
        start = time.perf_counter()
        while written < tokens:
            now = time.perf_counter()
            due = min(tokens, int((now - start) * rate) + 1)
            lags.append(max(0.0, now - (start + written / rate)))
            while written < due:
                await message.append(words[written])
                written_chars += len(words[written])
                written += 1
            next_due = start + written / rate
            await asyncio.sleep(max(0.0, next_due - time.perf_counter()))
        last_write = time.perf_counter()
        total_chars = written_chars
        while len(message.rendered_text) < total_chars:
            await asyncio.sleep(0.001)
        drained = time.perf_counter()
        cpu = time.process_time() - cpu0
        streaming_frames = [t for t in frames if start <= t <= drained]
        heartbeat.stop()
        final0 = time.perf_counter()
        await message.finish("done")
        await pilot.pause()
        final_render = time.perf_counter() - final0
        assert message.text == "".join(words)

    gaps = [b - a for a, b in zip(streaming_frames, streaming_frames[1:], strict=False)]
    gaps_ms = sorted(g * 1000 for g in gaps) or [0.0]
    stalls = [b - a for a, b in zip(beats, beats[1:], strict=False)]
    quarter = max(1, len(backlog) // 4)
    first_q = statistics.fmean(v for _, v in backlog[:quarter]) if backlog else 0.0
    last_q = statistics.fmean(v for _, v in backlog[-quarter:]) if backlog else 0.0
    final_lag = lags[-1] if lags else 0.0
    keeps_up = final_lag < 0.25 and last_q <= max(2 * first_q, 2000.0)
    return Result(
        tokens=tokens,
        rate=rate,
        size=f"{size[0]}x{size[1]}",
        duration_s=round(last_write - start, 3),
        ideal_s=round(tokens / rate, 3),
        keeps_up=keeps_up,
        final_lag_s=round(final_lag, 4),
        max_lag_s=round(max(lags, default=0.0), 4),
        backlog_first_quarter_chars=round(first_q, 1),
        backlog_last_quarter_chars=round(last_q, 1),
        max_backlog_chars=max((v for _, v in backlog), default=0),
        drain_s=round(drained - last_write, 4),
        frames=len(streaming_frames),
        max_frame_gap_ms=round(gaps_ms[-1], 1),
        p99_frame_gap_ms=round(gaps_ms[int(0.99 * (len(gaps_ms) - 1))], 1),
        max_loop_stall_ms=round(max(stalls, default=0.0) * 1000, 1),
        cpu_ms_per_1k_tokens=round(cpu * 1000 / (tokens / 1000), 1),
        final_render_ms=round(final_render * 1000, 1),
    )


def _size(text: str) -> tuple[int, int]:
    width, _, height = text.partition("x")
    return int(width), int(height)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tokens", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=2_000.0, help="tokens per second")
    parser.add_argument("--size", type=_size, default=(100, 40), help="terminal, e.g. 100x40")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.tokens, args.rate, args.size))
    if args.json:
        print(json.dumps(asdict(result)))
        return 0
    verdict = "yes" if result.keeps_up else "NO"
    print(f"streamed {result.tokens} tokens at {result.rate:g} tok/s into a {result.size} view")
    print(f"  wall time            {result.duration_s:.2f} s (ideal {result.ideal_s:.2f} s)")
    print(f"  keeps up             {verdict}: final lag {result.final_lag_s * 1000:.0f} ms, ")
    print(
        f"                       backlog {result.backlog_first_quarter_chars:.0f} → "
        f"{result.backlog_last_quarter_chars:.0f} chars (first → last quarter), "
        f"max {result.max_backlog_chars}, drained in {result.drain_s * 1000:.0f} ms"
    )
    print(
        f"  frames               {result.frames}; largest gap {result.max_frame_gap_ms:.1f} ms,"
        f" p99 {result.p99_frame_gap_ms:.1f} ms; loop stall max {result.max_loop_stall_ms:.1f} ms"
    )
    print(f"  CPU                  {result.cpu_ms_per_1k_tokens:.1f} ms per 1,000 tokens")
    print(f"  final full render    {result.final_render_ms:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
