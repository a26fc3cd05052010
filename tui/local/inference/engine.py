"""The inference engine behind `/v1/chat/completions` of the local server.

Sync API for a server thread. `stream_chat` yields text deltas, then exactly one `Usage` (which
carries `finish_reason`: "stop" on end-of-turn/EOS/stop string/cancel, "length" on the token
limit), then ends. Errors (unknown model, bad messages, prompt too long) are raised as
`InferenceError` from the first `next()`, before any text, so a server can still answer 400.

One base model per `model_dir` stays loaded (LRU of `max_models`); each adapter is loaded once
under a name and selected per request. Adapter selection is global model state, so generation is
serialised by a lock that a stream holds until it is exhausted or closed: close abandoned
generators (`gen.close()`), as a `for` loop that breaks does.
"""

from __future__ import annotations

import hashlib
import threading
import warnings
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal


@dataclass(frozen=True)
class GenerationParams:
    max_tokens: int | None
    temperature: float
    top_p: float
    stop: list[str]
    seed: int | None


@dataclass
class Usage:
    prompt_tokens: int
    completion_tokens: int
    finish_reason: Literal["stop", "length"] = "stop"

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class InferenceError(Exception):
    """A request the engine cannot serve; `code` follows OpenAI's error codes where one fits."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class _Loaded:
    model: Any  # the base model, or a PeftModel wrapping it once an adapter is loaded
    tokenizer: Any
    device: Any
    end_ids: set[int]
    context_length: int
    adapters: dict[Path, str] = field(default_factory=dict)  # adapter dir -> adapter name


class InferenceEngine:
    def __init__(self, max_models: int = 2) -> None:
        self._max_models = max(1, max_models)
        self._models: OrderedDict[Path, _Loaded] = OrderedDict()
        # A plain Lock (not RLock): a stream may be advanced from different threads.
        self._lock = threading.Lock()

    def stream_chat(
        self,
        model_dir: Path,
        adapter_dir: Path | None,
        messages: list[dict[str, Any]],
        params: GenerationParams,
        cancel: threading.Event | None = None,
    ) -> Iterator[str | Usage]:
        with self._lock:
            loaded = self._load(model_dir)
            prompt = self._prompt_ids(loaded, messages)
            limit = loaded.context_length - len(prompt)
            if limit <= 0:
                raise InferenceError(
                    "context_length_exceeded",
                    f"the prompt has {len(prompt)} tokens; this model's context is "
                    f"{loaded.context_length} tokens",
                )
            if params.max_tokens is not None:
                if params.max_tokens < 1:
                    raise InferenceError("invalid_value", "max_tokens must be at least 1")
                limit = min(limit, params.max_tokens)
            with self._adapter_selected(loaded, adapter_dir):
                yield from _decode(loaded, prompt, limit, params, cancel)

    def unload_adapter(self, adapter_dir: Path) -> None:
        """Forget an adapter (its model was deleted); a later request for it loads it again."""
        key = adapter_dir.resolve()
        with self._lock:
            for model_dir, loaded in list(self._models.items()):
                name = loaded.adapters.pop(key, None)
                if name is None:
                    continue
                if loaded.adapters:
                    with warnings.catch_warnings():  # "active adapter deleted": expected here
                        warnings.simplefilter("ignore", UserWarning)
                        loaded.model.delete_adapter(name)
                else:  # a PeftModel needs at least one adapter: reload the base lazily
                    del self._models[model_dir]

    def loaded_models(self) -> list[Path]:
        with self._lock:
            return list(self._models)

    def _load(self, model_dir: Path) -> _Loaded:
        from tui.local.training.device import DeviceError, pick_device
        from tui.local.training.hf import (
            ModelLoadError,
            context_length,
            end_token_ids,
            load_model,
            load_tokenizer,
        )

        key = model_dir.resolve()
        if key in self._models:
            self._models.move_to_end(key)
            return self._models[key]
        try:
            device, dtype = pick_device()
        except DeviceError as exc:
            raise InferenceError("device_unavailable", str(exc)) from exc
        try:
            tokenizer = load_tokenizer(key)
            model = load_model(key, device, dtype)
        except ModelLoadError as exc:
            raise InferenceError("model_not_found", str(exc)) from exc
        model.eval()
        loaded = _Loaded(
            model=model,
            tokenizer=tokenizer,
            device=device,
            end_ids=end_token_ids(tokenizer, model),
            context_length=context_length(model),
        )
        self._models[key] = loaded
        while len(self._models) > self._max_models:
            self._models.popitem(last=False)
        return loaded

    def _prompt_ids(self, loaded: _Loaded, messages: list[dict[str, Any]]) -> list[int]:
        from tui.local.training.chat_messages import render, template_message

        if not messages:
            raise InferenceError("invalid_value", "messages must not be empty")
        try:
            clean = [template_message(m) for m in messages]
            text = render(loaded.tokenizer, clean, tools=None, add_generation_prompt=True)
        except Exception as exc:  # template errors are user input errors here
            raise InferenceError("invalid_value", f"cannot format the messages: {exc}") from exc
        ids: list[int] = loaded.tokenizer(text, add_special_tokens=False)["input_ids"]
        return ids

    @contextmanager
    def _adapter_selected(self, loaded: _Loaded, adapter_dir: Path | None) -> Iterator[None]:
        if adapter_dir is None:
            if loaded.adapters:
                with loaded.model.disable_adapter():
                    yield
            else:
                yield
            return
        name = self._adapter_name(loaded, adapter_dir)  # may wrap the model: look it up after
        loaded.model.set_adapter(name)
        yield

    def _adapter_name(self, loaded: _Loaded, adapter_dir: Path) -> str:
        key = adapter_dir.resolve()
        if key in loaded.adapters:
            return loaded.adapters[key]
        if not (key / "adapter_config.json").is_file():
            raise InferenceError("model_not_found", f"no LoRA adapter in {adapter_dir}")
        name = "a" + hashlib.sha1(str(key).encode()).hexdigest()[:12]
        try:
            if loaded.adapters:
                loaded.model.load_adapter(str(key), adapter_name=name)
            else:
                from peft import PeftModel

                loaded.model = PeftModel.from_pretrained(
                    loaded.model, str(key), adapter_name=name, is_trainable=False
                )
        except Exception as exc:  # peft raises various errors for mismatched adapters
            raise InferenceError(
                "model_not_found", f"cannot load the adapter in {adapter_dir}: {exc}"
            ) from exc
        loaded.model.eval()
        loaded.adapters[key] = name
        return name


def _decode(
    loaded: _Loaded,
    prompt: list[int],
    limit: int,
    params: GenerationParams,
    cancel: threading.Event | None,
) -> Iterator[str | Usage]:
    import torch

    from tui.local.inference.sampling import StopMatcher, next_token

    generator = torch.Generator(device=loaded.device)
    if params.seed is None:
        generator.seed()
    else:
        generator.manual_seed(params.seed)
    input_ids = torch.tensor([prompt], device=loaded.device)
    attention = torch.ones_like(input_ids)
    past: Any = None
    produced: list[int] = []
    matcher = StopMatcher(params.stop)
    finish: Literal["stop", "length"] = "length"
    with torch.inference_mode():
        for _ in range(limit):
            if cancel is not None and cancel.is_set():
                finish = "stop"
                break
            out = loaded.model(
                input_ids=input_ids, attention_mask=attention, past_key_values=past, use_cache=True
            )
            past = out.past_key_values
            token = next_token(out.logits[0, -1], params.temperature, params.top_p, generator)
            produced.append(token)
            if token in loaded.end_ids:
                finish = "stop"
                break
            text = loaded.tokenizer.decode(produced, skip_special_tokens=True)
            delta, stopped = matcher.feed(text)
            if delta:
                yield delta
            if stopped:
                finish = "stop"
                break
            input_ids = torch.tensor([[token]], device=loaded.device)
            attention = torch.cat([attention, attention.new_ones((1, 1))], dim=1)
    if not matcher.stopped:
        rest = matcher.flush()
        if rest:
            yield rest
    yield Usage(prompt_tokens=len(prompt), completion_tokens=len(produced), finish_reason=finish)
