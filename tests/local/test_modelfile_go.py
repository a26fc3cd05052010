"""The Modelfile's TEMPLATE, executed by Go's own `text/template` (the engine Ollama runs it
with) on Ollama's data shape, renders conversations exactly as the model's Jinja chat template
does. Needs the Go toolchain (`apt-get install golang-go`); skipped without it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.local.test_export_units import GEMMA, LLAMA3
from tests.local.tiny_model import build_tiny_model
from tui.local.export.ollama import modelfile

pytestmark = [
    pytest.mark.local,
    pytest.mark.skipif(shutil.which("go") is None, reason="needs the Go toolchain"),
]

# Ollama hands a template `.System` and `.Messages` (role, content; the SYSTEM prompt comes
# first among the messages when it is set); these are the names its templates use.
RENDER_GO = """package main

import (
	"encoding/json"
	"os"
	"text/template"
)

type Message struct {
	Role    string
	Content string
}

type Data struct {
	System   string
	Messages []Message
}

func main() {
	raw, _ := os.ReadFile(os.Args[1])
	var input struct {
		Template string
		Data     Data
	}
	if err := json.Unmarshal(raw, &input); err != nil {
		panic(err)
	}
	tmpl := template.Must(template.New("t").Parse(input.Template))
	if err := tmpl.Execute(os.Stdout, input.Data); err != nil {
		panic(err)
	}
}
"""

CONVERSATIONS = [
    [{"role": "user", "content": "say red"}],
    [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "say blue"}],
    [
        {"role": "user", "content": "hello"},
        {"role": "assistant", "content": "hi there"},
        {"role": "user", "content": "say {{ green }}"},
    ],
]


@pytest.fixture(scope="module")
def go_render(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("gorender")
    (folder / "main.go").write_text(RENDER_GO)
    binary = folder / "render"
    subprocess.run(
        ["go", "build", "-o", str(binary), "main.go"],
        cwd=folder,
        check=True,
        capture_output=True,
        env={"GOCACHE": str(folder / "cache"), "HOME": str(folder), "PATH": "/usr/bin:/bin"},
    )
    return binary


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "m")


def _template_of(text: str) -> str:
    start = text.index('TEMPLATE """') + len('TEMPLATE """')
    return text[start : text.index('"""', start)]


def _run(binary: Path, template: str, messages: list[dict[str, str]], where: Path) -> str:
    data = {
        "System": "",
        "Messages": [{"Role": m["role"], "Content": m["content"]} for m in messages],
    }
    request = where / "input.json"
    request.write_text(json.dumps({"Template": template, "Data": data}))
    done = subprocess.run([str(binary), str(request)], capture_output=True, text=True, check=True)
    return done.stdout


@pytest.mark.parametrize("family", ["chatml", "llama3", "gemma"])
def test_go_template_renders_like_the_chat_template(
    family: str, go_render: Path, tiny: Path, tmp_path: Path
) -> None:
    from transformers import AutoTokenizer

    tokenizer: Any = AutoTokenizer.from_pretrained(str(tiny))
    if family != "chatml":
        tokenizer.chat_template = LLAMA3 if family == "llama3" else GEMMA
    text, _ = modelfile("m.gguf", tiny, tokenizer, None)
    template = _template_of(text)
    for messages in CONVERSATIONS:
        if family == "gemma" and messages[0]["role"] == "system":
            continue  # this Gemma template has no system turn to compare
        expected = tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True
        )
        assert _run(go_render, template, messages, tmp_path) == expected, messages
