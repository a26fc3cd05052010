"""Each rule fires on the example a user would write by mistake, and not on valid data."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.core.helpers import chat
from tui.core.lint import lint_example

U = {"role": "user", "content": "What is the weather?"}
A = {"role": "assistant", "content": "Sunny."}
S = {"role": "system", "content": "Be brief."}
CALL = {
    "role": "assistant",
    "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "w", "arguments": '{"x": 1}'}}
    ],
}
TOOLS = [{"type": "function", "function": {"name": "w", "parameters": {"type": "object"}}}]
PNG = "data:image/png;base64," + base64.b64encode(b"\x89PNG" + b"0" * 32).decode()


def msgs(*messages: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"messages": list(messages), **top}


def rules_of(example: Any, **kw: Any) -> set[str]:
    return {i.rule for i in lint_example(example, **kw).issues}


VALID: list[tuple[str, Any]] = [
    ("plain chat", chat()),
    ("tool call without content", msgs(S, U, CALL, tools=TOOLS)),
    (
        "tool answer then reply",
        msgs(S, U, CALL, {"role": "tool", "tool_call_id": "c1", "content": "20C"}, A, tools=TOOLS),
    ),
    ("weights 0 and 1", msgs(S, U, {**A, "weight": 0}, U, {**A, "weight": 1})),
    (
        "legacy function_call",
        msgs(
            S,
            U,
            {
                "role": "assistant",
                "content": None,
                "function_call": {"name": "f", "arguments": "{}"},
            },
        ),
    ),
    (
        "image in user",
        msgs(
            S,
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is this?"},
                    {"type": "image_url", "image_url": {"url": PNG, "detail": "low"}},
                    {"type": "image_url", "image_url": {"url": "https://example.com/a.jpg"}},
                ],
            },
            A,
        ),
    ),
    ("developer role", msgs({"role": "developer", "content": "x"}, U, A)),
    ("named user", msgs(S, {**U, "name": "bob"}, A)),
    ("parallel flag", msgs(S, U, A, parallel_tool_calls=False)),
    (
        "preference",
        {
            "input": {"messages": [U]},
            "preferred_output": [A],
            "non_preferred_output": [{"role": "assistant", "content": "Rain."}],
        },
    ),
    ("completion", {"prompt": "2+2=", "completion": "4"}),
]


@pytest.mark.parametrize(("name", "example"), VALID, ids=[v[0] for v in VALID])
def test_valid_examples_have_no_issue(name: str, example: Any) -> None:
    assert lint_example(example).issues == []


BAD: list[tuple[str, Any, str]] = [
    ("list instead of object", [1, 2], "not_an_object"),
    ("no messages key", {"foo": 1}, "unrecognized_format"),
    ("empty messages", {"messages": []}, "missing_messages"),
    ("messages is a string", {"messages": "hi"}, "missing_messages"),
    ("message is a string", {"messages": [S, "hello", A]}, "message_not_object"),
    ("no role", msgs(S, {"content": "x"}, A), "message_missing_role"),
    ("bad role", msgs(S, {"role": "human", "content": "x"}, A), "unrecognized_role"),
    ("role is a list", msgs(S, {"role": ["user"], "content": "x"}, A), "unrecognized_role"),
    ("no content", msgs(S, {"role": "user"}, A), "message_missing_content"),
    (
        "null assistant",
        msgs(S, U, {"role": "assistant", "content": None}),
        "message_missing_content",
    ),
    ("content is a number", msgs(S, {"role": "user", "content": 5}, A), "invalid_content"),
    ("unknown key", msgs(S, {**U, "foo": 1}, A), "message_unknown_key"),
    ("tool_calls on user", msgs(S, {**U, "tool_calls": []}, A), "message_unknown_key"),
    ("no assistant", msgs(S, U), "missing_assistant_message"),
    ("weight 2", msgs(S, U, {**A, "weight": 2}), "invalid_weight"),
    ("weight true", msgs(S, U, {**A, "weight": True}), "invalid_weight"),
    ("weight float", msgs(S, U, {**A, "weight": 1.0}), "invalid_weight"),
    ("weight on user", msgs(S, {**U, "weight": 1}, A), "weight_not_on_assistant"),
    ("example weight", {**msgs(S, U, A), "weight": 1}, "example_level_weight"),
    ("empty name", msgs(S, {**U, "name": ""}, A), "invalid_name"),
    (
        "arguments dict",
        msgs(
            S,
            U,
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "c",
                        "type": "function",
                        "function": {"name": "w", "arguments": {"x": 1}},
                    }
                ],
            },
        ),
        "tool_call_arguments_not_string",
    ),
    (
        "arguments bad json",
        msgs(
            S,
            U,
            {
                "role": "assistant",
                "tool_calls": [
                    {"id": "c", "type": "function", "function": {"name": "w", "arguments": "{x: 1"}}
                ],
            },
        ),
        "tool_call_arguments_invalid_json",
    ),
    (
        "tool_calls not list",
        msgs(S, U, {"role": "assistant", "tool_calls": {"id": "c"}}),
        "invalid_tool_calls",
    ),
    (
        "tool call no name",
        msgs(
            S,
            U,
            {
                "role": "assistant",
                "tool_calls": [{"id": "c", "type": "function", "function": {"arguments": "{}"}}],
            },
        ),
        "invalid_tool_calls",
    ),
    (
        "function_call bad",
        msgs(S, U, {"role": "assistant", "function_call": {"name": "f", "arguments": "{"}}),
        "tool_call_arguments_invalid_json",
    ),
    (
        "orphan tool message",
        msgs(S, U, {"role": "tool", "tool_call_id": "zz", "content": "1"}, A),
        "tool_message_without_call",
    ),
    ("tools not a list", msgs(S, U, A, tools={"name": "w"}), "invalid_tools"),
    ("tool without function", msgs(S, U, A, tools=[{"type": "function"}]), "invalid_tools"),
    ("functions empty", msgs(S, U, A, functions=[]), "invalid_functions"),
    ("parallel string", msgs(S, U, A, parallel_tool_calls="no"), "invalid_parallel_tool_calls"),
    ("unknown top key", {**msgs(S, U, A), "id": 3}, "unknown_top_level_key"),
    (
        "audio part",
        msgs(S, {"role": "user", "content": [{"type": "input_audio"}]}, A),
        "invalid_content_part",
    ),
    (
        "ftp image",
        msgs(
            S,
            {
                "role": "user",
                "content": [{"type": "image_url", "image_url": {"url": "ftp://x/y.png"}}],
            },
            A,
        ),
        "invalid_image_url",
    ),
    (
        "gif data url",
        msgs(
            S,
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": "data:image/gif;base64,R0lG"}}
                ],
            },
            A,
        ),
        "invalid_image_url",
    ),
    (
        "bad detail",
        msgs(
            S,
            {
                "role": "user",
                "content": [{"type": "image_url", "image_url": {"url": PNG, "detail": "max"}}],
            },
            A,
        ),
        "invalid_image_detail",
    ),
    (
        "image too big",
        msgs(
            S,
            {
                "role": "user",
                "content": [
                    {
                        "type": "image_url",
                        "image_url": {"url": "data:image/png;base64," + "A" * 14_000_000},
                    }
                ],
            },
            A,
        ),
        "image_too_large",
    ),
    (
        "eleven images",
        msgs(
            S,
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": PNG}}] * 11},
            A,
        ),
        "too_many_images",
    ),
    (
        "image from assistant",
        msgs(
            S,
            U,
            {"role": "assistant", "content": [{"type": "image_url", "image_url": {"url": PNG}}]},
        ),
        "image_in_assistant",
    ),
    ("endoftext", chat(answer="done<|endoftext|>"), "forbidden_special_token"),
    ("fim", chat(user="<|fim_suffix|> x"), "forbidden_special_token"),
    (
        "openai key",
        chat(user="my key sk-proj-Abc123def456ghi789jkl012mno345pqr678"),
        "possible_secret",
    ),
    ("aws key", chat(user="AKIAIOSFODNN7EXAMPLE"), "possible_secret"),
    ("github token", chat(user="ghp_" + "a1B2" * 9), "possible_secret"),
    ("private key", chat(user="-----BEGIN OPENSSH PRIVATE KEY-----\nabc"), "possible_secret"),
    ("no system", chat(system=None), "no_system_message"),
    ("no user", msgs(S, A), "no_user_message"),
    ("empty user", chat(user="  "), "empty_content"),
    ("empty assistant", chat(answer=""), "empty_assistant_message"),
    ("ends with user", msgs(S, U, A, U), "last_message_not_assistant"),
    (
        "dpo two outputs",
        {"input": {"messages": [U]}, "preferred_output": [A, A], "non_preferred_output": [A]},
        "invalid_preference",
    ),
    ("dpo no input", {"preferred_output": [A], "non_preferred_output": [A]}, "invalid_preference"),
    (
        "dpo image",
        {
            "input": {
                "messages": [
                    {"role": "user", "content": [{"type": "image_url", "image_url": {"url": PNG}}]}
                ]
            },
            "preferred_output": [A],
            "non_preferred_output": [A],
        },
        "invalid_preference",
    ),
    ("completion number", {"prompt": "a", "completion": 4}, "invalid_completion"),
    ("completion empty", {"prompt": "a", "completion": ""}, "empty_completion"),
    (
        "dpo extra key",
        {"input": {"messages": [U]}, "preferred_output": [A], "non_preferred_output": [A], "x": 1},
        "unknown_top_level_key",
    ),
    ("completion extra key", {"prompt": "a", "completion": "b", "x": 1}, "unknown_top_level_key"),
]


@pytest.mark.parametrize(("name", "example", "rule"), BAD, ids=[b[0] for b in BAD])
def test_bad_examples_are_caught_by_the_right_rule(name: str, example: Any, rule: str) -> None:
    result = lint_example(example)
    found = {i.rule for i in result.issues}
    assert rule in found, f"{name}: expected {rule}, got {found}"
    for issue in result.issues:
        assert issue.message and "\n" not in issue.message
        assert len(issue.hint) > 10, f"{issue.rule}: a user needs a fix hint"


def test_a_line_of_another_format_is_an_error() -> None:
    result = lint_example({"prompt": "a", "completion": "b"}, file_format="chat")
    assert [i.rule for i in result.issues] == ["format_mismatch"]
    assert result.has_errors


def test_secret_like_words_are_not_flagged() -> None:
    text = "the task-cleanup-utility-for-windows-machines-works and AKIA is a prefix"
    assert "possible_secret" not in rules_of(chat(user=text))


def test_counts_follow_the_cookbook_formula() -> None:
    result = lint_example(chat("Hi", "Hello!", "Be kind."), model="gpt-3.5-turbo-0125")
    # 3 priming + 3 messages x 3 + roles (system, user, assistant: 1 each) + text
    # "Be kind." 3, "Hi" 1, "Hello!" 2
    assert result.total_tokens == 3 + 9 + 3 + 3 + 1 + 2
    assert result.trained_tokens == 2
    named = lint_example(msgs(S, {**U, "name": "bob"}, A), model="gpt-3.5-turbo-0125")
    unnamed = lint_example(msgs(S, U, A), model="gpt-3.5-turbo-0125")
    assert named.total_tokens == unnamed.total_tokens + 1 + 1  # "bob" + tokens_per_name


def test_weight_zero_is_not_trained_and_tool_calls_are() -> None:
    zero = lint_example(msgs(S, U, {**A, "weight": 0}))
    assert zero.trained_tokens == 0 and zero.total_tokens > 0
    call = lint_example(msgs(S, U, CALL, tools=TOOLS))
    assert call.trained_tokens > 0
    assert call.total_tokens > lint_example(msgs(S, U, CALL)).total_tokens  # tools counted


def test_over_the_model_limit_is_reported() -> None:
    long = chat(answer="word " * 20_000)
    assert lint_example(long, model="gpt-3.5-turbo-0613").over_limit  # 4,096 tokens
    assert not lint_example(long, model="gpt-4o-mini").over_limit  # 65,536 tokens


def test_reinforcement_models_expect_prompts_and_grader_keys() -> None:
    example = {
        "messages": [
            {"role": "developer", "content": "Answer."},
            {"role": "user", "content": "2+2"},
        ],
        "reference_answer": "4",
    }
    assert rules_of(example, model="o4-mini") == set()
    assert {"missing_assistant_message", "unknown_top_level_key"} <= rules_of(example)
