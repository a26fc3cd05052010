"""`ft-tui serve --model [NAME=]SOURCE` and `--chat-template NAME=FILE` parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.local.model_sources import ModelSpec, parse_model_spec, parse_models


def test_each_source_kind_and_its_default_name(tmp_path: Path) -> None:
    folder = tmp_path / "my-model"
    folder.mkdir()
    gguf = tmp_path / "Small.Q4_1.gguf"
    gguf.write_bytes(b"GGUF")
    assert parse_model_spec(str(folder)) == ModelSpec("my-model", "folder", str(folder))
    assert parse_model_spec(str(gguf)) == ModelSpec("Small.Q4_1", "gguf", str(gguf))
    assert parse_model_spec("Qwen/Qwen2.5-0.5B-Instruct") == ModelSpec(
        "Qwen/Qwen2.5-0.5B-Instruct", "hub", "Qwen/Qwen2.5-0.5B-Instruct"
    )
    assert parse_model_spec(f"mine={folder}").name == "mine"
    assert parse_model_spec("q=Qwen/Qwen2.5-0.5B-Instruct") == ModelSpec(
        "q", "hub", "Qwen/Qwen2.5-0.5B-Instruct"
    )


def test_an_existing_folder_wins_over_a_hub_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "owner" / "name").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert parse_model_spec("owner/name").kind == "folder"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("gpt2", "a Hugging Face id such as"),
        ("x=/no/such/dir", "no such folder"),
        ("x=missing.gguf", "no such GGUF file"),
        ("ft:x=owner/name", "must not start with 'ft:'"),
        ("x=", "SOURCE being missing"),
        ("x=bare-word", "not a folder, a .gguf file or a Hugging Face id"),
    ],
)
def test_bad_values_say_what_is_expected(value: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_model_spec(value)


def test_templates_must_name_a_model_and_names_are_unique(tmp_path: Path) -> None:
    template = tmp_path / "t.jinja"
    template.write_text("{{ messages }}")
    models, templates = parse_models(["a=owner/a"], [f"a={template}"])
    assert [m.name for m in models] == ["a"] and templates == {"a": template}
    _, builtin = parse_models([], [f"base={template}"], builtin=["base"])
    assert builtin == {"base": template}
    with pytest.raises(ValueError, match="no model is named 'b'"):
        parse_models(["a=owner/a"], [f"b={template}"])
    with pytest.raises(ValueError, match="two models are named 'owner/a'"):
        parse_models(["owner/a", "owner/a"], [])
    (tmp_path / "empty.jinja").write_text(" \n")
    with pytest.raises(ValueError, match="is empty"):
        parse_models(["a=owner/a"], [f"a={tmp_path / 'empty.jinja'}"])
