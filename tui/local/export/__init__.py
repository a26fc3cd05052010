"""Exports of fine-tuned models, run on the server that holds the weights.

Formats (`FORMATS`):

* `adapter`: the PEFT folder as the trainer saved it (vLLM `--lora-modules`, peft);
* `merged`: a full Hugging Face model folder (peft `merge_and_unload`) in the base model's dtype,
  with tokenizer, chat template and generation config;
* `gguf`: one GGUF file (F16 or Q8_0) for llama.cpp, written by `gguf_writer`;
* `ollama`: the GGUF plus a `Modelfile`.

Every export folder carries a `README.md` model card. `job.ExportRunner` runs exports off the
request path and publishes a folder only once it is complete; `records` stores their state.
"""

from __future__ import annotations

from tui.core.exports import FORMATS, QUANTIZATIONS

__all__ = ["FORMATS", "QUANTIZATIONS", "ExportError"]


class ExportError(Exception):
    """An export that cannot be made; `code` becomes the OpenAI-shaped error's code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
