"""Checks and token counts for one chat (SFT) example.

Counting follows the cookbook: 3 tokens per message, the tokens of every string value
(the role included), 1 more for `name`, and 3 for reply priming. Beyond the cookbook (estimates,
since OpenAI does not publish how it renders them): `tool_calls`, `function_call` and top-level
`tools`/`functions` count as their compact JSON text, images as 85 (low) or 765 tokens.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from tui.core.formats import CHAT_ROLES
from tui.core.lint.content import (
    IMAGE_DETAILS,
    IMAGE_TOKENS_HIGH,
    IMAGE_TOKENS_LOW,
    MAX_IMAGES_PER_EXAMPLE,
    check_image_url,
)
from tui.core.lint.outcome import ExampleOutcome
from tui.core.tokens import TokenCounter

TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMING_TOKENS = 3
MAX_FUNCTIONS = 128

_ALLOWED_KEYS: dict[str, frozenset[str]] = {
    "system": frozenset({"role", "content", "name"}),
    "developer": frozenset({"role", "content", "name"}),
    "user": frozenset({"role", "content", "name"}),
    "assistant": frozenset(
        {"role", "content", "name", "tool_calls", "function_call", "weight", "refusal"}
    ),
    "tool": frozenset({"role", "content", "tool_call_id", "name"}),
    "function": frozenset({"role", "content", "name"}),
}
_TOP_LEVEL_KEYS = frozenset({"messages", "tools", "functions", "parallel_tool_calls"})


def _json_text(value: object) -> str:
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:  # nested deeper than orjson writes (255); json goes deeper
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _check_arguments(arguments: object, where: str, out: ExampleOutcome) -> None:
    if not isinstance(arguments, str):
        out.add(
            "tool_call_arguments_not_string",
            f"{where}: arguments is a {type(arguments).__name__}, not a JSON string",
        )
        return
    try:
        orjson.loads(arguments)
    except orjson.JSONDecodeError as exc:
        out.add("tool_call_arguments_invalid_json", f"{where}: arguments {exc}")


def _check_tool_calls(calls: object, where: str, ids: set[str], out: ExampleOutcome) -> None:
    if not isinstance(calls, list) or not calls:
        out.add("invalid_tool_calls", f"{where}: tool_calls must be a non-empty list")
        return
    for j, call in enumerate(calls, 1):
        at = f"{where}, tool call {j}"
        if not isinstance(call, dict):
            out.add("invalid_tool_calls", f"{at} is not an object")
            continue
        call_id = call.get("id")
        if not isinstance(call_id, str) or not call_id:
            out.add("invalid_tool_calls", f"{at} has no string id")
        else:
            ids.add(call_id)
        if call.get("type", "function") != "function":
            out.add("invalid_tool_calls", f"{at} has type {call.get('type')!r}, not 'function'")
        function = call.get("function")
        if not isinstance(function, dict):
            out.add("invalid_tool_calls", f"{at} has no function object")
            continue
        if not isinstance(function.get("name"), str) or not function.get("name"):
            out.add("invalid_tool_calls", f"{at} has no function name")
        if "arguments" not in function:
            out.add("invalid_tool_calls", f"{at} has no arguments")
        else:
            _check_arguments(function["arguments"], at, out)


def _check_function_call(call: object, where: str, out: ExampleOutcome) -> None:
    if not isinstance(call, dict) or not isinstance(call.get("name"), str):
        out.add("invalid_function_call", f"{where}: function_call needs a name and arguments")
        return
    if "arguments" not in call:
        out.add("invalid_function_call", f"{where}: function_call has no arguments")
    else:
        _check_arguments(call["arguments"], where, out)


def _content_tokens(
    content: list[Any], role: str, where: str, counter: TokenCounter, out: ExampleOutcome
) -> tuple[int, bool]:
    """Tokens of a list of parts; also whether it holds any non-blank text."""
    tokens = 0
    has_text = False
    for j, part in enumerate(content, 1):
        at = f"{where}, part {j}"
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part, dict):
            text = part.get("text")
            if not isinstance(text, str):
                out.add("invalid_content_part", f"{at}: text part has no string text")
                continue
            tokens += counter.count(text)
            has_text = has_text or bool(text.strip())
        elif kind == "image_url" and isinstance(part, dict):
            out.images += 1
            if role == "assistant":
                out.add("image_in_assistant", f"{at}: assistant messages cannot hold images")
            image = part.get("image_url")
            if not isinstance(image, dict):
                out.add("invalid_content_part", f"{at}: image_url must be an object with url")
                continue
            problem = check_image_url(image.get("url"))
            if problem is not None:
                out.add(problem[0], f"{at}: {problem[1]}")
            detail = image.get("detail", "auto")
            if not isinstance(detail, str) or detail not in IMAGE_DETAILS:
                out.add("invalid_image_detail", f"{at}: detail {detail!r} is not low|high|auto")
            tokens += IMAGE_TOKENS_LOW if detail == "low" else IMAGE_TOKENS_HIGH
        else:
            out.add(
                "invalid_content_part",
                f"{at}: type {kind!r} is not text or image_url (audio and files are not supported)",
            )
    return tokens, has_text


# Datasets repeat one `tools` list on every line: its JSON text, once checked, is known good.
_valid_tool_lists: set[str] = set()
_VALID_TOOL_LISTS_KEPT = 256


def _tools_are_valid(tools: object) -> bool:
    return isinstance(tools, list) and all(
        isinstance(t, dict)
        and t.get("type", "function") == "function"
        and isinstance(t.get("function"), dict)
        and isinstance(t["function"].get("name"), str)
        for t in tools
    )


def _remember_valid_tools(text: str) -> None:
    if len(_valid_tool_lists) >= _VALID_TOOL_LISTS_KEPT:
        _valid_tool_lists.clear()
    _valid_tool_lists.add(text)


def _check_top_level(
    example: dict[str, Any], counter: TokenCounter, out: ExampleOutcome, reinforcement: bool
) -> None:
    for key in example:
        if key in _TOP_LEVEL_KEYS or reinforcement:  # RFT graders read any other key
            continue
        if key == "weight":
            out.add("example_level_weight", 'the example has an extra "weight" key')
        else:
            out.add("unknown_top_level_key", f"unknown top-level key {key!r}")
    if "tools" in example:
        tools = example["tools"]
        text = _json_text(tools) if isinstance(tools, list) else ""
        if text not in _valid_tool_lists and not _tools_are_valid(tools):
            out.add("invalid_tools", 'each tool must be {"type": "function", "function": {name}}')
        else:
            _remember_valid_tools(text)
            out.total_tokens += counter.count(text)
    if "functions" in example:
        functions = example["functions"]
        if (
            not isinstance(functions, list)
            or not 1 <= len(functions) <= MAX_FUNCTIONS
            or not all(isinstance(f, dict) and isinstance(f.get("name"), str) for f in functions)
        ):
            out.add("invalid_functions", "functions must be 1-128 objects with a name")
        else:
            out.total_tokens += counter.count_repeated(_json_text(functions))
    if "parallel_tool_calls" in example and not isinstance(example["parallel_tool_calls"], bool):
        out.add("invalid_parallel_tool_calls", "parallel_tool_calls must be true or false")


def check_messages(
    messages: list[Any], counter: TokenCounter, out: ExampleOutcome, label: str = "message"
) -> set[str]:
    """Check a message list, adding its tokens to `out`; returns the roles seen."""
    roles: set[str] = set()
    call_ids: set[str] = set()
    total = 0
    for i, message in enumerate(messages, 1):
        where = f"{label} {i}"
        if not isinstance(message, dict):
            out.add("message_not_object", f"{where} is a {type(message).__name__}, not an object")
            continue
        total += TOKENS_PER_MESSAGE
        raw_role = message.get("role")
        role = raw_role if isinstance(raw_role, str) else ""
        if raw_role is None:
            out.add("message_missing_role", f"{where} has no role")
        elif role not in CHAT_ROLES:
            out.add("unrecognized_role", f"{where} has unknown role {raw_role!r}")
        if role:
            roles.add(role)
            total += counter.count_repeated(role)
        allowed = _ALLOWED_KEYS.get(role)
        if allowed is not None and not allowed.issuperset(message):
            extra = ", ".join(sorted(repr(k) for k in message if k not in allowed))
            out.add("message_unknown_key", f"{where} ({role}) has unknown key(s) {extra}")

        is_assistant = role == "assistant"
        trained = is_assistant
        if "weight" in message:
            weight = message["weight"]
            if not is_assistant:
                out.add("weight_not_on_assistant", f"{where} ({role}) has a weight")
            elif isinstance(weight, bool) or not isinstance(weight, int) or weight not in (0, 1):
                out.add("invalid_weight", f"{where}: weight is {weight!r}, not 0 or 1")
            elif weight == 0:
                trained = False
        if "name" in message:
            name = message["name"]
            if not isinstance(name, str) or not name:
                out.add("invalid_name", f"{where}: name must be a non-empty string")
            else:
                total += counter.count_repeated(name) + TOKENS_PER_NAME

        calls = message.get("tool_calls") if is_assistant else None
        function_call = message.get("function_call") if is_assistant else None
        has_call = bool(calls) or bool(function_call)
        if calls is not None:
            _check_tool_calls(calls, where, call_ids, out)
            n = counter.count(_json_text(calls))
            total += n
            out.trained_tokens += n if trained else 0
        if function_call is not None:
            _check_function_call(function_call, where, out)
            n = counter.count(_json_text(function_call))
            total += n
            out.trained_tokens += n if trained else 0
        if role == "tool":
            call_id = message.get("tool_call_id")
            if not isinstance(call_id, str) or call_id not in call_ids:
                out.add(
                    "tool_message_without_call",
                    f"{where}: tool_call_id {call_id!r} matches no earlier assistant tool call",
                )
            else:
                total += counter.count_repeated(call_id)
        refusal = message.get("refusal") if is_assistant else None
        if isinstance(refusal, str):
            total += counter.count(refusal)

        content = message.get("content")
        if isinstance(content, str):
            repeats = role == "system" or role == "developer"  # prompts shared by many examples
            n = counter.count_repeated(content) if repeats else counter.count(content)
            total += n
            out.trained_tokens += n if trained else 0
            if not content or content.isspace():
                if is_assistant:
                    if not has_call:
                        out.add("empty_assistant_message", f"{where}: assistant text is empty")
                else:
                    out.add("empty_content", f"{where} ({role}) has empty content")
        elif isinstance(content, list):
            n, has_text = _content_tokens(content, role, where, counter, out)
            total += n
            out.trained_tokens += n if trained else 0
            if not content:
                out.add("message_missing_content", f"{where}: content is an empty list")
            elif is_assistant and not has_text and not has_call:
                out.add("empty_assistant_message", f"{where}: assistant text is empty")
        elif content is None:
            if not has_call:
                state = "null" if "content" in message else "missing"
                out.add("message_missing_content", f"{where} ({role}): content is {state}")
        else:
            out.add("invalid_content", f"{where}: content is a {type(content).__name__}, not text")
    out.total_tokens += total
    return roles


def check_chat_example(
    example: dict[str, Any], counter: TokenCounter, out: ExampleOutcome, reinforcement: bool = False
) -> None:
    """Check a chat example; for reinforcement fine-tuning the model writes the answer, so no
    assistant message is expected and extra keys are grader inputs."""
    messages = example.get("messages")
    if not isinstance(messages, list) or not messages:
        state = "empty" if isinstance(messages, list) else f"a {type(messages).__name__}"
        out.add("missing_messages", f'"messages" is {state}, not a non-empty list')
        return
    out.messages = len(messages)
    _check_top_level(example, counter, out, reinforcement)
    roles = check_messages(messages, counter, out)
    out.total_tokens += REPLY_PRIMING_TOKENS
    if "assistant" not in roles and not reinforcement:
        out.add("missing_assistant_message", "no message has role 'assistant'")
    if "system" not in roles and "developer" not in roles:
        out.add("no_system_message", "no system message")
    if "user" not in roles:
        out.add("no_user_message", "no user message")
    last = messages[-1]
    ends_badly = isinstance(last, dict) and last.get("role") != "assistant"
    if "assistant" in roles and ends_badly and not reinforcement:
        out.add("last_message_not_assistant", f"the last message is from {last.get('role')!r}")
    if out.images > MAX_IMAGES_PER_EXAMPLE:
        out.add("too_many_images", f"{out.images} images (limit {MAX_IMAGES_PER_EXAMPLE})")
