"""Loading a local Hugging Face causal LM and its tokenizer: offline, quiet, clear errors."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

# No HF_HUB_OFFLINE here: folders load with local_files_only=True, and setting it at import would
# switch the server's own Hub downloads (tui/local/hub_models.py) off.
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")

END_OF_TURN_TOKENS = ("<|im_end|>", "<|eot_id|>", "<end_of_turn>", "<|end|>", "<|endoftext|>")


class ModelLoadError(Exception):
    """The directory does not hold a usable causal LM with a chat template."""


def quiet_transformers() -> None:
    import warnings

    from transformers.utils import logging as hf_logging

    logging: Any = hf_logging
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"(transformers|peft)\.")

    logging.set_verbosity_error()
    logging.disable_progress_bar()


def load_tokenizer(model_dir: Path) -> Any:
    quiet_transformers()
    from transformers import AutoTokenizer

    if not (model_dir / "config.json").is_file():
        raise ModelLoadError(f"{model_dir} is not a model directory (no config.json)")
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    except Exception as exc:  # transformers raises many kinds; the message is what matters
        raise ModelLoadError(f"cannot load the tokenizer from {model_dir}: {exc}") from exc
    if not getattr(tokenizer, "chat_template", None):
        raise ModelLoadError(f"the tokenizer in {model_dir} has no chat template")
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(model_dir: Path, device: Any, dtype: Any) -> Any:
    quiet_transformers()
    from transformers import AutoModelForCausalLM

    try:
        model = AutoModelForCausalLM.from_pretrained(
            str(model_dir), dtype=dtype, local_files_only=True
        )
    except Exception as exc:
        raise ModelLoadError(f"cannot load a causal LM from {model_dir}: {exc}") from exc
    return model.to(device)


def end_token_ids(tokenizer: Any, model: Any | None = None) -> set[int]:
    """Token ids that end an assistant turn: EOS (tokenizer and generation config) and the
    template's end-of-turn token."""
    ids: set[int] = set()
    if tokenizer.eos_token_id is not None:
        ids.add(int(tokenizer.eos_token_id))
    generation_config = getattr(model, "generation_config", None)
    configured = getattr(generation_config, "eos_token_id", None)
    if isinstance(configured, int):
        ids.add(configured)
    elif isinstance(configured, list):
        ids.update(int(i) for i in configured)
    vocab = tokenizer.get_vocab()
    template = str(getattr(tokenizer, "chat_template", "") or "")
    for token in END_OF_TURN_TOKENS:
        if token in vocab and token in template:
            ids.add(int(vocab[token]))
    return ids


def context_length(model: Any) -> int:
    config = model.config
    for key in ("max_position_embeddings", "n_positions", "max_sequence_length"):
        value = getattr(config, key, None)
        if isinstance(value, int) and value > 0:
            return value
    return 2048
