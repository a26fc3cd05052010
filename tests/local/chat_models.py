"""Variants of the tiny test model that make chat behaviour observable from a client.

* `build_endless` never ends its turn (its generation config suppresses the end-of-turn token)
  and has a long context: an answer runs until a limit, a cancel or a disconnect stops it.
* `build_broken` has NaN weights: every logit is NaN, as after a fine-tune that diverged.
* `build_toolbot` is the tiny model fully fine-tuned (plain torch, a few seconds) to answer the
  prompt `TOOL_MESSAGES` + `TOOLS` with a `<tool_call>` for `get_weather`, so tool-call parsing
  can be tested end to end with greedy decoding.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "weather in a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]
TOOL_MESSAGES: list[dict[str, Any]] = [{"role": "user", "content": "weather in Paris"}]
TOOL_CALL = {"name": "get_weather", "arguments": {"city": "Paris"}}


def _copy(source: Path, target: Path) -> Path:
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    return target


def _edit_json(path: Path, **changes: Any) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(changes)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def build_endless(tiny: Path, target: Path, context: int = 262144) -> Path:
    _copy(tiny, target)
    config = json.loads((target / "config.json").read_text(encoding="utf-8"))
    _edit_json(target / "config.json", max_position_embeddings=context)
    _edit_json(target / "generation_config.json", suppress_tokens=[config["eos_token_id"]])
    return target


def build_broken(tiny: Path, target: Path) -> Path:
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(tiny))
    with torch.no_grad():
        model.model.norm.weight.fill_(float("nan"))
    _copy(tiny, target)
    model.save_pretrained(str(target))
    return target


def build_toolbot(tiny: Path, target: Path, steps: int = 80) -> Path:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tui.local.training.chat_messages import render, template_message

    tokenizer = AutoTokenizer.from_pretrained(str(tiny))
    call = {"type": "function", "id": "call_1", "function": dict(TOOL_CALL)}
    answer = {"role": "assistant", "content": "", "tool_calls": [call]}
    messages = [template_message(m) for m in [*TOOL_MESSAGES, answer]]
    prompt = render(tokenizer, messages[:-1], tools=TOOLS, add_generation_prompt=True)
    full = render(tokenizer, messages, tools=TOOLS, add_generation_prompt=False)
    assert full.startswith(prompt)
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    ids = torch.tensor([tokenizer(full, add_special_tokens=False)["input_ids"]])
    labels = ids.clone()
    labels[0, : len(prompt_ids)] = -100
    model = AutoModelForCausalLM.from_pretrained(str(tiny))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model: threads only wait on each other on a busy CPU
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    torch.manual_seed(0)
    model.train()
    for _ in range(steps):
        loss = model(input_ids=ids, labels=labels).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    torch.set_num_threads(threads)
    _copy(tiny, target)
    model.save_pretrained(str(target))
    return target
