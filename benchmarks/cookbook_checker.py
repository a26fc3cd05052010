"""A faithful, single-threaded re-implementation of the OpenAI cookbook's
`Chat_finetuning_data_prep.ipynb` checks, as the baseline of the lint benchmark.

Like the notebook it loads the whole dataset into a list with `json.loads`, runs the format
checks, counts tokens with cl100k_base through `encoding.encode` (every message value, role
included, 3 per message, +1 per name, +3 priming; assistant content encoded a second time for
the assistant distribution), prints numpy distributions and the epoch / billed-token estimate.
The encoding is the same verified offline cl100k_base that ft-tui uses (no network).

    python -m benchmarks.cookbook_checker FILE [--json] [--tools]

The notebook crashes on tool-calling data (it encodes the `tool_calls` list). `--tools` extends
its counting the way ft-tui counts such data, so the two can be compared on `drone_training`:
`tool_calls` / `function_call` values and the top-level `tools` list are encoded as compact JSON,
`weight` is not counted. Every string is still encoded anew on every line, as in the notebook.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from typing import Any

import numpy as np
import orjson

from tui.core.tokens import get_encoding

MAX_TOKENS_PER_EXAMPLE = 16385
TARGET_EPOCHS = 3
MIN_TARGET_EXAMPLES = 100
MAX_TARGET_EXAMPLES = 25000
MIN_DEFAULT_EPOCHS = 1
MAX_DEFAULT_EPOCHS = 25
ALLOWED_KEYS = ("role", "content", "name", "function_call", "weight")
ALLOWED_ROLES = ("system", "user", "assistant", "function")


def format_errors(dataset: list[Any]) -> dict[str, int]:
    errors: dict[str, int] = defaultdict(int)
    for ex in dataset:
        if not isinstance(ex, dict):
            errors["data_type"] += 1
            continue
        messages = ex.get("messages", None)
        if not messages:
            errors["missing_messages_list"] += 1
            continue
        for message in messages:
            if "role" not in message or "content" not in message:
                errors["message_missing_key"] += 1
            if any(k not in ALLOWED_KEYS for k in message):
                errors["message_unrecognized_key"] += 1
            if message.get("role", None) not in ALLOWED_ROLES:
                errors["unrecognized_role"] += 1
            content = message.get("content", None)
            function_call = message.get("function_call", None)
            if (not content and not function_call) or not isinstance(content, str):
                errors["missing_content"] += 1
        if not any(message.get("role", None) == "assistant" for message in messages):
            errors["example_missing_assistant_message"] += 1
    return dict(errors)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="cookbook-style dataset check (baseline)")
    parser.add_argument("file")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--tools", action="store_true", help="also count tools and tool calls")
    args = parser.parse_args(argv)
    encoding = get_encoding("cl100k_base")

    def value_tokens(key: str, value: Any) -> int:
        if not args.tools or isinstance(value, str):
            return len(encoding.encode(value))
        if key in ("tool_calls", "function_call"):
            return len(encoding.encode(orjson.dumps(value).decode()))
        return 0  # weight, or a null content next to tool calls

    def num_tokens_from_messages(messages: list[dict[str, Any]], tools: Any = None) -> int:
        num_tokens = 0
        for message in messages:
            num_tokens += 3
            for key, value in message.items():
                num_tokens += value_tokens(key, value)
                if key == "name":
                    num_tokens += 1
        if args.tools and tools is not None:
            num_tokens += len(encoding.encode(orjson.dumps(tools).decode()))
        return num_tokens + 3

    def num_assistant_tokens_from_messages(messages: list[dict[str, Any]]) -> int:
        return sum(
            value_tokens("content", m.get("content"))
            for m in messages
            if m["role"] == "assistant" and (not args.tools or isinstance(m.get("content"), str))
        )

    with open(args.file, encoding="utf-8") as f:
        dataset = [json.loads(line) for line in f]
    errors = format_errors(dataset)

    n_missing_system = n_missing_user = 0
    n_messages, convo_lens, assistant_lens = [], [], []
    for ex in dataset:
        messages = ex["messages"]
        if not any(m["role"] == "system" for m in messages):
            n_missing_system += 1
        if not any(m["role"] == "user" for m in messages):
            n_missing_user += 1
        n_messages.append(len(messages))
        convo_lens.append(num_tokens_from_messages(messages, ex.get("tools")))
        assistant_lens.append(num_assistant_tokens_from_messages(messages))

    def distribution(values: list[int]) -> dict[str, float]:
        return {
            "min": float(min(values)),
            "max": float(max(values)),
            "mean": float(np.mean(values)),
            "median": float(np.median(values)),
            "p10": float(np.quantile(values, 0.1)),
            "p90": float(np.quantile(values, 0.9)),
        }

    n_too_long = sum(length > MAX_TOKENS_PER_EXAMPLE for length in convo_lens)
    n_train = len(dataset)
    n_epochs = TARGET_EPOCHS
    if n_train * TARGET_EPOCHS < MIN_TARGET_EXAMPLES:
        n_epochs = min(MAX_DEFAULT_EPOCHS, MIN_TARGET_EXAMPLES // n_train)
    elif n_train * TARGET_EPOCHS > MAX_TARGET_EXAMPLES:
        n_epochs = max(MIN_DEFAULT_EPOCHS, MAX_TARGET_EXAMPLES // n_train)
    billing = sum(min(MAX_TOKENS_PER_EXAMPLE, length) for length in convo_lens)
    result = {
        "examples": n_train,
        "format_errors": errors,
        "missing_system": n_missing_system,
        "missing_user": n_missing_user,
        "messages": distribution(n_messages),
        "total_tokens": distribution(convo_lens),
        "assistant_tokens": distribution(assistant_lens),
        "too_long": n_too_long,
        "epochs": n_epochs,
        "tokens_per_epoch": billing,
        "billed_tokens": n_epochs * billing,
    }
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
