"""Does a base model have a chat template, and giving it one from a file.

transformers reads a tokenizer's template from `chat_template.jinja` (or `chat_template.json`,
or the `chat_template` key of `tokenizer_config.json`); a GGUF file carries it as the
`tokenizer.chat_template` metadata field. A model without one cannot be trained on chat
examples, so the server refuses it at job create unless a template file is configured.

`with_chat_template` builds a view of a model folder with another template: a folder of symbolic
links to the original files plus the template as `chat_template.jinja`, and a copy of
`tokenizer_config.json` without its own `chat_template` key. Nothing is copied but that small
file, and the original folder (often the shared Hugging Face cache) is never written.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

TEMPLATE_FILES = ("chat_template.jinja", "chat_template.json")
_SOURCE_NOTE = ".ft-tui-template-of"


def has_chat_template(folder: Path) -> bool:
    if any((folder / name).is_file() for name in TEMPLATE_FILES):
        return True
    try:
        data = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(isinstance(data, dict) and data.get("chat_template"))


def gguf_has_chat_template(path: Path) -> bool:
    """Reads only the GGUF header's metadata (the gguf package memory-maps the file)."""
    from gguf import GGUFReader

    try:
        reader = GGUFReader(str(path))
    except Exception:  # a truncated or foreign file: the conversion will say what is wrong
        return False
    return "tokenizer.chat_template" in reader.fields


def with_chat_template(source: Path, template: Path, target: Path) -> Path:
    """`target`: `source`'s files (linked) with `template` as the chat template. Rebuilt when the
    source folder or the template's text changed since the last call."""
    text = template.read_text(encoding="utf-8")
    digest = hashlib.sha256(text.encode()).hexdigest()
    stamp = f"{source.resolve()}\n{digest}\n"
    note = target / _SOURCE_NOTE
    try:
        if note.read_text(encoding="utf-8") == stamp and (target / "chat_template.jinja").is_file():
            return target
    except OSError:
        pass
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for entry in source.iterdir():
        if entry.name in TEMPLATE_FILES or entry.name == "tokenizer_config.json":
            continue
        os.symlink(entry.resolve(), staging / entry.name)
    config = source / "tokenizer_config.json"
    if config.is_file():
        data = json.loads(config.read_text(encoding="utf-8"))
        if isinstance(data, dict):
            data.pop("chat_template", None)
        (staging / "tokenizer_config.json").write_text(json.dumps(data, indent=2), "utf-8")
    (staging / "chat_template.jinja").write_text(text, encoding="utf-8")
    (staging / _SOURCE_NOTE).write_text(stamp, encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target
