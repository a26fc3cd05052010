"""Chat JSONL -> token ids and labels, supervising only assistant turns (weight != 0).

Labels come from incremental rendering: for assistant message i, the supervised span runs from
the token length of `template(messages[:i], add_generation_prompt=True)` to that of
`template(messages[:i+1])`, so it covers the reply and its end-of-turn token. Every prefix render
must be a token prefix of the full render; a template that breaks this fails the job clearly
instead of silently training on the wrong tokens.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.local.training.chat_messages import render, template_message, template_tools
from tui.local.training.interface import TrainingError

IGNORE = -100


@dataclass(frozen=True)
class TokenizedExample:
    line: int  # 1-based line in its file
    input_ids: list[int]
    labels: list[int]  # the token id where supervised, IGNORE elsewhere (unshifted)

    @property
    def n_targets(self) -> int:
        """Tokens the loss is computed on (a label at position 0 has no preceding context)."""
        return sum(1 for label in self.labels[1:] if label != IGNORE)


def load_examples(
    path: Path, tokenizer: Any, max_length: int, *, what: str = "training file"
) -> tuple[list[TokenizedExample], int]:
    """Tokenize every example of a chat JSONL file. Returns (examples, how many were truncated).

    Raises TrainingError("invalid_training_file" / "invalid_validation_file") naming the line."""
    code = "invalid_validation_file" if what == "validation file" else "invalid_training_file"
    examples: list[TokenizedExample] = []
    truncated = 0
    try:
        handle = path.open("r", encoding="utf-8")
    except OSError as exc:
        raise TrainingError(code, f"cannot read the {what}: {exc}") from exc
    with handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                example = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise TrainingError(code, f"{what}, line {number}: invalid JSON ({exc})") from exc
            try:
                input_ids, labels = tokenize_example(tokenizer, example)
            except (ValueError, TypeError, KeyError) as exc:
                raise TrainingError(code, f"{what}, line {number}: {exc}") from exc
            too_long = len(input_ids) > max_length
            if too_long:
                input_ids, labels = input_ids[:max_length], labels[:max_length]
                truncated += 1
            tokenized = TokenizedExample(number, input_ids, labels)
            if tokenized.n_targets == 0:
                where = f" within the first {max_length} tokens" if too_long else ""
                raise TrainingError(
                    code,
                    f"{what}, line {number}: no tokens to train on (no assistant message "
                    f"with weight 1{where})",
                )
            examples.append(tokenized)
    if not examples:
        raise TrainingError(code, f"the {what} has no examples")
    return examples, truncated


def tokenize_example(tokenizer: Any, example: object) -> tuple[list[int], list[int]]:
    """(input_ids, labels) of one chat example. Raises ValueError with a user-facing reason."""
    if not isinstance(example, dict) or not isinstance(example.get("messages"), list):
        raise ValueError('each line must be an object with a "messages" list')
    raw_messages: list[Any] = example["messages"]
    for message in raw_messages:
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise ValueError('each message must be an object with a "role"')
    messages = [template_message(m) for m in raw_messages]
    tools = template_tools(example)

    def ids_of(upto: int, generation_prompt: bool) -> list[int]:
        text = render(
            tokenizer, messages[:upto], tools=tools, add_generation_prompt=generation_prompt
        )
        encoded: list[int] = tokenizer(text, add_special_tokens=False)["input_ids"]
        return encoded

    full = ids_of(len(messages), False)
    labels = [IGNORE] * len(full)
    for i, message in enumerate(raw_messages):
        if message["role"] != "assistant":
            continue
        start = ids_of(i, True)
        end = ids_of(i + 1, False)
        for prefix in (start, end):
            if full[: len(prefix)] != prefix:
                raise ValueError(
                    f"the model's chat template does not render message {i + 1} as a token "
                    "prefix of the whole conversation, so assistant tokens cannot be located"
                )
        if message.get("weight", 1) == 0:
            continue
        for position in range(len(start), len(end)):
            labels[position] = full[position]
    return full, labels
