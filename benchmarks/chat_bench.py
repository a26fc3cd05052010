"""Local chat speed: the inference engine against a plain transformers `generate` of the same
model, prompt and length, measured in the same run; then 8 concurrent short chats, batched by the
engine, against the same 8 one at a time.

    python -m benchmarks.chat_bench [--tiny] [--max-tokens 64] [--rounds 3] [--threads N] [--json]

Per configuration, after one warm-up: the best of `--rounds` rounds for time to first token and
for decode tokens/s (tokens after the first / time after the first). Greedy decoding, so the
engine and the baseline produce the same tokens. "lora" is the engine with a freshly initialised
r=8 LoRA on all linear layers (non-zero, so it costs what a trained one costs), selected per
request and not merged. "8 concurrent" sends 8 different prompts at once from 8 threads (what 8
clients do to the server) and reports wall time and total completion tokens/s.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from tui.local.inference import GenerationParams, InferenceEngine, Usage

PROMPT = [{"role": "user", "content": "Write a short story about a lighthouse keeper and a cat."}]
SHORT = [
    "What is the capital of France?",
    "Name three colours.",
    "Say hello in Spanish.",
    "What is 2 + 2?",
    "Give me a word that rhymes with cat.",
    "What do bees make?",
    "Name a planet.",
    "What is the opposite of hot?",
]


def make_adapter(model_dir: Path, target: Path) -> Path:
    import torch
    from peft import LoraConfig, TaskType, get_peft_model

    from tui.local.training.hf import load_model

    torch.manual_seed(0)
    base = load_model(model_dir, torch.device("cpu"), torch.float32)
    config = LoraConfig(
        task_type=TaskType.CAUSAL_LM,
        r=8,
        lora_alpha=16,
        target_modules="all-linear",
        init_lora_weights=False,  # random A and B: a realistic, non-identity adapter
    )
    get_peft_model(base, config).save_pretrained(str(target))
    return target


def _params(max_tokens: int) -> GenerationParams:
    return GenerationParams(max_tokens=max_tokens, temperature=0.0, top_p=1.0, stop=[], seed=0)


def engine_run(
    engine: InferenceEngine,
    model_dir: Path,
    adapter: Path | None,
    max_tokens: int,
    messages: list[dict[str, Any]] = PROMPT,
) -> dict[str, float]:
    started = time.perf_counter()
    first: float | None = None
    usage: Usage | None = None
    for part in engine.stream_chat(model_dir, adapter, messages, _params(max_tokens)):
        if isinstance(part, Usage):
            usage = part
        elif first is None:
            first = time.perf_counter()
    ended = time.perf_counter()
    assert usage is not None
    return _timing(started, first, ended, usage.completion_tokens)


def _timing(started: float, first: float | None, ended: float, tokens: int) -> dict[str, float]:
    first = first if first is not None else ended
    return {
        "first_token_s": first - started,
        "decode_tokens_per_s": (tokens - 1) / (ended - first) if ended > first else 0.0,
        "completion_tokens": float(tokens),
    }


class _FirstTokenClock:
    """A transformers streamer that notes when the first generated token arrives."""

    def __init__(self) -> None:
        self.puts = 0
        self.first: float | None = None

    def put(self, value: Any) -> None:
        self.puts += 1
        if self.puts == 2:  # the first put is the prompt
            self.first = time.perf_counter()

    def end(self) -> None:
        return


def plain_generate_run(
    model: Any, tokenizer: Any, end_ids: set[int], max_tokens: int
) -> dict[str, float]:
    """The baseline: the chat template, then `model.generate` as its documentation shows."""
    import torch

    clock = _FirstTokenClock()
    started = time.perf_counter()  # the prompt is formatted inside the timing, as the engine's
    text = tokenizer.apply_chat_template(PROMPT, tokenize=False, add_generation_prompt=True)
    inputs = tokenizer(text, return_tensors="pt", add_special_tokens=False)
    with torch.inference_mode():
        out = model.generate(
            **inputs,
            max_new_tokens=max_tokens,
            do_sample=False,
            eos_token_id=sorted(end_ids),
            pad_token_id=tokenizer.pad_token_id,
            streamer=clock,
        )
    ended = time.perf_counter()
    tokens = out.shape[1] - inputs["input_ids"].shape[1]  # counted as the engine does
    return _timing(started, clock.first, ended, int(tokens))


def best(samples: list[dict[str, float]]) -> dict[str, float]:
    return {
        "first_token_s": min(s["first_token_s"] for s in samples),
        "decode_tokens_per_s": max(s["decode_tokens_per_s"] for s in samples),
        "completion_tokens": samples[0]["completion_tokens"],
    }


def concurrent_round(
    engine: InferenceEngine, model_dir: Path, max_tokens: int, together: bool
) -> dict[str, float]:
    chats = [[{"role": "user", "content": text}] for text in SHORT]
    tokens: list[int] = [0] * len(chats)

    def one(i: int) -> None:
        for part in engine.stream_chat(model_dir, None, chats[i], _params(max_tokens)):
            if isinstance(part, Usage):
                tokens[i] = part.completion_tokens

    started = time.perf_counter()
    if together:
        threads = [threading.Thread(target=one, args=(i,)) for i in range(len(chats))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    else:
        for i in range(len(chats)):
            one(i)
    wall = time.perf_counter() - started
    return {"wall_s": wall, "tokens": float(sum(tokens)), "tokens_per_s": sum(tokens) / wall}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="use the tiny random test model")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--short-tokens", type=int, default=24, help="max_tokens of the 8 chats")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--threads", type=int, default=0, help="torch intra-op threads for both (0: torch's)"
    )
    args = parser.parse_args(argv)
    import torch

    if args.threads > 0:
        torch.set_num_threads(args.threads)

    from tui.config import data_dir
    from tui.local.base_models import DEFAULT_BASE_MODEL, BaseModelError, BaseModelRegistry
    from tui.local.training.hf import end_token_ids, load_model, load_tokenizer

    with tempfile.TemporaryDirectory(prefix="ft-tui-chat-bench-") as tmp:
        root = Path(tmp)
        if args.tiny:
            from tests.local.tiny_model import build_tiny_model

            model_dir, name = build_tiny_model(root / "tiny"), "tiny random Llama"
        else:
            try:
                model_dir = BaseModelRegistry(data_dir() / "local").resolve(DEFAULT_BASE_MODEL)
            except BaseModelError as exc:
                print(f"error: {exc.message}", file=sys.stderr)
                return 1
            name = DEFAULT_BASE_MODEL
        adapter = make_adapter(model_dir, root / "adapter")
        engine = InferenceEngine()
        started = time.perf_counter()
        engine_run(engine, model_dir, None, 1)
        load_s = time.perf_counter() - started
        tokenizer = load_tokenizer(model_dir)
        plain = load_model(model_dir, torch.device("cpu"), torch.float32).eval()
        end_ids = end_token_ids(tokenizer, plain)
        n = args.max_tokens
        engine_run(engine, model_dir, adapter, 4)  # warm-ups (loads the adapter)
        plain_generate_run(plain, tokenizer, end_ids, 4)
        base, lora, baseline = [], [], []
        for _ in range(args.rounds):  # interleaved, so load changes hit all three alike
            baseline.append(plain_generate_run(plain, tokenizer, end_ids, n))
            base.append(engine_run(engine, model_dir, None, n))
            lora.append(engine_run(engine, model_dir, adapter, n))
        alone, together = [], []
        for _ in range(args.rounds):
            alone.append(concurrent_round(engine, model_dir, args.short_tokens, together=False))
            before = len(engine.batch_rows)
            together.append(concurrent_round(engine, model_dir, args.short_tokens, together=True))
            batches = list(engine.batch_rows)[before:]
        results: dict[str, Any] = {
            "model": name,
            "torch_threads": torch.get_num_threads(),
            "load_and_first_request_s": load_s,
            "plain_generate": best(baseline),
            "engine": best(base),
            "engine_lora": best(lora),
            "8_one_at_a_time": min(alone, key=lambda r: r["wall_s"]),
            "8_concurrent": min(together, key=lambda r: r["wall_s"]),
            "8_concurrent_batches": batches,
        }
    if args.json:
        print(json.dumps(results))
        return 0
    print(
        f"model: {name}; {results['torch_threads']} torch threads; load + first request "
        f"{load_s:.1f} s; best of {args.rounds} rounds"
    )
    for key in ("plain_generate", "engine", "engine_lora"):
        r = results[key]
        print(
            f"{key:15s} {int(r['completion_tokens'])} tok: first token "
            f"{r['first_token_s'] * 1000:7.1f} ms, decode {r['decode_tokens_per_s']:6.1f} tok/s"
        )
    for key in ("8_one_at_a_time", "8_concurrent"):
        r = results[key]
        print(
            f"{key:15s} {int(r['tokens'])} tok in {r['wall_s']:.2f} s: "
            f"{r['tokens_per_s']:6.1f} tok/s"
        )
    print(f"8 concurrent ran as generate batches of {batches} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
