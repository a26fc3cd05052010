"""Which tokens a fine-tune learns from: assistant replies with weight != 0 and their
end-of-turn token, nothing else; checked token by token on the tiny model's ChatML template."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.local.tiny_model import build_tiny_model, write_jsonl
from tui.local.training import TrainingError
from tui.local.training.examples import IGNORE, load_examples, tokenize_example


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from tui.local.training.hf import load_tokenizer

    return load_tokenizer(build_tiny_model(tmp_path_factory.mktemp("tiny")))


def supervised_spans(tokenizer: Any, ids: list[int], labels: list[int]) -> list[str]:
    """The supervised text, one string per contiguous run of labelled tokens."""
    spans: list[list[int]] = []
    previous = False
    for token, label in zip(ids, labels, strict=True):
        if label != IGNORE:
            assert label == token, "a label must be the token at its own position"
            if not previous:
                spans.append([])
            spans[-1].append(token)
        previous = label != IGNORE
    return [tokenizer.decode(span) for span in spans]


def test_single_turn_supervises_the_reply_and_its_end_of_turn(tokenizer: Any) -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "capital of France?"},
        {"role": "assistant", "content": "Paris"},
    ]
    ids, labels = tokenize_example(tokenizer, {"messages": messages})
    full = tokenizer.apply_chat_template(messages, tokenize=False)
    assert tokenizer.decode(ids) == full
    assert supervised_spans(tokenizer, ids, labels) == ["Paris<|im_end|>\n"]
    # Everything before the reply, including `<|im_start|>assistant\n`, is context only.
    prompt = tokenizer.apply_chat_template(messages[:2], tokenize=False, add_generation_prompt=True)
    n_prompt = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    assert all(label == IGNORE for label in labels[:n_prompt])
    assert all(label != IGNORE for label in labels[n_prompt:])


def test_multi_turn_supervises_every_assistant_turn(tokenizer: Any) -> None:
    messages = [
        {"role": "user", "content": "say red"},
        {"role": "assistant", "content": "red"},
        {"role": "user", "content": "say blue"},
        {"role": "assistant", "content": "blue blue"},
    ]
    ids, labels = tokenize_example(tokenizer, {"messages": messages})
    assert supervised_spans(tokenizer, ids, labels) == ["red<|im_end|>\n", "blue blue<|im_end|>\n"]


def test_weight_zero_turn_is_context_only(tokenizer: Any) -> None:
    messages = [
        {"role": "user", "content": "say red"},
        {"role": "assistant", "content": "green", "weight": 0},
        {"role": "user", "content": "no, say red"},
        {"role": "assistant", "content": "red", "weight": 1},
    ]
    ids, labels = tokenize_example(tokenizer, {"messages": messages})
    assert supervised_spans(tokenizer, ids, labels) == ["red<|im_end|>\n"]
    assert "green" in tokenizer.decode(ids)  # still in the context


def test_trailing_user_message_is_never_supervised(tokenizer: Any) -> None:
    messages = [
        {"role": "user", "content": "hello"},
        {"role": "assistant", "content": "hello world"},
        {"role": "user", "content": "thanks"},
    ]
    ids, labels = tokenize_example(tokenizer, {"messages": messages})
    assert supervised_spans(tokenizer, ids, labels) == ["hello world<|im_end|>\n"]


def test_tool_calls_and_tools_reach_the_template(tokenizer: Any) -> None:
    tools = [{"type": "function", "function": {"name": "weather", "parameters": {}}}]
    call = {"id": "c1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}
    messages = [
        {"role": "user", "content": "weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
        {"role": "assistant", "content": "sunny"},
    ]
    ids, labels = tokenize_example(tokenizer, {"messages": messages, "tools": tools})
    text = tokenizer.decode(ids)
    assert "Tools: " in text and '"weather"' in text
    spans = supervised_spans(tokenizer, ids, labels)
    assert spans[0].startswith("<tool_call>") and '"name": "weather"' in spans[0]
    assert spans[1] == "sunny<|im_end|>\n"


def test_content_parts_are_joined(tokenizer: Any) -> None:
    parts = [{"type": "text", "text": "hello "}, {"type": "text", "text": "world"}]
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": parts}]
    ids, labels = tokenize_example(tokenizer, {"messages": messages})
    assert supervised_spans(tokenizer, ids, labels) == ["hello world<|im_end|>\n"]


def test_template_that_is_not_prefix_consistent_fails_clearly(tokenizer: Any) -> None:
    original = tokenizer.chat_template
    # Puts the number of messages first: no prefix render is a prefix of the full render.
    tokenizer.chat_template = (
        "{{ messages | length }}{% for m in messages %}{{ m['role'] + ': ' + m['content'] }}\n"
        "{% endfor %}{% if add_generation_prompt %}assistant: {% endif %}"
    )
    try:
        messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
        with pytest.raises(ValueError, match="token prefix"):
            tokenize_example(tokenizer, {"messages": messages})
    finally:
        tokenizer.chat_template = original


def test_example_without_supervised_tokens_names_its_line(tokenizer: Any, tmp_path: Path) -> None:
    good = {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}
    silent = {
        "messages": [
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": "b", "weight": 0},
        ]
    }
    path = write_jsonl(tmp_path / "train.jsonl", [good, silent])
    with pytest.raises(TrainingError) as caught:
        load_examples(path, tokenizer, 512)
    assert caught.value.code == "invalid_training_file"
    assert "line 2" in caught.value.message and "no tokens to train on" in caught.value.message


def test_bad_lines_name_their_line(tokenizer: Any, tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_text('{"messages": [{"role": "user", "content": "a"}]}\n{not json\n')
    with pytest.raises(TrainingError, match="line 1: no tokens to train on"):
        load_examples(path, tokenizer, 512)
    path.write_text('{"messages": "nope"}\n')
    with pytest.raises(
        TrainingError, match='line 1: each line must be an object with a "messages"'
    ):
        load_examples(path, tokenizer, 512)


def test_long_examples_are_cut_from_the_right(tokenizer: Any, tmp_path: Path) -> None:
    long_reply = " ".join(["word"] * 200)
    example = {
        "messages": [
            {"role": "user", "content": "talk"},
            {"role": "assistant", "content": long_reply},
        ]
    }
    path = write_jsonl(tmp_path / "train.jsonl", [example])
    examples, truncated = load_examples(path, tokenizer, 64)
    assert truncated == 1
    assert len(examples[0].input_ids) == 64
    assert examples[0].n_targets > 0  # the start of the reply survives


def test_template_without_tool_support_gets_tools_and_calls_as_text(tokenizer: Any) -> None:
    original = tokenizer.chat_template
    # SmolLM2's own template: no `tools`, no `tool_calls`.
    tokenizer.chat_template = (
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + "
        "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
    )
    try:
        tools = [{"type": "function", "function": {"name": "weather", "parameters": {}}}]
        call = {"id": "c1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}
        messages = [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "weather in Paris?"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
        ]
        ids, labels = tokenize_example(tokenizer, {"messages": messages, "tools": tools})
        assert 'Be brief.\n\nTools: [{"type": "function"' in tokenizer.decode(ids)
        spans = supervised_spans(tokenizer, ids, labels)
        assert spans == ['{"name": "weather", "arguments": {}}<|im_end|>\n']
    finally:
        tokenizer.chat_template = original
