"""Chat latency of the local inference engine: first-token latency and decode tokens/s, for the
base model and for the same model with a LoRA adapter (selected per request, unmerged).

    python -m benchmarks.chat_bench [--tiny] [--max-tokens 64] [--runs 3] [--json]

The adapter is a freshly initialised r=8 LoRA on all linear layers with non-zero weights, so it
costs what a trained one costs. Model loading is timed separately; each configuration is warmed
up once; medians over `--runs`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tui.local.inference import GenerationParams, InferenceEngine, Usage

PROMPT = [{"role": "user", "content": "Write a short story about a lighthouse keeper and a cat."}]


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


def one_run(
    engine: InferenceEngine, model_dir: Path, adapter: Path | None, max_tokens: int
) -> dict[str, float]:
    params = GenerationParams(max_tokens=max_tokens, temperature=0.0, top_p=1.0, stop=[], seed=0)
    started = time.perf_counter()
    first: float | None = None
    usage: Usage | None = None
    for part in engine.stream_chat(model_dir, adapter, PROMPT, params):
        if isinstance(part, Usage):
            usage = part
        elif first is None:
            first = time.perf_counter()
    ended = time.perf_counter()
    assert usage is not None
    first = first if first is not None else ended
    decoded = max(usage.completion_tokens - 1, 0)
    return {
        "first_token_s": first - started,
        "decode_tokens_per_s": decoded / (ended - first) if ended > first else 0.0,
        "completion_tokens": float(usage.completion_tokens),
        "prompt_tokens": float(usage.prompt_tokens),
    }


def measure(
    engine: InferenceEngine, model_dir: Path, adapter: Path | None, max_tokens: int, runs: int
) -> dict[str, Any]:
    one_run(engine, model_dir, adapter, 4)  # warm-up (loads the adapter)
    samples = [one_run(engine, model_dir, adapter, max_tokens) for _ in range(runs)]
    return {
        key: statistics.median(s[key] for s in samples)
        for key in ("first_token_s", "decode_tokens_per_s", "completion_tokens", "prompt_tokens")
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="use the tiny random test model")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    from tui.config import data_dir
    from tui.local.base_models import DEFAULT_BASE_MODEL, BaseModelError, BaseModelRegistry

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
        one_run(engine, model_dir, None, 1)
        load_s = time.perf_counter() - started
        results = {
            "model": name,
            "load_and_first_request_s": load_s,
            "base": measure(engine, model_dir, None, args.max_tokens, args.runs),
            "lora": measure(engine, model_dir, adapter, args.max_tokens, args.runs),
        }
    if args.json:
        print(json.dumps(results))
        return 0
    print(f"model: {name}; load + first request {load_s:.1f} s; medians of {args.runs} runs")
    for key in ("base", "lora"):
        r = results[key]
        assert isinstance(r, dict)
        print(
            f"{key:5s} prompt {int(r['prompt_tokens'])} tok, completion "
            f"{int(r['completion_tokens'])} tok: first token {r['first_token_s'] * 1000:7.1f} ms, "
            f"decode {r['decode_tokens_per_s']:6.1f} tok/s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
