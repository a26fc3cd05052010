"""The `merged` export: LoRA folded into the base weights with peft's `merge_and_unload`, saved
with transformers' `save_pretrained` (safetensors) in the base model's dtype, with the tokenizer,
its chat template and the generation config, so `AutoModelForCausalLM.from_pretrained(dir)` and
`vllm serve dir` load it with no adapter and no ft-tui."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tui.local.export import ExportError

Progress = Callable[[float, str], None]
_DTYPES = {"float32": "float32", "float16": "float16", "bfloat16": "bfloat16"}


def base_dtype_name(base_dir: Path) -> str:
    """The dtype the base model's config declares (`dtype` or `torch_dtype`), float32 if none."""
    try:
        config = json.loads((base_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "float32"
    declared = config.get("dtype") or config.get("torch_dtype")
    return _DTYPES.get(str(declared), "float32")


def write_merged(base_dir: Path, adapter_dir: Path, out: Path, progress: Progress) -> list[str]:
    """Write the merged model into `out` (an existing empty folder); returns the file names."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tui.local.training.hf import quiet_transformers

    quiet_transformers()
    dtype_name = base_dtype_name(base_dir)
    progress(0.05, "loading the base model")
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(base_dir), local_files_only=True)
        # Merge in float32 (exact sums), then store in the base model's own dtype.
        model: Any = AutoModelForCausalLM.from_pretrained(
            str(base_dir), dtype=torch.float32, local_files_only=True
        )
    except Exception as exc:  # transformers raises many kinds
        raise ExportError("model_not_available", f"cannot load the base model: {exc}") from exc
    progress(0.3, "merging the adapter")
    try:
        merged: Any = PeftModel.from_pretrained(
            model, str(adapter_dir), is_trainable=False
        ).merge_and_unload()
    except Exception as exc:
        raise ExportError("model_not_available", f"cannot merge the adapter: {exc}") from exc
    merged = merged.to(getattr(torch, dtype_name))
    merged.config.dtype = dtype_name
    progress(0.6, "saving the merged weights")
    merged.save_pretrained(str(out), safe_serialization=True)
    tokenizer.save_pretrained(str(out))
    return sorted(p.name for p in out.iterdir() if p.is_file())
