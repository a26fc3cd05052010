"""Export formats of fine-tuned models and the commands that serve each one (pure).

    serve_commands("gguf", "/out/m", ["README.md", "model-f16.gguf"], base="", model="ft:x")
      -> ["llama-server -m /out/m/model-f16.gguf", "llama-cli -m /out/m/model-f16.gguf -cnv"]

The local server (`tui.local.export`) makes the exports; the CLI, the app and the model card
show these commands.
"""

from __future__ import annotations

import shlex

FORMATS = ("adapter", "merged", "gguf", "ollama")
QUANTIZATIONS = ("f16", "q8_0")
FORMAT_HELP = {
    "adapter": "the PEFT LoRA folder (peft, vLLM --lora-modules)",
    "merged": "full Hugging Face weights, LoRA merged in (transformers, vLLM)",
    "gguf": "one GGUF file, F16 or Q8_0 (llama.cpp)",
    "ollama": "the GGUF file plus a Modelfile (ollama create)",
}


def ollama_name(model: str) -> str:
    """A model name `ollama create` accepts, made from a fine-tune's id."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "-" for c in model.lower())
    return "-".join(part for part in cleaned.split("-") if part)[:80] or "ft-tui-model"


def serve_commands(fmt: str, folder: str, files: list[str], *, base: str, model: str) -> list[str]:
    """Shell commands that serve an export in `folder` (quoted for a POSIX shell)."""
    where = shlex.quote(folder)
    gguf = next((name for name in files if name.endswith(".gguf")), "model.gguf")
    if fmt == "adapter":
        name = ollama_name(model)
        return [
            f"vllm serve {shlex.quote(base)} --enable-lora --lora-modules {name}={where}",
        ]
    if fmt == "merged":
        return [f"vllm serve {where}"]
    if fmt == "gguf":
        path = shlex.quote(f"{folder.rstrip('/')}/{gguf}")
        return [f"llama-server -m {path}", f"llama-cli -m {path} -cnv"]
    if fmt == "ollama":
        name = ollama_name(model)
        modelfile = shlex.quote(f"{folder.rstrip('/')}/Modelfile")
        return [f"ollama create {name} -f {modelfile}", f"ollama run {name}"]
    raise ValueError(f"unknown export format {fmt!r}")
