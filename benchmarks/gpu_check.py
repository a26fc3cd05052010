"""The whole GPU path in one run: train in bf16 and QLoRA 4-bit, chat with each result.

    benchmarks/gpu_check.sh [MODEL ...]

Trains the bundled SmolLM2-135M-Instruct and every MODEL given (a Hugging Face Hub id that is
already in the cache, or a model folder) with `run_training` (TRL SFTTrainer, LoRA) twice: bf16
(fp16 with loss scaling where bf16 is not supported) and QLoRA 4-bit (bitsandbytes, the `gpu`
extra). Then it chats with each adapter. It prints ONE JSON line:

    {"gpu": "...", "torch": "...", "runs": [{"model", "mode", "train_tokens_per_s",
     "peak_vram_mb", "chat_tokens_per_s", "first_loss", "last_loss", "answer"}, ...],
     "ok": true|false}

`ok` is false when any run failed (its entry carries "error"). Sized to finish in well under
10 minutes on one GPU: 200 synthetic examples x 1 epoch per run, 64 new tokens of chat.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.train_bench import synthetic_examples
from tui.local.training import Hyperparameters, TrainingRequest, run_training

EXAMPLES = 200
NEW_TOKENS = 64


class _Sink:
    def __init__(self) -> None:
        self.losses: list[float] = []

    def event(self, message: str, **kwargs: Any) -> None:
        data = kwargs.get("data")
        if kwargs.get("type") == "metrics" and data:
            self.losses.append(float(data["train_loss"]))

    def checkpoint(self, **_: Any) -> None:
        return None

    def stop_requested(self) -> None:
        return None


def _model_dir(spec: str) -> tuple[str, Path]:
    if spec == "smollm2":
        from tui.config import data_dir
        from tui.local.base_models import DEFAULT_BASE_MODEL, BaseModelRegistry

        return DEFAULT_BASE_MODEL, BaseModelRegistry(data_dir() / "local").resolve(
            DEFAULT_BASE_MODEL
        )
    if Path(spec).is_dir():
        return spec, Path(spec)
    from huggingface_hub import snapshot_download

    return spec, Path(snapshot_download(spec, local_files_only=True))


def _chat(model_dir: Path, adapter: Path) -> tuple[float, str]:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    base = AutoModelForCausalLM.from_pretrained(
        str(model_dir), dtype=torch.bfloat16, device_map={"": 0}
    )
    model: Any = PeftModel.from_pretrained(base, str(adapter)).eval()
    messages = [{"role": "user", "content": "Question 1: tell me about tea."}]
    encoded: Any = tokenizer.apply_chat_template(
        messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    ids = encoded.to("cuda")
    torch.cuda.synchronize()
    started = time.perf_counter()
    with torch.no_grad():
        out = model.generate(**ids, max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS)
    torch.cuda.synchronize()
    elapsed = time.perf_counter() - started
    new = out[0, ids["input_ids"].shape[1] :]
    return len(new) / elapsed, str(tokenizer.decode(new, skip_special_tokens=True))[:80]


def _one(name: str, model_dir: Path, quantization: str | None, root: Path) -> dict[str, Any]:
    import torch

    entry: dict[str, Any] = {"model": name, "mode": quantization or "bf16"}
    data = root / "train.jsonl"
    data.write_text("".join(json.dumps(e) + "\n" for e in synthetic_examples(EXAMPLES)))
    hp = Hyperparameters(1, 8, 1.0, quantization=quantization)
    work = root / f"work-{name.replace('/', '_')}-{entry['mode']}"
    request = TrainingRequest("gpu-check", model_dir, data, None, hp, 0, work, "ft:gpu-check")
    sink = _Sink()
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    try:
        outcome = run_training(request, sink)
        torch.cuda.synchronize()
        elapsed = time.perf_counter() - started
        entry["train_tokens_per_s"] = round(outcome.trained_tokens / elapsed, 1)
        entry["peak_vram_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
        entry["first_loss"], entry["last_loss"] = sink.losses[0], sink.losses[-1]
        assert outcome.adapter_dir is not None
        speed, answer = _chat(model_dir, outcome.adapter_dir)
        entry["chat_tokens_per_s"], entry["answer"] = round(speed, 1), answer
    except Exception as exc:  # reported in the JSON line, never a traceback only
        entry["error"] = f"{type(exc).__name__}: {exc}"[:500]
    return entry


def main(argv: list[str]) -> int:
    import torch

    if not torch.cuda.is_available():
        print("error: gpu_check needs a CUDA GPU (torch.cuda.is_available() is False)")
        return 2
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="ft-tui-gpu-check-") as tmp:
        for spec in ["smollm2", *argv]:
            try:
                name, model_dir = _model_dir(spec)
            except Exception as exc:
                runs.append({"model": spec, "error": f"{type(exc).__name__}: {exc}"[:500]})
                continue
            for quantization in (None, "4bit"):
                runs.append(_one(name, model_dir, quantization, Path(tmp)))
    report = {
        "gpu": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "runs": runs,
        "ok": all("error" not in run for run in runs),
    }
    print(json.dumps(report))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
