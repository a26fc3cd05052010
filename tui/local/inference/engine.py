"""The in-process transformers inference engine behind the local server's chat completions.

`chat(job, cancel)` yields the items described in `types` (text pieces per choice, a `Finish`
per choice, one `Usage`); `stream_chat` is the single-choice form (text, then `Usage`). Errors
(unknown model, bad messages, prompt too long, broken weights) arrive as `InferenceError` before
any text, so a server can still answer with an error status.

One worker thread owns the models: it loads each base model once (LRU of `max_models`) and each
LoRA adapter once under a name, and runs `generation.run_batch`. Concurrent requests for the same
base model, adapter and sampling settings are collected (requests that arrive within
`batch_window_s` of each other, and everything that queued up while a batch ran) and run as one
padded `generate` of at most `max_batch_rows` rows; a seeded sampled request runs alone, so its
seed reproduces its answer. Each request leaves the batch as soon as its own choices end.

Setting a request's `cancel` event (the server does when its client disconnects), or closing
its iterator, ends its choices at the next token; a request still queued never starts.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
import time
import warnings
from collections import OrderedDict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui.local.inference.generation import Request, run_batch
from tui.local.inference.types import (
    ChatJob,
    Finish,
    GenerationParams,
    InferenceError,
    Item,
    Piece,
    Usage,
)

__all__ = ["GenerationParams", "InferenceEngine", "InferenceError", "Usage"]

log = logging.getLogger("ft_tui.inference")


@dataclass
class _Loaded:
    model: Any  # the base model, or a PeftModel wrapping it once an adapter is loaded
    tokenizer: Any
    device: Any
    end_ids: set[int]
    context_length: int
    adapters: dict[Path, str] = field(default_factory=dict)  # adapter dir -> adapter name


@dataclass
class _Queued:
    job: ChatJob
    request: Request
    key: tuple[object, ...]


class InferenceEngine:
    def __init__(
        self, max_models: int = 2, *, batch_window_s: float = 0.005, max_batch_rows: int = 16
    ) -> None:
        self._max_models = max(1, max_models)
        self._window = max(0.0, batch_window_s)
        self._max_rows = max(1, max_batch_rows)
        self._models: OrderedDict[Path, _Loaded] = OrderedDict()
        self._model_lock = threading.Lock()  # held by the worker while it uses the models
        self._waiting: list[_Queued] = []
        self._arrived = threading.Condition()
        self._worker: threading.Thread | None = None
        # Rows of the most recent `generate` calls, newest last (for tests and benchmarks).
        self.batch_rows: deque[int] = deque(maxlen=256)

    # -- public API ----------------------------------------------------------------------------

    def chat(self, job: ChatJob, cancel: threading.Event | None = None) -> Iterator[Item]:
        cancel = cancel if cancel is not None else threading.Event()
        out: queue.SimpleQueue[Item | InferenceError] = queue.SimpleQueue()
        params = job.params
        if params.max_tokens is not None and params.max_tokens < 1:
            raise InferenceError("invalid_value", "max_tokens must be at least 1")
        if not job.messages:
            raise InferenceError("invalid_value", "messages must not be empty")
        request = Request(
            prompt=[], params=params, limit=0, emit=out.put, cancel=cancel, model=job.model
        )
        sampled_alone = params.seed is not None and params.temperature > 0
        key: tuple[object, ...] = (
            job.model_dir.resolve(),
            job.adapter_dir.resolve() if job.adapter_dir else None,
            params.temperature if params.temperature > 0 else 0.0,
            params.top_p if params.temperature > 0 else 1.0,
            object() if sampled_alone else None,
        )
        self._submit(_Queued(job, request, key))
        try:
            while True:
                item = out.get()
                if isinstance(item, InferenceError):
                    raise item
                yield item
                if isinstance(item, Usage):
                    return
        finally:
            cancel.set()  # an abandoned iterator stops its generation

    def stream_chat(
        self,
        model_dir: Path,
        adapter_dir: Path | None,
        messages: list[dict[str, Any]],
        params: GenerationParams,
        cancel: threading.Event | None = None,
    ) -> Iterator[str | Usage]:
        """One choice as plain text deltas, then its `Usage`."""
        job = ChatJob(
            model=str(model_dir),
            base=str(model_dir),
            model_dir=model_dir,
            adapter_dir=adapter_dir,
            messages=messages,
            params=params,
        )
        for item in self.chat(job, cancel):
            if isinstance(item, Piece) and item.text:
                yield item.text
            elif isinstance(item, Usage):
                yield item

    def unload_adapter(self, adapter_dir: Path) -> None:
        """Forget an adapter (its model was deleted); a later request for it loads it again."""
        key = adapter_dir.resolve()
        with self._model_lock:
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
        with self._model_lock:
            return list(self._models)

    # -- the worker ------------------------------------------------------------------------------

    def _submit(self, queued: _Queued) -> None:
        with self._arrived:
            self._waiting.append(queued)
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(
                    target=self._work, name="ft-tui-inference", daemon=True
                )
                self._worker.start()
            self._arrived.notify()

    def _work(self) -> None:
        while True:
            with self._arrived:
                while not self._waiting:
                    self._arrived.wait()
            if self._window:
                time.sleep(self._window)  # let requests sent together join this batch
            batch = self._take_batch()
            with self._model_lock:
                try:
                    self._run(batch)
                except Exception:  # never let the worker die; requests get a clean error
                    log.exception("inference batch failed")
                    failure = InferenceError(
                        "server_error",
                        "The local model failed while generating; details are in the server log.",
                        status=500,
                    )
                    for queued in batch:
                        queued.request.emit(failure)

    def _take_batch(self) -> list[_Queued]:
        with self._arrived:
            first = self._waiting.pop(0)
            batch, rest, rows = [first], [], first.job.params.n
            for queued in self._waiting:
                n = queued.job.params.n
                if queued.key == first.key and rows + n <= self._max_rows:
                    batch.append(queued)
                    rows += n
                else:
                    rest.append(queued)
            self._waiting[:] = rest
        return batch

    def _run(self, batch: list[_Queued]) -> None:
        first = batch[0].job
        try:
            loaded = self._load(first.model_dir)
        except InferenceError as exc:
            for queued in batch:
                queued.request.emit(exc)
            return
        ready: list[Request] = []
        for queued in batch:
            request = queued.request
            if request.cancel.is_set():  # the client left while it waited
                for index in range(request.params.n):
                    request.emit(Finish(index, "stop"))
                request.emit(Usage(prompt_tokens=0, completion_tokens=0))
                continue
            try:
                self._prepare(loaded, queued.job, request)
            except InferenceError as exc:
                request.emit(exc)
                continue
            ready.append(request)
        if not ready:
            return
        self.batch_rows.append(sum(r.params.n for r in ready))
        try:
            with self._adapter_selected(loaded, first.adapter_dir):
                run_batch(loaded.model, loaded.tokenizer, loaded.device, loaded.end_ids, ready)
        except InferenceError as exc:
            for request in ready:
                request.emit(exc)

    def _prepare(self, loaded: _Loaded, job: ChatJob, request: Request) -> None:
        request.prompt = self._prompt_ids(loaded, job.messages, job.tools)
        room = loaded.context_length - len(request.prompt)
        if room <= 0:
            raise InferenceError(
                "context_length_exceeded",
                f"the prompt has {len(request.prompt)} tokens; this model's context is "
                f"{loaded.context_length} tokens",
            )
        max_tokens = job.params.max_tokens
        request.limit = room if max_tokens is None else min(room, max_tokens)

    # -- models and adapters (worker thread only) ------------------------------------------------

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

    def _prompt_ids(
        self,
        loaded: _Loaded,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None,
    ) -> list[int]:
        from tui.local.training.chat_messages import render, template_message

        try:
            clean = [template_message(m) for m in messages]
            text = render(loaded.tokenizer, clean, tools=tools, add_generation_prompt=True)
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
