"""Chat messages as the model's chat template wants them, shared by training and inference.

OpenAI messages may carry content as a list of parts, a per-message `weight`, legacy
`function_call`s; templates want plain strings and `tool_calls`.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

TEMPLATE_KEYS = ("role", "content", "name", "tool_calls", "tool_call_id")


def content_text(content: object) -> str:
    """The text of an OpenAI `content`: a string, a list of text parts, or None."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts: list[str] = []
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text":
                parts.append(str(part.get("text", "")))
            elif isinstance(part, str):
                parts.append(part)
            else:
                kind = part.get("type") if isinstance(part, dict) else type(part).__name__
                raise ValueError(f"content part of type {kind!r} is not supported by local models")
        return "".join(parts)
    raise ValueError(f"content must be a string or a list of parts, not {type(content).__name__}")


def template_message(message: dict[str, Any]) -> dict[str, Any]:
    """One OpenAI message reduced to what chat templates understand."""
    out: dict[str, Any] = {
        "role": message.get("role"),
        "content": content_text(message.get("content")),
    }
    for key in ("name", "tool_call_id"):
        if message.get(key) is not None:
            out[key] = message[key]
    calls = message.get("tool_calls")
    legacy = message.get("function_call")
    if calls is None and isinstance(legacy, dict):
        calls = [{"type": "function", "function": legacy}]
    if calls:
        out["tool_calls"] = [_template_call(call) for call in calls]
    return out


def _template_call(call: Any) -> dict[str, Any]:
    if not isinstance(call, dict):
        raise ValueError("each tool call must be an object")
    function = dict(call.get("function") or {})
    arguments = function.get("arguments")
    if isinstance(arguments, str):  # templates render arguments as an object
        with contextlib.suppress(json.JSONDecodeError):
            function["arguments"] = json.loads(arguments)
    return {"type": call.get("type", "function"), "id": call.get("id"), "function": function}


def template_tools(example: dict[str, Any]) -> list[dict[str, Any]] | None:
    """`tools` of an example (or legacy `functions`, wrapped as tools), None when it has none."""
    tools = example.get("tools")
    if tools:
        return list(tools)
    functions = example.get("functions")
    if functions:
        return [{"type": "function", "function": f} for f in functions]
    return None


def supports_tools(chat_template: str | None) -> bool:
    return bool(chat_template) and "tools" in str(chat_template)


def render(
    tokenizer: Any,
    messages: list[dict[str, Any]],
    *,
    tools: list[dict[str, Any]] | None,
    add_generation_prompt: bool,
) -> str:
    """The chat template applied to `messages` as text (tools only when the template uses them)."""
    kwargs: dict[str, Any] = {"tokenize": False, "add_generation_prompt": add_generation_prompt}
    if tools and supports_tools(getattr(tokenizer, "chat_template", None)):
        kwargs["tools"] = tools
    text = tokenizer.apply_chat_template(messages, **kwargs)
    if not isinstance(text, str):
        raise ValueError("the chat template did not render to text")
    return text
