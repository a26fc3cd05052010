"""Where a base model comes from: parsing `ft-tui serve --model SPEC` and `--chat-template`.

A SPEC is `[NAME=]SOURCE`, where SOURCE is, checked in this order:

- an existing folder: a Hugging Face model directory (`config.json`, weights, tokenizer);
- a path ending in `.gguf`: a GGUF file, dequantised to safetensors on first use;
- `owner/name`: a Hugging Face Hub model id, downloaded into the Hugging Face cache on first use.

Without `NAME=`, the model is named after its source: the Hub id, the folder's name, or the GGUF
file's name without `.gguf`. `--chat-template NAME=FILE` gives model NAME the Jinja chat template
in FILE (for models that ship none, or to replace theirs). The same strings work in
`[profiles.local] models = [...]` and `chat_templates = {NAME = "FILE"}` of config.toml.

Pure and cheap (no torch, no huggingface_hub): the CLI and the settings use it before anything
heavy is imported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

SourceKind = Literal["hub", "folder", "gguf"]
# Hugging Face repo ids: `owner/name`, letters, digits, '-', '_', '.', at most 96 characters each.
HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$")


@dataclass(frozen=True)
class ModelSpec:
    """One base model the server offers: its API name and where its files come from."""

    name: str
    kind: SourceKind
    source: str  # the Hub id, or the folder / GGUF path (expanded)

    @property
    def path(self) -> Path:
        return Path(self.source)


def _check_name(name: str, value: str) -> str:
    if not name or any(c.isspace() for c in name):
        raise ValueError(f"--model {value!r}: the name must be non-empty and without spaces")
    if name.startswith("ft:"):
        raise ValueError(
            f"--model name {name!r} must not start with 'ft:' (reserved for fine-tunes)"
        )
    return name


def parse_model_spec(value: str) -> ModelSpec:
    """`[NAME=]SOURCE` → ModelSpec; raises ValueError with a message for the user."""
    text = value.strip()
    name, sep, source = text.partition("=")
    if not sep:
        name, source = "", text
    name, source = name.strip(), source.strip()
    if not source:
        raise ValueError(f"--model {value!r}: expected [NAME=]SOURCE, SOURCE being missing")
    path = Path(source).expanduser()
    if path.is_dir():
        return ModelSpec(_check_name(name or path.resolve().name, value), "folder", str(path))
    if source.lower().endswith(".gguf"):
        if not path.is_file():
            raise ValueError(f"--model {value!r}: no such GGUF file {path}")
        return ModelSpec(_check_name(name or path.name[: -len(".gguf")], value), "gguf", str(path))
    if HUB_ID.match(source) and not source.startswith((".", "~")):
        return ModelSpec(_check_name(name or source, value), "hub", source)
    if sep and not source.startswith((".", "/", "~")) and "/" not in source:
        raise ValueError(
            f"--model {value!r}: {source} is not a folder, a .gguf file or a Hugging Face id "
            "(owner/name)"
        )
    looks_like_path = source.startswith((".", "/", "~")) or "\\" in source
    if looks_like_path:
        raise ValueError(f"--model {value!r}: no such folder {path}")
    raise ValueError(
        f"--model {value!r}: expected [NAME=]SOURCE, SOURCE being a model folder, a .gguf file "
        "or a Hugging Face id such as HuggingFaceTB/SmolLM2-360M-Instruct"
    )


def parse_chat_template_option(value: str) -> tuple[str, Path]:
    """`NAME=FILE` from `--chat-template`; the file must be a readable, non-empty text file."""
    name, sep, file = value.partition("=")
    name, file = name.strip(), file.strip()
    if not sep or not name or not file:
        raise ValueError(f"--chat-template expects NAME=FILE, got {value!r}")
    path = Path(file).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"--chat-template {value!r}: cannot read {path}: {exc}") from None
    if not text.strip():
        raise ValueError(f"--chat-template {value!r}: {path} is empty")
    return name, path


def parse_models(
    specs: Iterable[str], templates: Iterable[str], builtin: Iterable[str] = ()
) -> tuple[tuple[ModelSpec, ...], dict[str, Path]]:
    """All `--model` and `--chat-template` values; names must be unique and templates must name
    a model (one of `specs` or `builtin`)."""
    models: list[ModelSpec] = []
    seen: set[str] = set()
    for value in specs:
        spec = parse_model_spec(value)
        if spec.name in seen:
            raise ValueError(f"--model: two models are named {spec.name!r}; use NAME=SOURCE")
        seen.add(spec.name)
        models.append(spec)
    chat_templates: dict[str, Path] = {}
    known = seen | set(builtin)
    for value in templates:
        name, path = parse_chat_template_option(value)
        if name not in known:
            raise ValueError(
                f"--chat-template {value!r}: no model is named {name!r} "
                f"(models: {', '.join(sorted(known)) or 'none'})"
            )
        chat_templates[name] = path
    return tuple(models), chat_templates


def specs_from_dirs(extra: Mapping[str, Path]) -> tuple[ModelSpec, ...]:
    """`NAME → folder or .gguf path` pairs as specs (the registry's older constructor form)."""
    return tuple(
        ModelSpec(name, "gguf" if str(path).lower().endswith(".gguf") else "folder", str(path))
        for name, path in extra.items()
    )
