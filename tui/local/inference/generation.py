"""One padded `model.generate` call for a batch of chat choices, streamed out token by token.

transformers' `generate` does the decoding (KV cache, greedy / temperature / top-p sampling, the
model's own `generation_config`, end-of-turn ids). Two small hooks of its public API do what it
cannot know about:

* `StepScores` (a `LogitsProcessor`) sees each step's logits before sampling: it records log
  probabilities when a choice asked for them, and turns a row with non-finite logits (a broken
  adapter) into a clean error instead of torch's "probability tensor contains inf/nan".
* `RowControl` (a `StoppingCriteria`) is called once per step with the new tokens. Per row it
  decodes the text incrementally, cuts at stop strings, counts each choice's own token limit,
  honours cancellation (a client that left), hands text to the request's queue, and tells
  `generate` which rows are done. A `BaseStreamer` would see the same tokens, but transformers 5
  calls it after the stopping check, so a stop string or a cancel would cost one more step.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tui.local.inference.sampling import StopMatcher
from tui.local.inference.types import (
    Finish,
    FinishReason,
    GenerationParams,
    InferenceError,
    Item,
    Piece,
    TokenLogprob,
    TopLogprob,
    Usage,
)


@dataclass
class Request:
    """One request in a batch: its prompt, settings and where its items go."""

    prompt: list[int]
    params: GenerationParams
    limit: int  # most new tokens for each of its choices
    emit: Callable[[Item | InferenceError], None]
    cancel: threading.Event
    model: str = ""
    completion_tokens: int = 0
    open_choices: int = 0
    first_finish: FinishReason | None = None
    failed: bool = False

    def usage(self) -> Usage:
        return Usage(
            prompt_tokens=len(self.prompt),
            completion_tokens=self.completion_tokens,
            finish_reason=self.first_finish or "stop",
        )


@dataclass
class Row:
    """One choice of one request: a row of the batch."""

    request: Request
    index: int
    matcher: StopMatcher
    ids: list[int] = field(default_factory=list)
    prefix: int = 0  # incremental decoding window: ids[prefix:read] is already text
    read: int = 0
    text: str = ""
    count: int = 0
    done: bool = False
    pending: list[TokenLogprob] = field(default_factory=list)


class Detokenizer:
    """Text of a growing token list, one small window at a time (no re-decoding of the whole
    answer per token); holds back a trailing incomplete UTF-8 character."""

    def __init__(self, tokenizer: Any) -> None:
        self._tokenizer = tokenizer

    def step(self, row: Row) -> str:
        decode = self._tokenizer.decode
        before: str = decode(row.ids[row.prefix : row.read], skip_special_tokens=True)
        after: str = decode(row.ids[row.prefix :], skip_special_tokens=True)
        if len(after) <= len(before) or after.endswith("\ufffd"):
            return ""
        row.prefix, row.read = row.read, len(row.ids)
        return after[len(before) :]

    def rest(self, row: Row) -> str:
        """At the end: whatever is still held back, an incomplete character included (shown as
        U+FFFD, as a plain `decode` of the answer shows it)."""
        decode = self._tokenizer.decode
        before: str = decode(row.ids[row.prefix : row.read], skip_special_tokens=True)
        after: str = decode(row.ids[row.prefix :], skip_special_tokens=True)
        row.prefix = row.read = len(row.ids)
        return after[len(before) :] if len(after) > len(before) else ""

    def token(self, token_id: int) -> tuple[str, list[int]]:
        text = self._tokenizer.decode([token_id], skip_special_tokens=False)
        return text, list(text.encode("utf-8", errors="replace"))


class StepScores:
    """A `LogitsProcessor`: non-finite rows are forced to end; log probabilities are kept."""

    def __init__(self, end_id: int, top_k: int, keep_logprobs: bool) -> None:
        self._end_id = end_id
        self._top_k = top_k
        self._keep = keep_logprobs
        self.bad: set[int] = set()
        self.logprobs: Any = None
        self.top: Any = None

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        # -inf is how processors mask tokens; NaN, +inf or nothing left to pick is breakage.
        # One reduction tells all three: the row maximum is NaN (max propagates it), +inf or -inf.
        finite = torch.isfinite(scores.amax(dim=-1))
        if not bool(finite.all()):
            for row in (~finite).nonzero().flatten().tolist():
                self.bad.add(int(row))
            scores = scores.clone()
            scores[~finite] = float("-inf")
            scores[~finite, self._end_id] = 0.0
        if self._keep:
            self.logprobs = torch.log_softmax(scores.float(), dim=-1)
            if self._top_k:
                self.top = torch.topk(self.logprobs, self._top_k, dim=-1)
        return scores


class RowControl:
    """A `StoppingCriteria` that streams each row out and stops it when its choice is over."""

    def __init__(
        self, rows: list[Row], tokenizer: Any, end_ids: set[int], scores: StepScores
    ) -> None:
        self.rows = rows
        self._end_ids = end_ids
        self._scores = scores
        self._detok = Detokenizer(tokenizer)

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        tokens = input_ids[:, -1].tolist()
        for position, (row, token) in enumerate(zip(self.rows, tokens, strict=True)):
            if not row.done:
                self._advance(position, row, int(token))
        return torch.tensor([row.done for row in self.rows], device=input_ids.device)

    def _advance(self, position: int, row: Row, token: int) -> None:
        request = row.request
        if request.failed or request.cancel.is_set():
            self._finish(row, "stop", flush=False)
            return
        if position in self._scores.bad:
            self._fail(request, len(row.ids) + 1)
            return
        row.count += 1
        request.completion_tokens += 1
        if token in self._end_ids:
            self._finish(row, "stop")
            return
        row.ids.append(token)
        if request.params.logprobs:
            row.pending.append(self._logprob(position, token, request.params.top_logprobs))
        delta = self._detok.step(row)
        if delta:
            row.text += delta
            safe, stopped = row.matcher.feed(row.text)
            if safe or (row.pending and not stopped):
                self._emit(row, safe)
            if stopped:
                self._finish(row, "stop", flush=False)
                return
        if row.count >= request.limit:
            self._finish(row, "length")

    def finish_all(self) -> None:
        """After `generate` returned: rows still open ran out of tokens."""
        for row in self.rows:
            if not row.done:
                self._finish(row, "length")

    def _logprob(self, position: int, token: int, top_k: int) -> TokenLogprob:
        text, raw = self._detok.token(token)
        value = float(self._scores.logprobs[position, token])
        top: tuple[TopLogprob, ...] = ()
        if top_k and self._scores.top is not None:
            values = self._scores.top.values[position, :top_k].tolist()
            indices = self._scores.top.indices[position, :top_k].tolist()
            top = tuple(
                _top(self._detok.token(int(i)), float(v))
                for i, v in zip(indices, values, strict=True)
            )
        return TokenLogprob(token=text, logprob=value, bytes=raw, top=top)

    def _emit(self, row: Row, text: str) -> None:
        pending, row.pending = tuple(row.pending), []
        row.request.emit(Piece(row.index, text, pending))

    def _finish(self, row: Row, reason: FinishReason, *, flush: bool = True) -> None:
        request = row.request
        if flush and not row.matcher.stopped:
            tail = self._detok.rest(row)
            if tail:
                row.text += tail
                safe, _ = row.matcher.feed(row.text)
                if safe:
                    self._emit(row, safe)
        if flush and not row.matcher.stopped:
            rest = row.matcher.flush()
            if rest or row.pending:
                self._emit(row, rest)
        elif row.pending and not request.failed:
            self._emit(row, "")
        row.done = True
        if request.failed:
            return
        request.emit(Finish(row.index, reason))
        if row.index == 0:
            request.first_finish = reason
        request.open_choices -= 1
        if request.open_choices == 0:
            request.emit(request.usage())

    def _fail(self, request: Request, step: int) -> None:
        request.failed = True
        for row in self.rows:
            if row.request is request:
                row.done = True
        name = f"{request.model!r} " if request.model else ""
        request.emit(
            InferenceError(
                "non_finite_logits",
                f"The model {name}produced non-finite scores (NaN or infinity) at token {step}, "
                "so it cannot answer. Its weights are broken, as a fine-tune that diverged "
                "leaves them: retrain it with a lower learning_rate_multiplier.",
                status=500,
            )
        )


def _top(decoded: tuple[str, list[int]], value: float) -> TopLogprob:
    return TopLogprob(token=decoded[0], logprob=value, bytes=decoded[1])


def run_batch(
    model: Any,
    tokenizer: Any,
    device: Any,
    end_ids: set[int],
    requests: list[Request],
) -> None:
    """Generate every choice of `requests` (same model, adapter and sampling settings) in one
    left-padded `generate` call; items go to each request's `emit`."""
    import torch

    rows = [
        Row(request=r, index=i, matcher=StopMatcher(r.params.stop))
        for r in requests
        for i in range(r.params.n)
    ]
    for request in requests:
        request.open_choices = request.params.n
    width = max(len(r.prompt) for r in requests)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else min(end_ids)
    input_ids = torch.full((len(rows), width), pad, dtype=torch.long)
    attention = torch.zeros((len(rows), width), dtype=torch.long)
    for position, row in enumerate(rows):
        prompt = row.request.prompt
        input_ids[position, width - len(prompt) :] = torch.tensor(prompt)
        attention[position, width - len(prompt) :] = 1
    params = requests[0].params
    top_k = max(r.params.top_logprobs for r in requests)
    scores = StepScores(min(end_ids), top_k, keep_logprobs=any(r.params.logprobs for r in requests))
    control = RowControl(rows, tokenizer, end_ids, scores)
    config = _generation_config(model, params, max(r.limit for r in requests), end_ids, pad)
    if params.seed is not None and params.temperature > 0:
        torch.manual_seed(params.seed % 2**64)
    from transformers import LogitsProcessorList, StoppingCriteriaList

    with torch.inference_mode():
        model.generate(
            input_ids=input_ids.to(device),
            attention_mask=attention.to(device),
            generation_config=config,
            logits_processor=LogitsProcessorList([scores]),
            stopping_criteria=StoppingCriteriaList([control]),
        )
    control.finish_all()


def _generation_config(
    model: Any, params: GenerationParams, max_new_tokens: int, end_ids: set[int], pad: int
) -> Any:
    import copy

    from transformers import GenerationConfig

    base = getattr(model, "generation_config", None)
    config: Any = copy.deepcopy(base) if isinstance(base, GenerationConfig) else None
    if config is None:
        factory: Any = GenerationConfig
        config = factory()
    config.max_new_tokens = max_new_tokens
    config.max_length = None
    config.min_new_tokens = None
    config.min_length = 0
    config.eos_token_id = sorted(end_ids)
    config.pad_token_id = pad
    config.num_return_sequences = 1
    config.num_beams = 1
    config.return_dict_in_generate = False
    config.output_scores = False
    config.output_logits = False
    config.stop_strings = None
    if params.temperature > 0:
        config.do_sample = True
        config.temperature = params.temperature
        config.top_p = params.top_p if params.top_p < 1 else None
    else:
        config.do_sample = False
        for name in ("temperature", "top_p", "top_k", "min_p", "typical_p", "top_h"):
            if hasattr(config, name):
                setattr(config, name, None)
    return config
