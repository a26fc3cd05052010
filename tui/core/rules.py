"""The lint rules: stable ids, severity, a fix hint, and the cookbook key each one covers.

Ids never change once published: the CLI, the Datasets screen, the pre-launch check and the
local server's file validation all report these ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]
RuleId = Literal[
    "empty_file",
    "binary_file",
    "too_few_examples",
    "file_too_large_for_files_api",
    "file_too_large",
    "too_many_image_examples",
    "unknown_model",
    "invalid_utf8",
    "invalid_json",
    "truncated_last_line",
    "line_too_long",
    "bom",
    "crlf_line_ending",
    "blank_line",
    "not_an_object",
    "unrecognized_format",
    "format_mismatch",
    "missing_messages",
    "example_level_weight",
    "unknown_top_level_key",
    "invalid_tools",
    "invalid_functions",
    "invalid_parallel_tool_calls",
    "message_not_object",
    "message_missing_role",
    "unrecognized_role",
    "message_missing_content",
    "invalid_content",
    "message_unknown_key",
    "invalid_name",
    "missing_assistant_message",
    "invalid_weight",
    "weight_not_on_assistant",
    "invalid_tool_calls",
    "tool_call_arguments_not_string",
    "tool_call_arguments_invalid_json",
    "invalid_function_call",
    "tool_message_without_call",
    "invalid_content_part",
    "invalid_image_url",
    "invalid_image_detail",
    "image_too_large",
    "too_many_images",
    "image_in_assistant",
    "forbidden_special_token",
    "invalid_preference",
    "invalid_completion",
    "too_many_tokens",
    "no_system_message",
    "no_user_message",
    "empty_content",
    "empty_assistant_message",
    "last_message_not_assistant",
    "duplicate_example",
    "validation_overlap",
    "possible_secret",
    "unusually_long_example",
    "empty_completion",
]
"""Every rule id: a typo in a rule id is a type error (mypy), not a KeyError at run time."""


@dataclass(frozen=True)
class Rule:
    id: RuleId
    severity: Severity
    title: str
    hint: str
    cookbook: str = ""  # key(s) of Chat_finetuning_data_prep.ipynb this rule covers


def _rules(*rules: Rule) -> dict[str, Rule]:
    return {r.id: r for r in rules}


E: Severity = "error"
W: Severity = "warning"

RULES: dict[str, Rule] = _rules(
    # -- the file as a whole
    Rule("empty_file", E, "file is empty", "add at least 10 examples, one JSON object per line"),
    Rule(
        "binary_file",
        E,
        "not a text JSONL file",
        "export the dataset as UTF-8 JSONL (one JSON object per line)",
    ),
    Rule(
        "too_few_examples",
        E,
        "fewer than 10 examples",
        "OpenAI requires at least 10 examples; 50-100 usually work better",
    ),
    Rule(
        "file_too_large_for_files_api",
        W,
        "larger than 512 MB",
        "the Files API takes at most 512 MB; upload through the Uploads API (up to 8 GB)",
    ),
    Rule("file_too_large", E, "larger than 8 GB", "split the dataset; uploads take at most 8 GB"),
    Rule(
        "too_many_image_examples",
        E,
        "more than 50,000 examples with images",
        "keep at most 50,000 examples with images per file",
    ),
    Rule(
        "unknown_model",
        W,
        "model not in the price table",
        "check the model name; counts use o200k_base and the cost is unknown",
    ),
    # -- raw lines
    Rule("invalid_utf8", E, "line is not valid UTF-8", "re-save the file as UTF-8"),
    Rule(
        "invalid_json",
        E,
        "line is not valid JSON",
        "fix the JSON at the given column; each line must be one complete JSON object",
        "(notebook crashes)",
    ),
    Rule(
        "truncated_last_line",
        E,
        "last line is cut off",
        "the file ends in the middle of an example: re-export it or delete the last line",
    ),
    Rule(
        "line_too_long",
        E,
        "line longer than 64 MiB",
        "an example this large cannot be trained; shorten it",
    ),
    Rule("bom", W, "UTF-8 byte order mark", "`ft-tui fix` strips it"),
    Rule("crlf_line_ending", W, "Windows (CRLF) line ending", "`ft-tui fix` converts to LF"),
    Rule("blank_line", W, "blank line", "blank lines are not examples; `ft-tui fix` removes them"),
    # -- example shape
    Rule(
        "not_an_object",
        E,
        "example is not a JSON object",
        'each line must be a JSON object such as {"messages": [...]}',
        "data_type",
    ),
    Rule(
        "unrecognized_format",
        E,
        "not a known training format",
        'use chat {"messages"}, preference {"input", "preferred_output", '
        '"non_preferred_output"} or {"prompt", "completion"}',
    ),
    Rule(
        "format_mismatch",
        E,
        "example format differs from the file's",
        "one file holds one format; move this example to a file of its own format",
    ),
    Rule(
        "missing_messages",
        E,
        "no messages",
        'give the example a non-empty "messages" list',
        "missing_messages_list",
    ),
    Rule(
        "example_level_weight",
        E,
        '"weight" on the example',
        'OpenAI rejects it ("contains an extra weight"); put weight 0|1 on assistant messages',
    ),
    Rule(
        "unknown_top_level_key",
        W,
        "unknown top-level key",
        "SFT ignores it (RFT graders can read it as {{item.key}}); remove it for SFT",
    ),
    Rule(
        "invalid_tools",
        E,
        'invalid "tools"',
        'tools is a list of {"type": "function", "function": {"name", "parameters"}}',
    ),
    Rule(
        "invalid_functions",
        E,
        'invalid "functions"',
        'functions is a list of 1-128 {"name", "parameters"} objects (deprecated: use tools)',
    ),
    Rule(
        "invalid_parallel_tool_calls",
        E,
        '"parallel_tool_calls" is not true/false',
        "use a JSON boolean",
    ),
    # -- messages
    Rule(
        "message_not_object",
        E,
        "message is not an object",
        'each message is {"role": ..., "content": ...}',
        "data_type",
    ),
    Rule(
        "message_missing_role",
        E,
        "message has no role",
        'add "role": system|developer|user|assistant|tool',
        "message_missing_key",
    ),
    Rule(
        "unrecognized_role",
        E,
        "unknown role",
        "roles are system, developer, user, assistant, tool, function",
        "unrecognized_role",
    ),
    Rule(
        "message_missing_content",
        E,
        "message has no content",
        'add "content" (assistant messages may use tool_calls instead)',
        "message_missing_key, missing_content",
    ),
    Rule(
        "invalid_content",
        E,
        "content is neither text nor a list of parts",
        "content is a string or a list of text/image_url parts",
        "missing_content",
    ),
    Rule(
        "message_unknown_key",
        E,
        "unknown message key",
        "remove the key; allowed keys depend on the role",
        "message_unrecognized_key",
    ),
    Rule("invalid_name", E, '"name" is not a non-empty string', "use a short string name"),
    Rule(
        "missing_assistant_message",
        E,
        "no assistant message",
        "add the assistant reply the model should learn",
        "example_missing_assistant_message",
    ),
    Rule(
        "invalid_weight",
        E,
        "weight is not 0 or 1",
        "weight is the integer 0 (do not train) or 1 (train)",
    ),
    Rule(
        "weight_not_on_assistant",
        E,
        "weight on a non-assistant message",
        "only assistant messages take a weight",
    ),
    Rule(
        "invalid_tool_calls",
        E,
        "malformed tool_calls",
        'tool_calls is a list of {"id", "type": "function", "function": {"name", "arguments"}}',
    ),
    Rule(
        "tool_call_arguments_not_string",
        E,
        "tool call arguments are not a JSON string",
        'arguments must be a string holding JSON, e.g. "{\\"x\\": 1}"',
    ),
    Rule(
        "tool_call_arguments_invalid_json",
        E,
        "tool call arguments do not parse as JSON",
        "fix the JSON inside the arguments string",
    ),
    Rule(
        "invalid_function_call",
        E,
        "malformed function_call",
        'function_call is {"name", "arguments": "<json string>"}',
    ),
    Rule(
        "tool_message_without_call",
        E,
        "tool message answers no preceding tool call",
        "give it the tool_call_id of an earlier assistant tool call",
    ),
    Rule(
        "invalid_content_part",
        E,
        "invalid content part",
        'parts are {"type": "text", "text"} or {"type": "image_url", "image_url": {"url"}}',
    ),
    Rule(
        "invalid_image_url",
        E,
        "invalid image URL",
        "use an http(s) URL or data:image/jpeg|png|webp;base64,...",
    ),
    Rule("invalid_image_detail", E, "invalid image detail", "detail is low, high or auto"),
    Rule("image_too_large", E, "image larger than 10 MB", "resize or recompress the image"),
    Rule(
        "too_many_images",
        E,
        "more than 10 images in one example",
        "split the example; at most 10 images each",
    ),
    Rule(
        "image_in_assistant",
        E,
        "image in an assistant message",
        "images go in user (or system) messages only",
    ),
    Rule(
        "forbidden_special_token",
        E,
        "special token in text",
        "remove it: OpenAI rejects examples containing e.g. <|endoftext|> or <|fim_suffix|>",
    ),
    # -- other formats
    Rule(
        "invalid_preference",
        E,
        "malformed preference (DPO) example",
        "input.messages, then preferred_output and non_preferred_output each one assistant message",
    ),
    Rule(
        "invalid_completion",
        E,
        "prompt/completion is not a string",
        "both prompt and completion are strings",
    ),
    # -- quality and estimate warnings
    Rule(
        "too_many_tokens",
        W,
        "example over the model's training limit",
        "it will be truncated from the end; shorten or split it",
        "n_too_long",
    ),
    Rule(
        "no_system_message",
        W,
        "no system message",
        "a consistent system prompt usually helps",
        "missing system message",
    ),
    Rule("no_user_message", W, "no user message", "add the user turn", "missing user message"),
    Rule("empty_content", W, "empty message text", "fill it in or remove the message"),
    Rule(
        "empty_assistant_message",
        W,
        "empty assistant reply",
        "the model would learn to answer with nothing",
    ),
    Rule(
        "last_message_not_assistant",
        W,
        "last message is not from the assistant",
        "trailing turns after the last assistant reply are not trained",
    ),
    Rule("duplicate_example", W, "duplicate example", "remove the repeated line"),
    Rule(
        "validation_overlap",
        W,
        "example also in the validation file",
        "remove it from one of the files, or validation loss is optimistic",
    ),
    Rule(
        "possible_secret",
        W,
        "text looks like a secret",
        "remove credentials from training data; the model may memorise them",
    ),
    Rule(
        "unusually_long_example",
        W,
        "unusually long example",
        "far longer than the median: check that it is intended",
    ),
    Rule("empty_completion", W, "empty prompt or completion", "fill it in or remove the line"),
)


def rule(rule_id: str) -> Rule:
    return RULES[rule_id]
