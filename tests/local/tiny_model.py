"""A tiny, randomly initialised chat model for tests: no weights to download, built in seconds.

`build_tiny_model(dir)` writes a Hugging Face model directory holding a 2-layer `LlamaForCausalLM`
and a byte-level BPE tokenizer trained on the fly, with a ChatML chat template shaped like
SmolLM2's (`<|im_start|>role\\n…<|im_end|>\\n`, eos = `<|im_end|>`). The same call always writes
the same weights and vocabulary.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# ChatML like SmolLM2-Instruct's, plus tool support (tools in the system turn, tool calls as JSON)
# so that tool-calling examples exercise the same code path as plain ones.
TINY_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a tiny test model.' }}"
    "{% if tools %}{{ '\nTools: ' + (tools | tojson) }}{% endif %}"
    "{{ '<|im_end|>\n' }}"
    "{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\n' }}"
    "{% if message['content'] %}{{ message['content'] }}{% endif %}"
    "{% if message['role'] == 'system' and tools %}{{ '\nTools: ' + (tools | tojson) }}{% endif %}"
    "{% if message['tool_calls'] %}{% for call in message['tool_calls'] %}"
    "{{ '<tool_call>' + (call['function'] | tojson) + '</tool_call>' }}"
    "{% endfor %}{% endif %}"
    "{{ '<|im_end|>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
VOCAB_SIZE = 1024

_WORDS_TEXT = """
the a an of to and in is it you that he was for on are with as I his they be at one
have this from or had by hot word but what some we can out other were all there when up
use your how said each she which do their time if will way about many then them write
would like so these her long make thing see him two has look more day could go come did
number sound no most people my over know water than call first who may down side been
now find any new work part take get place made live where after back little only round
man year came show every good me give our under name very through just form sentence
great think say help low line hello world assistant user system answer question yes
please thanks capital France Paris red green blue cat dog tool call weather city
function arguments json result ok sorry
"""
_WORDS = _WORDS_TEXT.split()


def _training_corpus() -> list[str]:
    lines: list[str] = []
    for i, word in enumerate(_WORDS):
        nxt = _WORDS[(i * 7 + 3) % len(_WORDS)]
        lines.append(f"{word} {nxt}, {word.capitalize()} {i} {i * 37 % 1000}.")
        lines.append(f'{{"name": "{word}", "arguments": {{"{nxt}": {i}}}}}\n')
    lines.append("".join(chr(c) for c in range(32, 127)))
    lines.append(
        "<|im_start|>system\n<|im_start|>user\n<|im_start|>assistant\n<tool_call></tool_call>"
    )
    return lines * 3


def _build_tokenizer() -> object:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast as _Fast

    fast: Any = _Fast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_training_corpus(), trainer=trainer)
    return fast(
        tokenizer_object=tok,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        unk_token="<|endoftext|>",
        pad_token="<|im_end|>",  # as SmolLM2: pad == eos, so padding must go by attention mask
        chat_template=TINY_CHAT_TEMPLATE,
        model_max_length=512,
    )


def build_tiny_model(directory: Path, *, seed: int = 0) -> Path:
    """Write the tiny model and tokenizer into `directory` (created) and return it."""
    import torch
    from transformers import GenerationConfig as _GenerationConfig
    from transformers import LlamaConfig, LlamaForCausalLM

    generation_config: Any = _GenerationConfig

    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = _build_tokenizer()
    vocab = len(tokenizer)  # type: ignore[arg-type]
    eos_id = tokenizer.convert_tokens_to_ids("<|im_end|>")  # type: ignore[attr-defined]
    bos_id = tokenizer.convert_tokens_to_ids("<|im_start|>")  # type: ignore[attr-defined]
    config = LlamaConfig(
        vocab_size=vocab,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        tie_word_embeddings=True,
        initializer_range=0.3,
        bos_token_id=bos_id,
        eos_token_id=eos_id,
        # No pad id in the config: Llama would zero that embedding row, and with tied weights
        # the end-of-turn logit (pad == eos) could never be learned by a LoRA adapter.
        pad_token_id=None,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    model.generation_config = generation_config(
        bos_token_id=bos_id, eos_token_id=eos_id, pad_token_id=eos_id
    )
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)  # type: ignore[attr-defined]
    return directory


def pattern_examples(n: int, *, start: int = 0) -> list[dict[str, Any]]:
    """Chat examples with an easy pattern to learn: the reply is the colour word asked for."""
    colours = ["red", "green", "blue"]
    out: list[dict[str, Any]] = []
    for i in range(start, start + n):
        colour = colours[i % len(colours)]
        out.append(
            {
                "messages": [
                    {"role": "user", "content": f"say {colour}"},
                    {"role": "assistant", "content": colour},
                ]
            }
        )
    return out


def write_jsonl(path: Path, examples: list[dict[str, Any]]) -> Path:
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(e) + "\n" for e in examples), encoding="utf-8")
    return path


class RecordingSink:
    """A TrainingSink that records everything and asks to stop when told to.

    `stop_after_step=(kind, n)` makes `stop_requested` answer `kind` once `n` metrics events
    have been seen (it keeps answering it, as the runner's flag does)."""

    def __init__(self, stop_after_step: tuple[str, int] | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.checkpoints: list[dict[str, Any]] = []
        self.stop_after_step = stop_after_step
        self.polls = 0

    def event(
        self,
        message: str,
        *,
        level: str = "info",
        type: str = "message",  # noqa: A002 - the protocol's name
        data: dict[str, Any] | None = None,
    ) -> None:
        self.events.append({"message": message, "level": level, "type": type, "data": data})

    def checkpoint(
        self, *, step: int, metrics: dict[str, float], adapter_dir: Path, model_name: str
    ) -> None:
        self.checkpoints.append(
            {"step": step, "metrics": metrics, "adapter_dir": adapter_dir, "model_name": model_name}
        )

    def stop_requested(self) -> Any:
        self.polls += 1
        if self.stop_after_step is None:
            return None
        kind, after = self.stop_after_step
        return kind if len(self.metrics()) >= after else None

    def metrics(self) -> list[dict[str, Any]]:
        return [e["data"] for e in self.events if e["type"] == "metrics" and e["data"]]

    def train_losses(self) -> list[float]:
        return [float(m["train_loss"]) for m in self.metrics()]


def shared_default_model_dir(tmp_path_factory: Any) -> Path:
    """The real default base model converted once per test session (slow tests only)."""
    from tui.local.base_models import DEFAULT_BASE_MODEL, BaseModelRegistry

    data_dir = tmp_path_factory.getbasetemp() / "default-model-data"
    return BaseModelRegistry(data_dir).resolve(DEFAULT_BASE_MODEL)
