"""Training throughput: ft-tui's `run_training` vs a plain transformers `Trainer` + peft run.

ft-tui trains on TRL's SFTTrainer with padding-free batches and, on CPU, its own LM-head loss
over the supervised positions only (`tui/local/training/cpu_lm_head.py`; no full-vocabulary logits
for the whole batch); the baseline is the textbook Trainer + peft recipe with a padding collator.
On a shared machine `--threads 1` gives the steadiest per-CPU-second figures. Each run happens
in a fresh process, so its peak RSS is its own.

Same base model, same LoRA config (r=8, alpha=16, dropout 0.05, all linear layers), same examples
and masking, same batch size, epochs, learning rate, schedule and seed. Reported: trained tokens
per second of the training loop (model loading and tokenization excluded for both) and of the
whole call.

    python -m benchmarks.train_bench [--tiny] [--examples 20] [--epochs 1] [--batch-size 4]
                                     [--rounds 1] [--json]

Default model: the bundled SmolLM2-135M-Instruct (converted once into a cache dir); `--tiny`
uses the random tiny test model. Rounds alternate the two trainers; the best round counts, which
matters on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.local.training import Hyperparameters, TrainingRequest, run_training

TOPICS = ["tea", "rivers", "compilers", "bicycles", "volcanoes", "jazz", "databases", "bees"]


def synthetic_examples(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """Deterministic chat examples of varied length (roughly 40-200 tokens)."""
    rng = random.Random(seed)
    examples = []
    for i in range(n):
        topic = rng.choice(TOPICS)
        facts = " ".join(
            f"Point {k + 1}: {topic} matter because of reason {rng.randint(1, 99)}."
            for k in range(rng.randint(1, 8))
        )
        examples.append(
            {
                "messages": [
                    {"role": "system", "content": "You are a concise assistant."},
                    {"role": "user", "content": f"Question {i}: tell me about {topic}."},
                    {
                        "role": "assistant",
                        "content": f"Here is what matters about {topic}. {facts}",
                    },
                ]
            }
        )
    return examples


class _TimingSink:
    def __init__(self) -> None:
        self.loop_started: float | None = None
        self.loop_cpu_started = 0.0

    def event(
        self,
        message: str,
        *,
        level: str = "info",
        type: str = "message",  # noqa: A002
        data: dict[str, Any] | None = None,
    ) -> None:
        pass

    def checkpoint(
        self, *, step: int, metrics: dict[str, float], adapter_dir: Path, model_name: str
    ) -> None:
        pass

    def stop_requested(self) -> None:
        if self.loop_started is None:  # first poll: the model is loaded, the data tokenized
            self.loop_started = time.perf_counter()
            self.loop_cpu_started = time.process_time()
        return None


@dataclass
class Result:
    name: str
    tokens: int
    loop_s: float
    total_s: float
    loop_cpu_s: float  # CPU seconds of the loop: steadier than wall time on a shared machine
    peak_rss_mb: float = 0.0  # of the process that ran it (each run has a fresh process)

    @property
    def loop_tokens_per_s(self) -> float:
        return self.tokens / self.loop_s

    @property
    def loop_tokens_per_cpu_s(self) -> float:
        return self.tokens / self.loop_cpu_s

    @property
    def total_tokens_per_s(self) -> float:
        return self.tokens / self.total_s


def run_ours(model_dir: Path, data: Path, work: Path, hp: Hyperparameters, seed: int) -> Result:
    sink = _TimingSink()
    started = time.perf_counter()
    req = TrainingRequest("bench", model_dir, data, None, hp, seed, work, "ft:bench")
    outcome = run_training(req, sink)
    ended, ended_cpu = time.perf_counter(), time.process_time()
    assert sink.loop_started is not None
    return Result(
        "ft-tui run_training",
        outcome.trained_tokens,
        ended - sink.loop_started,
        ended - started,
        ended_cpu - sink.loop_cpu_started,
    )


def run_hf_trainer(
    model_dir: Path, data: Path, work: Path, hp: Hyperparameters, seed: int
) -> Result:
    import torch
    from peft import LoraConfig, TaskType, get_peft_model
    from transformers import DataCollatorForSeq2Seq, Trainer, TrainingArguments

    from tui.local.training.device import pick_device
    from tui.local.training.examples import load_examples
    from tui.local.training.hf import load_model, load_tokenizer

    started = time.perf_counter()
    device, dtype = pick_device()
    tokenizer = load_tokenizer(model_dir)
    examples, _ = load_examples(data, tokenizer, 4096)
    rows = [{"input_ids": e.input_ids, "labels": e.labels} for e in examples]
    torch.manual_seed(seed)
    model = load_model(model_dir, device, dtype)
    lora = LoraConfig(
        task_type=TaskType.CAUSAL_LM,
        r=8,
        lora_alpha=16,
        lora_dropout=0.05,
        target_modules="all-linear",
    )
    model = get_peft_model(model, lora)
    args = TrainingArguments(
        output_dir=str(work),
        per_device_train_batch_size=hp.batch_size,
        num_train_epochs=hp.n_epochs,
        learning_rate=hp.learning_rate,
        lr_scheduler_type="linear",
        weight_decay=0.0,
        max_grad_norm=1.0,
        logging_strategy="no",
        log_level="error",
        save_strategy="epoch",  # an adapter per epoch, as run_training saves
        save_only_model=True,
        report_to=[],
        seed=seed,
        disable_tqdm=True,
        use_cpu=device.type == "cpu",
        bf16=dtype == torch.bfloat16,
        dataloader_num_workers=0,
        remove_unused_columns=False,
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=rows,
        data_collator=DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100),
    )
    loop_started, loop_cpu_started = time.perf_counter(), time.process_time()
    trainer.train()
    ended, ended_cpu = time.perf_counter(), time.process_time()
    tokens = hp.n_epochs * sum(len(e.input_ids) for e in examples)
    return Result(
        "transformers Trainer + peft",
        tokens,
        ended - loop_started,
        ended - started,
        ended_cpu - loop_cpu_started,
    )


def _child(name: str, *args: Any) -> Result:
    """Run one trainer in this (fresh) process and add its peak resident memory."""
    import resource

    if args[-1] > 0:  # torch threads
        import torch

        torch.set_num_threads(args[-1])
    runner = run_ours if name == "run_ours" else run_hf_trainer
    result = runner(*args[:-1])
    result.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def _in_fresh_process(name: str, *args: Any) -> Result:
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        result: Result = pool.apply(_child, (name, *args))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="use the tiny random test model")
    parser.add_argument("--examples", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch default)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    from tui.config import data_dir
    from tui.local.base_models import DEFAULT_BASE_MODEL, BaseModelError, BaseModelRegistry

    with tempfile.TemporaryDirectory(prefix="ft-tui-train-bench-") as tmp:
        root = Path(tmp)
        if args.tiny:
            from tests.local.tiny_model import build_tiny_model

            model_dir = build_tiny_model(root / "tiny")
            model_name = "tiny random Llama (2 layers, d=64)"
        else:
            try:
                model_dir = BaseModelRegistry(data_dir() / "local").resolve(DEFAULT_BASE_MODEL)
            except BaseModelError as exc:
                print(f"error: {exc.message}", file=sys.stderr)
                return 1
            model_name = DEFAULT_BASE_MODEL
        data = root / "train.jsonl"
        data.write_text(
            "".join(json.dumps(e) + "\n" for e in synthetic_examples(args.examples, args.seed))
        )
        hp = Hyperparameters(args.epochs, args.batch_size, 1.0)
        best: dict[str, Result] = {}
        for round_no in range(args.rounds):
            runners = (
                ("run_ours", "run_hf_trainer")
                if round_no % 2 == 0
                else ("run_hf_trainer", "run_ours")
            )
            for runner in runners:
                work = root / f"work-{round_no}-{runner}"
                result = _in_fresh_process(
                    runner, model_dir, data, work, hp, args.seed, args.threads
                )
                print(
                    f"round {round_no + 1}: {result.name}: {result.loop_tokens_per_s:.1f} tok/s",
                    file=sys.stderr,
                    flush=True,
                )
                if result.name not in best or result.loop_s < best[result.name].loop_s:
                    best[result.name] = result
    results = [best["ft-tui run_training"], best["transformers Trainer + peft"]]
    if args.json:
        print(
            json.dumps([r.__dict__ | {"loop_tokens_per_s": r.loop_tokens_per_s} for r in results])
        )
        return 0
    print(
        f"model: {model_name}; {args.examples} examples x {args.epochs} epoch(s), "
        f"batch {args.batch_size}"
    )
    for r in results:
        print(
            f"{r.name:30s} {r.tokens:7d} tokens  "
            f"loop {r.loop_s:7.2f} s = {r.loop_tokens_per_s:8.1f} tok/s"
            f"   loop CPU {r.loop_cpu_s:7.2f} s = {r.loop_tokens_per_cpu_s:8.1f} tok/CPU-s"
            f"   whole call {r.total_s:7.2f} s   peak RSS {r.peak_rss_mb:7.0f} MB"
        )
    ours, theirs = results[0].loop_tokens_per_s, results[1].loop_tokens_per_s
    ours_cpu, theirs_cpu = results[0].loop_tokens_per_cpu_s, results[1].loop_tokens_per_cpu_s
    print(
        f"ft-tui / Trainer loop throughput: {ours / theirs:.2f}x wall, "
        f"{ours_cpu / theirs_cpu:.2f}x per CPU second"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
