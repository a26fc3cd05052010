"""Open models (the local server's) count tokens with their own tokenizer and carry their own
limit: no `unknown_model` warning for the bundled default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tui.core.lint import lint_path
from tui.core.local_models import model_dir_name
from tui.core.models_catalog import resolve_model

SMOL = "HuggingFaceTB/SmolLM2-135M-Instruct"


@pytest.fixture(autouse=True)
def _data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FT_TUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))


def _word_tokenizer(folder: Path, context: int) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers

    words = ["hello", "world", "5", "km", "in", "m", "?", "5000"]
    tokenizer = Tokenizer(
        models.WordLevel({w: i for i, w in enumerate(words + ["[UNK]"])}, "[UNK]")
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    folder.mkdir(parents=True)
    tokenizer.save(str(folder / "tokenizer.json"))
    (folder / "config.json").write_text(json.dumps({"max_position_embeddings": context}))


def _dataset(path: Path, n: int = 12) -> Path:
    row = {
        "messages": [
            {"role": "user", "content": "5 km in m?"},
            {"role": "assistant", "content": "5000 m"},
        ]
    }
    path.write_text("".join(json.dumps(row) + "\n" for _ in range(n)), encoding="utf-8")
    return path


def test_the_bundled_model_is_not_an_unknown_model(tmp_path: Path) -> None:
    info = resolve_model(SMOL)
    assert info.known and info.training_limit == 8192
    report = lint_path(_dataset(tmp_path / "d.jsonl"), model=SMOL)
    assert "unknown_model" not in report.counts_by_rule
    assert report.estimate.cost_usd == 0.0  # local training costs no API money


def test_its_own_tokenizer_and_context_length_are_used(tmp_path: Path) -> None:
    from tui.config import local_server_dir

    _word_tokenizer(local_server_dir() / "models" / model_dir_name(SMOL), context=2048)
    info = resolve_model(f"ft:{SMOL}:local:units:abc123")
    assert info.encoding.startswith("hf:") and info.training_limit == 2048 and not info.note
    from tui.core.tokens import token_counter

    assert token_counter(info.encoding).count("5 km in m?") == 5  # word-level: 5 tokens
