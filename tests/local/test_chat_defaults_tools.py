"""Sampling defaults per base model, and tool calls parsed back from generated text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tui.local.base_models import DEFAULT_BASE_MODEL
from tui.local.inference.defaults import (
    Sampling,
    defaults_for,
    parse_sampling_option,
)
from tui.local.inference.tools import parse_tool_calls

ROOT = Path(__file__).resolve().parents[2]


def _model(tmp_path: Path, generation: dict[str, object] | None) -> Path:
    if generation is not None:
        (tmp_path / "generation_config.json").write_text(json.dumps(generation))
    return tmp_path


def test_defaults_follow_override_then_generation_config_then_declared(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    plain = _model(tmp_path / "a", None)
    assert defaults_for("other", plain, {}) == Sampling(1.0, 1.0)  # OpenAI's
    assert defaults_for(DEFAULT_BASE_MODEL, plain, {}) == Sampling(0.2, 0.9)  # model card
    (tmp_path / "b").mkdir()
    configured = _model(tmp_path / "b", {"temperature": 0.6, "do_sample": True})
    assert defaults_for(DEFAULT_BASE_MODEL, configured, {}) == Sampling(0.6, 0.9)
    assert defaults_for("other", configured, {}) == Sampling(0.6, 1.0)
    override = {DEFAULT_BASE_MODEL: Sampling(top_p=0.5)}
    assert defaults_for(DEFAULT_BASE_MODEL, configured, override) == Sampling(0.6, 0.5)
    (tmp_path / "c").mkdir()
    greedy = _model(tmp_path / "c", {"do_sample": False, "temperature": 0.7})
    assert defaults_for("other", greedy, {}).temperature == 0.0


def test_sampling_option_round_trips_and_rejects_bad_values() -> None:
    name, sampling = parse_sampling_option("org/model-1:temperature=0.3,top_p=0.8")
    assert (name, sampling) == ("org/model-1", Sampling(0.3, 0.8))
    assert parse_sampling_option("m:top_p=1")[1] == Sampling(None, 1.0)
    for bad in ("m", "m:", "m:temperature", "m:temperature=3", "m:top_k=2", "m:top_p=nan"):
        with pytest.raises(ValueError):
            parse_sampling_option(bad)


def test_tool_call_blocks_are_parsed() -> None:
    call = '{"name": "get_weather", "arguments": {"city": "Paris"}}'
    text = f"Let me check.<tool_call>{call}</tool_call>"
    content, calls = parse_tool_calls(text, {"get_weather"})
    assert content == "Let me check."
    assert [(c.name, json.loads(c.arguments)) for c in calls] == [
        ("get_weather", {"city": "Paris"})
    ]
    assert calls[0].as_openai()["type"] == "function"
    assert parse_tool_calls(text, {"other"}) == (text, [])  # undeclared: stays text
    broken = '<tool_call>{"name": "get_weather", "arguments": </tool_call>'
    assert parse_tool_calls(broken, {"get_weather"}) == (broken, [])


def test_json_line_calls_as_rendered_for_templates_without_tools() -> None:
    """What a model fine-tuned through ft-tui on the drone sample answers with SmolLM2's template
    (which knows no tools): the calls as JSON lines, rendered by `chat_messages.render`."""
    from tui.local.training.chat_messages import _inline_tool_calls, template_message

    line = (ROOT / "assets" / "datasets" / "drone_training.jsonl").read_text().splitlines()[0]
    example = json.loads(line)
    answer = template_message(example["messages"][-1])
    rendered = _inline_tool_calls(answer)["content"]
    names = {tool["function"]["name"] for tool in example["tools"]}
    content, calls = parse_tool_calls(rendered, names)
    expected = example["messages"][-1]["tool_calls"]
    assert content is None
    assert [c.name for c in calls] == [call["function"]["name"] for call in expected]
    assert [json.loads(c.arguments) for c in calls] == [
        json.loads(call["function"]["arguments"]) for call in expected
    ]
    text = "Sure.\n" + rendered
    assert parse_tool_calls(text, names)[0] == "Sure."
