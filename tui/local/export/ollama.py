"""The `ollama` export: the GGUF file plus a `Modelfile` for `ollama create NAME -f Modelfile`.

Ollama's TEMPLATE is a Go template, the model's chat template is Jinja; no library translates one
into the other, so this module recognises the chat-template families whose turn markup is fixed
(ChatML as in SmolLM2 and Qwen, Llama 3, Gemma) and writes the equivalent Go template, including
the default system prompt a template inserts when a conversation has none. For any other
template the Modelfile says so in a comment and leaves TEMPLATE out: Ollama then reads the
`tokenizer.chat_template` stored in the GGUF file itself.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.local.training.hf import END_OF_TURN_TOKENS

_MARK = "FTTUIUSERMARK"


@dataclass(frozen=True)
class Family:
    name: str
    marker: str  # a string only this family's template contains
    system: str  # regex: the default system turn (group 1) in a rendered one-user conversation
    stops: tuple[str, ...]
    template: str  # Go template; DEFAULT_SYSTEM is replaced by the template's default system turn
    default_turn: str  # how the default system turn is written (with {system})


FAMILIES = (
    Family(
        "chatml",
        "<|im_start|>",
        r"<\|im_start\|>system\n(.*?)<\|im_end\|>",
        ("<|im_end|>", "<|im_start|>"),
        "{{- range $i, $_ := .Messages }}\n"
        '{{- if and (eq $i 0) (ne .Role "system") }}DEFAULT_SYSTEM{{ end }}'
        "<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n"
        "{{ end }}<|im_start|>assistant\n",
        "<|im_start|>system\n{system}<|im_end|>\n",
    ),
    Family(
        "llama3",
        "<|start_header_id|>",
        r"<\|start_header_id\|>system<\|end_header_id\|>\n\n(.*?)<\|eot_id\|>",
        ("<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>"),
        "<|begin_of_text|>\n"
        "{{- range $i, $_ := .Messages }}\n"
        '{{- if and (eq $i 0) (ne .Role "system") }}DEFAULT_SYSTEM{{ end }}'
        "<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n{{ .Content }}<|eot_id|>"
        "{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n",
        "<|start_header_id|>system<|end_header_id|>\n\n{system}<|eot_id|>",
    ),
    Family(
        "gemma",
        "<start_of_turn>",
        r"(?!)",  # Gemma templates fold the system prompt into the first user turn
        ("<end_of_turn>",),
        "{{- range .Messages }}<start_of_turn>"
        '{{ if eq .Role "assistant" }}model{{ else }}user{{ end }}\n'
        "{{ .Content }}<end_of_turn>\n{{ end }}<start_of_turn>model\n",
        "",
    ),
)


def family_of(chat_template: str) -> Family | None:
    return next((f for f in FAMILIES if f.marker in chat_template), None)


def default_system(tokenizer: Any, family: Family) -> str | None:
    """The system prompt the chat template writes when a conversation brings none."""
    try:
        rendered = tokenizer.apply_chat_template(
            [{"role": "user", "content": _MARK}], tokenize=False, add_generation_prompt=True
        )
    except Exception:  # a template that needs more than one user message: no default known
        return None
    head = str(rendered).split(_MARK, 1)[0]
    found = re.search(family.system, head, flags=re.DOTALL)
    return found.group(1) if found else None


def _quoted(text: str) -> str:
    if '"""' in text:
        raise ValueError('the text contains """, which a Modelfile cannot quote')
    return '"""' + text + '"""'


def _go_literal(text: str) -> str:
    """Text placed literally inside a Go template."""
    return text.replace("{{", '{{ "{{" }}')


def stop_tokens(tokenizer: Any, family: Family | None, chat_template: str) -> list[str]:
    vocab = tokenizer.get_vocab()
    stops = list(family.stops) if family else []
    stops += [t for t in END_OF_TURN_TOKENS if t in vocab and t in chat_template]
    eos = tokenizer.eos_token
    if isinstance(eos, str) and eos:
        stops.append(eos)
    return list(dict.fromkeys(stops))


def _sampling(model_dir: Path) -> list[str]:
    try:
        config = json.loads((model_dir / "generation_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    lines: list[str] = []
    for key in ("temperature", "top_p", "top_k"):
        value = config.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            lines.append(f"PARAMETER {key} {value}")
    return lines


def modelfile(
    gguf_name: str, model_dir: Path, tokenizer: Any, training_system: str | None
) -> tuple[str, str]:
    """(Modelfile text, a note on its TEMPLATE) for the model whose tokenizer is given."""
    chat_template = str(getattr(tokenizer, "chat_template", "") or "")
    family = family_of(chat_template)
    lines = [f"FROM ./{gguf_name}", ""]
    default = default_system(tokenizer, family) if family else None
    if family is not None:
        turn = family.default_turn.format(system=default) if default is not None else ""
        template = family.template.replace("DEFAULT_SYSTEM", _go_literal(turn))
        lines.append(f"TEMPLATE {_quoted(template)}")
        note = f"TEMPLATE written for the {family.name} chat template"
    else:
        lines.append(
            "# TEMPLATE not written: ft-tui does not know this chat template's family; Ollama "
            "reads tokenizer.chat_template from the GGUF file."
        )
        note = "TEMPLATE left to Ollama (unknown chat template family)"
    lines.append("")
    for stop in stop_tokens(tokenizer, family, chat_template):
        lines.append(f"PARAMETER stop {json.dumps(stop)}")
    lines += _sampling(model_dir)
    system = training_system or default
    if system:
        lines += ["", f"SYSTEM {_quoted(system)}"]
    return "\n".join(lines) + "\n", note
