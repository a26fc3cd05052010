"""Open (Hugging Face) base models, as the local server trains them: their tokenizer and limits.

OpenAI model names never contain "/"; Hugging Face ids do (`HuggingFaceTB/SmolLM2-135M-Instruct`,
the bundled default). Such a model counts tokens with its own tokenizer (`tokenizer.json`, read
with the `tokenizers` library) and carries its own limit (its context length), so lint does not
call it an unknown OpenAI model. The tokenizer is found where the local server keeps the prepared
model (`<server data dir>/models/<name>/`), in a model folder given as a path, or in the Hugging
Face cache; before the model is first prepared, counts fall back to o200k_base (close for English,
and said so in the note).
"""

from __future__ import annotations

import os
from pathlib import Path

HF_ENCODING_PREFIX = "hf:"  # `hf:<path to tokenizer.json>` names a model's own tokenizer
DEFAULT_CONTEXT_LENGTH = 8192  # the bundled SmolLM2's context length
FALLBACK_ENCODING = "o200k_base"


def is_open_model(base: str) -> bool:
    """A Hugging Face id (`org/name`) or a model folder: a model the local server trains."""
    return "/" in base or os.sep in base


def model_dir_name(name: str) -> str:
    """The folder name the local server prepares `name` under (the one rule: the server's
    registry and the linter's tokenizer lookup both call this)."""
    return "".join(c if c.isalnum() or c in "-_." else "--" for c in name)


def _server_models_dir() -> Path | None:
    try:
        from tui.config import local_server_dir
    except ImportError:  # pragma: no cover - config is part of the package
        return None
    return local_server_dir() / "models"


def _hub_cached(name: str, file: str) -> Path | None:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # the `local` extra is not installed
        return None
    try:
        found = try_to_load_from_cache(name, file)
    except Exception:  # not a valid repo id, unreadable cache
        return None
    return Path(found) if isinstance(found, str) else None


def model_folder(name: str) -> Path | None:
    """A folder holding the model's `tokenizer.json`, if one is on this machine."""
    candidates: list[Path] = []
    as_path = Path(name).expanduser()
    if as_path.is_absolute() or name.startswith("."):
        candidates.append(as_path)
    models = _server_models_dir()
    if models is not None:
        candidates += [
            models / model_dir_name(name),
            models / (model_dir_name(name) + "--with-template"),
        ]
    for folder in candidates:
        if (folder / "tokenizer.json").is_file():
            return folder
    cached = _hub_cached(name, "tokenizer.json")
    return cached.parent if cached is not None else None


def context_length(folder: Path | None) -> int:
    """The model's context length from its `config.json`, else the bundled default's."""
    import json

    if folder is not None:
        try:
            config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            config = {}
        for key in ("max_position_embeddings", "n_positions", "max_sequence_length"):
            value = config.get(key) if isinstance(config, dict) else None
            if isinstance(value, int) and value > 0:
                return value
    return DEFAULT_CONTEXT_LENGTH


def open_model_encoding(name: str) -> tuple[str, int, str]:
    """(encoding name for `tokens.token_counter`, token limit per example, note)."""
    import importlib.util

    folder = model_folder(name)
    limit = context_length(folder)
    if folder is not None and importlib.util.find_spec("tokenizers") is None:
        return (
            FALLBACK_ENCODING,
            limit,
            f"local model {name}: tokens counted with {FALLBACK_ENCODING} (install the local"
            " extra to count with its own tokenizer)",
        )
    if folder is None:
        return (
            FALLBACK_ENCODING,
            limit,
            f"local model {name}: its tokenizer is not on this machine yet (it is prepared with the"
            f" first job); tokens counted with {FALLBACK_ENCODING}",
        )
    return f"{HF_ENCODING_PREFIX}{folder / 'tokenizer.json'}", limit, ""
