"""Tool calls in a model's generated text, turned back into OpenAI's `tool_calls`.

Two written forms are recognised, both carrying `{"name": ..., "arguments": ...}` JSON:

* `<tool_call>{...}</tool_call>` blocks, the form of Hermes-style templates (Qwen 2.5/3, SmolLM3)
  and of the test model's template;
* one JSON object per line at the end of the answer: how `chat_messages.render` writes tool calls
  for templates that know no tools (SmolLM2 among them), so a model fine-tuned on tool-calling
  data through ft-tui answers in that form.

Only calls to a declared tool count; anything else stays text. Written here because transformers
renders tools into prompts but has no parser for generated calls (vLLM's parsers live in vLLM).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from tui.local import ids

_BLOCK = re.compile(r"<tool_call>\s*(.*?)\s*</tool_call>", re.DOTALL)


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # JSON text, as OpenAI sends it

    def as_openai(self) -> dict[str, object]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


def parse_tool_calls(text: str, tool_names: set[str]) -> tuple[str | None, list[ToolCall]]:
    """(the remaining content or None, the calls) of generated `text`."""
    blocks = list(_BLOCK.finditer(text))
    if blocks:
        calls = [call for m in blocks if (call := _call(m.group(1), tool_names)) is not None]
        if calls:
            content = _BLOCK.sub("", text).strip()
            return content or None, calls
    lines = text.rstrip().split("\n")
    calls = []
    while lines:
        call = _call(lines[-1].strip(), tool_names)
        if call is None:
            break
        calls.insert(0, call)
        lines.pop()
    if not calls:
        return text, []
    content = "\n".join(lines).strip()
    return content or None, calls


def _call(raw: str, tool_names: set[str]) -> ToolCall | None:
    if not raw.startswith("{"):
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("name") not in tool_names:
        return None
    arguments = data.get("arguments", data.get("parameters", {}))
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments, ensure_ascii=False)
    return ToolCall(id="call_" + ids.random_token(24), name=str(data["name"]), arguments=arguments)
