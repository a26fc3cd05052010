"""The `README.md` model card every export carries: what the model is and how it was made.

Hugging Face model cards start with a YAML block (`base_model`, `library_name`, `tags`); the body
lists the training facts a user needs to trust or reproduce the model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from tui import __version__
from tui.core.exports import serve_commands
from tui.local.export.source import DataFile, ExportSource


@dataclass(frozen=True)
class CardFacts:
    source: ExportSource
    format: str
    quantization: str | None
    converter: str
    files: list[str]
    base_reference: str  # how a user loads the base: a hub id or a directory


def _file_line(label: str, data: DataFile | None) -> str:
    if data is None:
        return f"- {label}: none"
    digest = data.sha256 or "unknown (the file is no longer on the server)"
    return f"- {label}: `{data.name}` (`{data.file_id}`), sha256 `{digest}`"


def _loss(value: float | None) -> str:
    return "not reported" if value is None else f"{value:.4f}"


def _tags(facts: CardFacts) -> list[str]:
    tags = ["ft-tui", "lora", facts.source.method]
    return tags + (["gguf"] if facts.format in ("gguf", "ollama") else [])


def render(facts: CardFacts, *, when: datetime | None = None) -> str:
    source = facts.source
    date = (when or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    serve = serve_commands(
        facts.format, ".", facts.files, base=facts.base_reference, model=source.model
    )
    checkpoint = f"checkpoint at step {source.step}" if source.step is not None else "final model"
    export_line = facts.format + (f" ({facts.quantization.upper()})" if facts.quantization else "")
    lines = [
        "---",
        f"base_model: {json.dumps(source.base)}",
        "library_name: " + ("peft" if facts.format == "adapter" else "transformers"),
        f"tags: [{', '.join(_tags(facts))}]",
        "---",
        "",
        f"# {source.model}",
        "",
        f"A LoRA fine-tune of `{source.base}` made with ft-tui ({checkpoint}).",
        "",
        "## Export",
        "",
        f"- format: {export_line}",
        f"- converter: {facts.converter}" if facts.converter else "- converter: none (copied)",
        f"- files: {', '.join(f'`{name}`' for name in facts.files)}",
        f"- exported: {date} by ft-tui {__version__}",
        "",
        "## Training",
        "",
        f"- base model: `{source.base}`",
        f"- fine-tuning job: `{source.job_id}`",
        f"- method: {source.method}",
        _file_line("training file", source.training),
        _file_line("validation file", source.validation),
        f"- hyperparameters: `{json.dumps(source.hyperparameters, sort_keys=True)}`",
        f"- seed: {source.seed if source.seed is not None else 'not recorded'}",
        f"- final training loss: {_loss(source.train_loss)}",
        f"- final validation loss: {_loss(source.valid_loss)}",
        "",
        "## Serve it",
        "",
        "```sh",
        *serve,
        "```",
        "",
    ]
    return "\n".join(lines)
