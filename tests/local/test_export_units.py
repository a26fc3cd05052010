"""Export parts on their own: the archive stream, the GGUF writer's refusals and the llama.cpp
converter hand-off, Modelfiles for each chat-template family, and restart recovery."""

from __future__ import annotations

import io
import json
import os
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from tests.local.tiny_model import build_tiny_model
from tui.local.export import ExportError
from tui.local.export.archive import iter_tar, tar_size
from tui.local.export.gguf_writer import LLAMA_CPP_CONVERTER, write_gguf
from tui.local.export.ollama import modelfile

pytestmark = pytest.mark.local

LLAMA3 = (
    "{{ '<|begin_of_text|>' }}{% if messages[0]['role'] != 'system' %}"
    "{{ '<|start_header_id|>system<|end_header_id|>\n\nBe kind.<|eot_id|>' }}{% endif %}"
    "{% for m in messages %}{{ '<|start_header_id|>' + m['role'] + '<|end_header_id|>\n\n'"
    " + m['content'] + '<|eot_id|>' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}"
    "{% endif %}"
)
GEMMA = (
    "{% for m in messages %}{{ '<start_of_turn>' + ('model' if m['role'] == 'assistant' else"
    " 'user') + '\n' + m['content'] + '<end_of_turn>\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<start_of_turn>model\n' }}{% endif %}"
)
ODD = "{% for m in messages %}### {{ m['role'] }}: {{ m['content'] }}\n{% endfor %}### assistant:"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "m")


def _tokenizer(model_dir: Path, template: str | None = None) -> Any:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    if template is not None:
        tokenizer.chat_template = template
    return tokenizer


def test_archive_stream_is_a_tar_of_the_folder_with_the_announced_size(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_bytes(b"x" * 1000)
    (tmp_path / "sub" / "b.bin").write_bytes(os.urandom(5000))
    (tmp_path / ("long-" * 30 + ".txt")).write_text("long name")
    data = b"".join(iter_tar(tmp_path))
    assert len(data) == tar_size(tmp_path)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        names = sorted(tar.getnames())
        assert names == sorted(["a.txt", "sub/b.bin", "long-" * 30 + ".txt"])
        member = tar.extractfile("sub/b.bin")
        assert member is not None
        assert member.read() == (tmp_path / "sub" / "b.bin").read_bytes()


def test_gguf_of_another_architecture_is_a_clear_error(tmp_path: Path, tiny: Path) -> None:
    merged = tmp_path / "gpt2"
    merged.mkdir()
    (merged / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    with pytest.raises(ExportError) as caught:
        write_gguf(merged, tmp_path / "x.gguf", "f16", lambda _f, _s: None)
    assert caught.value.code == "unsupported_architecture"
    assert "'gpt2'" in caught.value.message and LLAMA_CPP_CONVERTER in caught.value.message
    assert not (tmp_path / "x.gguf").exists()


def test_llama_cpp_converter_on_path_is_used_and_named(
    tmp_path: Path, tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stand-in for llama.cpp's script records how it is called (llama.cpp is not a pip
    package; the real converter is not installed here)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / LLAMA_CPP_CONVERTER
    calls = tmp_path / "calls.json"
    script.write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        f"open({str(calls)!r}, 'w').write(json.dumps(sys.argv[1:]))\n"
        "out = sys.argv[sys.argv.index('--outfile') + 1]\nopen(out, 'wb').write(b'GGUF')\n"
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    converter = write_gguf(tiny, tmp_path / "m.gguf", "q8_0", lambda _f, _s: None)
    assert converter.startswith(f"llama.cpp {LLAMA_CPP_CONVERTER}")
    assert json.loads(calls.read_text()) == [
        str(tiny),
        "--outfile",
        str(tmp_path / "m.gguf"),
        "--outtype",
        "q8_0",
    ]


def test_modelfile_for_chatml_llama3_gemma_and_an_unknown_family(tiny: Path) -> None:
    chatml, note = modelfile("m.gguf", tiny, _tokenizer(tiny), "Answer in French.")
    assert "chatml" in note
    assert "<|im_start|>system\nYou are a tiny test model.<|im_end|>" in chatml
    assert 'SYSTEM """Answer in French."""' in chatml

    llama3, _ = modelfile("m.gguf", tiny, _tokenizer(tiny, LLAMA3), None)
    assert "<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n{{ .Content }}<|eot_id|>" in llama3
    assert "<|start_header_id|>system<|end_header_id|>\n\nBe kind.<|eot_id|>" in llama3
    assert 'PARAMETER stop "<|eot_id|>"' in llama3
    assert 'SYSTEM """Be kind."""' in llama3  # no training system prompt: the template's own

    gemma, _ = modelfile("m.gguf", tiny, _tokenizer(tiny, GEMMA), None)
    assert '<start_of_turn>{{ if eq .Role "assistant" }}model' in gemma
    assert 'PARAMETER stop "<end_of_turn>"' in gemma and "SYSTEM" not in gemma

    odd, note = modelfile("m.gguf", tiny, _tokenizer(tiny, ODD), None)
    assert 'TEMPLATE """' not in odd and odd.startswith("FROM ./m.gguf\n")
    assert "# TEMPLATE not written" in odd and "unknown" in note


def test_exports_left_running_by_a_stopped_server_fail_at_the_next_start(tmp_path: Path) -> None:
    from tui.local.base_models import BaseModelRegistry
    from tui.local.export.job import ExportRunner, exports_dir
    from tui.local.export.records import ExportRecords
    from tui.local.settings import ServerSettings
    from tui.local.store import Store

    settings = ServerSettings(data_dir=tmp_path, api_key="k")
    store = Store(settings.db_path)
    records = ExportRecords(store)
    stale = records.create("ft:x:local::abc", "gguf", {"quantization": "f16"})
    records.progress(str(stale["id"]), 0.4, "converting")
    partial = exports_dir(settings) / f".{stale['id']}.partial"
    partial.mkdir(parents=True)
    runner = ExportRunner(settings, store, BaseModelRegistry(tmp_path))
    runner.start()
    try:
        found = records.get(str(stale["id"]))
        assert found is not None and found["status"] == "failed"
        assert found["error"]["code"] == "server_restarted"
        assert not partial.exists()
    finally:
        runner.stop()
        store.close()
