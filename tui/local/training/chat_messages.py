"""Chat messages as the model's chat template wants them, shared by training and inference.

OpenAI messages may carry content as a list of parts, a per-message `weight`, legacy
`function_call`s; templates want plain strings and `tool_calls`.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any


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


def supports_tool_calls(chat_template: str | None) -> bool:
    return bool(chat_template) and "tool_calls" in str(chat_template)


def render(
    tokenizer: Any,
    messages: list[dict[str, Any]],
    *,
    tools: list[dict[str, Any]] | None,
    add_generation_prompt: bool,
) -> str:
    """The chat template applied to `messages` as text.

    Tools and tool calls go to the template when it knows them; otherwise they are written as
    JSON text (tool definitions into the system message, calls into the assistant's content), so
    a model whose template ignores them still sees, and learns, what the example holds."""
    template = getattr(tokenizer, "chat_template", None)
    kwargs: dict[str, Any] = {"tokenize": False, "add_generation_prompt": add_generation_prompt}
    if not supports_tool_calls(template):
        messages = [_inline_tool_calls(m) if m.get("tool_calls") else m for m in messages]
    if tools and supports_tools(template):
        kwargs["tools"] = tools
    elif tools:
        messages = _tools_in_system_message(messages, tools)
    text = tokenizer.apply_chat_template(messages, **kwargs)
    if not isinstance(text, str):
        raise ValueError("the chat template did not render to text")
    return text


def _inline_tool_calls(message: dict[str, Any]) -> dict[str, Any]:
    calls = [
        json.dumps({"name": c["function"].get("name"), "arguments": c["function"].get("arguments")})
        for c in message["tool_calls"]
    ]
    content = "\n".join(([message["content"]] if message.get("content") else []) + calls)
    return {k: v for k, v in message.items() if k != "tool_calls"} | {"content": content}


def _tools_in_system_message(
    messages: list[dict[str, Any]], tools: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    text = "Tools: " + json.dumps(tools)
    if messages and messages[0].get("role") == "system":
        first = messages[0]
        joined = f"{first['content']}\n\n{text}" if first.get("content") else text
        return [first | {"content": joined}, *messages[1:]]
    return [{"role": "system", "content": text}, *messages]
