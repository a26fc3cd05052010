"""The body of `POST /v1/chat/completions`, checked: every bad value is a 400 naming its `param`.

Sampling settings a request leaves out stay None here; the route fills them with the base
model's defaults (`tui.local.inference.defaults`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tui.local.errors import ApiError, bad_request
from tui.local.validation import INT64, bounded_int, finite_float

ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
# Accepted and ignored: they change nothing a local generation can honour.
IGNORED = frozenset(
    {"user", "metadata", "store", "service_tier", "frequency_penalty", "presence_penalty"}
    | {"logit_bias", "parallel_tool_calls", "prompt_cache_key", "safety_identifier"}
)
HANDLED = frozenset(
    {"model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens"}
    | {"temperature", "top_p", "stop", "seed", "n", "logprobs", "top_logprobs"}
    | {"tools", "tool_choice"}
)
UNSUPPORTED = ("functions", "function_call", "response_format", "audio", "modalities")
MAX_N = 16
MAX_TOP_LOGPROBS = 20
MAX_TOOLS = 128
MAX_TOKENS = 2**31 - 1
_FUNCTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class ChatBody:
    model: str
    messages: list[dict[str, Any]]
    stream: bool
    include_usage: bool
    max_tokens: int | None
    temperature: float | None
    top_p: float | None
    stop: list[str]
    seed: int | None
    n: int
    logprobs: bool
    top_logprobs: int
    tools: list[dict[str, Any]] | None
    parse_tools: bool  # tools were given and tool_choice lets the model call them


def parse(body: dict[str, Any]) -> ChatBody:
    _check_keys(body)
    model = body.get("model")
    if model is None:
        raise bad_request("Missing required parameter: 'model'.", param="model")
    if not isinstance(model, str) or not model:
        raise bad_request("Invalid type for 'model': expected a non-empty string.", param="model")
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise bad_request("Invalid type for 'stream': expected a boolean.", param="stream")
    options = body.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise bad_request("Invalid 'stream_options': expected an object.", param="stream_options")
    tools, parse_tools = _tools(body)
    logprobs = body.get("logprobs")
    if logprobs is not None and not isinstance(logprobs, bool):
        raise bad_request("Invalid type for 'logprobs': expected a boolean.", param="logprobs")
    top = _optional_int(body, "top_logprobs", 0, MAX_TOP_LOGPROBS)
    if top is not None and not logprobs:
        raise bad_request(
            "Invalid 'top_logprobs': it needs 'logprobs' set to true.", param="top_logprobs"
        )
    max_tokens = _optional_int(body, "max_completion_tokens", 1, MAX_TOKENS)
    if max_tokens is None:
        max_tokens = _optional_int(body, "max_tokens", 1, MAX_TOKENS)
    return ChatBody(
        model=model,
        messages=_messages(body),
        stream=bool(stream),
        include_usage=bool(stream) and bool((options or {}).get("include_usage")),
        max_tokens=max_tokens,
        temperature=_optional_float(body, "temperature", 0.0, 2.0),
        top_p=_optional_float(body, "top_p", 0.0, 1.0),
        stop=_stop(body),
        seed=_optional_int(body, "seed", *INT64),
        n=_optional_int(body, "n", 1, MAX_N) or 1,
        logprobs=bool(logprobs),
        top_logprobs=top or 0,
        tools=tools,
        parse_tools=parse_tools,
    )


def _check_keys(body: dict[str, Any]) -> None:
    for key in body:
        if key in UNSUPPORTED:
            if body[key] not in (None, [], "none") and body[key] != {"type": "text"}:
                raise bad_request(f"'{key}' is not supported by the local server.", param=key)
        elif key not in HANDLED and key not in IGNORED:
            raise bad_request(f"Unrecognized request argument supplied: {key}", param=key)


def _optional_int(body: dict[str, Any], name: str, low: int, high: int) -> int | None:
    value = body.get(name)
    return None if value is None else bounded_int(value, name, low, high)


def _optional_float(body: dict[str, Any], name: str, low: float, high: float) -> float | None:
    value = body.get(name)
    return None if value is None else finite_float(value, name, low=low, high=high)


def _stop(body: dict[str, Any]) -> list[str]:
    stop = body.get("stop")
    stops = [stop] if isinstance(stop, str) else stop or []
    if not isinstance(stops, list) or len(stops) > 4 or not all(isinstance(s, str) for s in stops):
        raise bad_request("Invalid 'stop': a string or up to 4 strings.", param="stop")
    return [s for s in stops if s]


def _text_of(content: Any, param: str) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    if isinstance(content, list):
        parts: list[str] = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "text":
                raise bad_request(
                    f"{param}: the local server accepts only text content parts.", param=param
                )
            text = part.get("text", "")
            if not isinstance(text, str):
                raise bad_request(f"{param}: a text part's 'text' must be a string.", param=param)
            parts.append(text)
        return "".join(parts)
    raise bad_request(f"{param} must be a string or a list of text parts.", param=param)


def _messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    raw = body.get("messages")
    if raw is None:
        raise bad_request("Missing required parameter: 'messages'.", param="messages")
    if not isinstance(raw, list) or not raw:
        raise bad_request("'messages' must be a non-empty array.", param="messages")
    messages: list[dict[str, Any]] = []
    for index, message in enumerate(raw):
        where = f"messages[{index}]"
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise bad_request(
                f"{where} must be an object with a role among {', '.join(sorted(ROLES))}.",
                param=f"{where}.role",
            )
        role = "system" if message["role"] == "developer" else message["role"]
        clean: dict[str, Any] = {
            "role": role,
            "content": _text_of(message.get("content"), f"{where}.content"),
        }
        if role == "assistant" and message.get("tool_calls") is not None:
            clean["tool_calls"] = _tool_calls(message["tool_calls"], f"{where}.tool_calls")
        for key in ("tool_call_id", "name"):
            value = message.get(key)
            if value is not None:
                if not isinstance(value, str):
                    raise bad_request(f"{where}.{key} must be a string.", param=f"{where}.{key}")
                clean[key] = value
        messages.append(clean)
    return messages


def _tool_calls(raw: Any, param: str) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise bad_request(f"{param} must be an array of tool calls.", param=param)
    calls: list[dict[str, Any]] = []
    for index, call in enumerate(raw):
        where = f"{param}[{index}]"
        function = call.get("function") if isinstance(call, dict) else None
        if (
            not isinstance(function, dict)
            or not isinstance(function.get("name"), str)
            or not isinstance(function.get("arguments", ""), str)
        ):
            raise bad_request(
                f"{where} must be {{'type': 'function', 'function': {{'name', 'arguments'}}}} "
                "with string name and arguments.",
                param=where,
            )
        assert isinstance(call, dict)
        calls.append(
            {
                "id": call.get("id"),
                "type": "function",
                "function": {"name": function["name"], "arguments": function.get("arguments", "")},
            }
        )
    return calls


def _tools(body: dict[str, Any]) -> tuple[list[dict[str, Any]] | None, bool]:
    raw = body.get("tools")
    choice = body.get("tool_choice")
    if raw is None or raw == []:
        if choice not in (None, "none"):
            raise bad_request(
                "Invalid 'tool_choice': it is only allowed when 'tools' are given.",
                param="tool_choice",
            )
        return None, False
    if not isinstance(raw, list) or len(raw) > MAX_TOOLS:
        raise bad_request(f"'tools' must be an array of at most {MAX_TOOLS} tools.", param="tools")
    tools = [_tool(tool, f"tools[{index}]") for index, tool in enumerate(raw)]
    names = [t["function"]["name"] for t in tools]
    if len(set(names)) != len(names):
        raise bad_request("'tools' declares the same function name twice.", param="tools")
    if choice is None or choice == "auto":
        return tools, True
    if choice == "none":
        return tools, False
    if choice == "required" or isinstance(choice, dict):
        raise bad_request(
            "The local server cannot force a tool call: use tool_choice 'auto' (or 'none').",
            param="tool_choice",
        )
    raise bad_request("Invalid 'tool_choice': expected 'auto' or 'none'.", param="tool_choice")


def _tool(tool: Any, where: str) -> dict[str, Any]:
    if not isinstance(tool, dict):
        raise bad_request(f"{where} must be an object.", param=where)
    if tool.get("type") != "function":
        raise bad_request(
            f"{where}.type must be 'function' (the only tool type local models call).",
            param=f"{where}.type",
        )
    function = tool.get("function")
    if not isinstance(function, dict):
        raise bad_request(f"{where}.function must be an object.", param=f"{where}.function")
    name = function.get("name")
    if not isinstance(name, str) or not _FUNCTION_NAME.match(name):
        raise bad_request(
            f"{where}.function.name must be 1-64 letters, digits, '_' or '-'.",
            param=f"{where}.function.name",
        )
    parameters = function.get("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        raise bad_request(
            f"{where}.function.parameters must be a JSON Schema object.",
            param=f"{where}.function.parameters",
        )
    description = function.get("description")
    if description is not None and not isinstance(description, str):
        raise bad_request(
            f"{where}.function.description must be a string.",
            param=f"{where}.function.description",
        )
    clean: dict[str, Any] = {"name": name}
    if description is not None:
        clean["description"] = description
    if parameters is not None:
        clean["parameters"] = parameters
    return {"type": "function", "function": clean}


def model_error(message: str) -> ApiError:
    return ApiError(400, message, param="model", code="model_not_available")
