"""Chat completions streamed over `AsyncOpenAI`, with per-turn metrics and errors worded for users.

`stream_reply()` sends one request with `stream=True` and
`stream_options={"include_usage": True}`, hands every text delta to a callback as it arrives and
returns the whole reply with its metrics: tokens in/out (from the final `usage` chunk), time to
first token, tokens per second and, where the price is known, the cost. Failures become
`ChatError`, whose message says what to do next (a fresh fine-tuned model not served yet, rate
limits, a dropped connection…). No Textual here: the chat screen drives it from a worker.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from tui.core.model_names import BASE, model_kind
from tui.services.errors import describe_error, error_fields, retry_after_seconds

if TYPE_CHECKING:
    from openai import AsyncOpenAI

Role = Literal["system", "user", "assistant"]
ErrorKind = Literal[
    "model_not_found", "rate_limited", "connection", "auth", "bad_request", "server", "other"
]
PriceLookup = Callable[[str], "tuple[float, float] | None"]
"""model id -> (USD per input token, USD per output token), or None when unknown."""


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str

    def as_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True)
class ChatSettings:
    """What a reply is generated with; `None` leaves the server's default."""

    model: str
    system_prompt: str = ""
    temperature: float | None = None
    max_tokens: int | None = None


@dataclass(frozen=True)
class TurnMetrics:
    model: str
    prompt_tokens: int | None
    completion_tokens: int | None
    first_token_s: float | None
    """Seconds from sending the request to the first text delta."""
    total_s: float
    cost_usd: float | None = None

    @property
    def tokens_per_second(self) -> float | None:
        """Output tokens per second of generation (after the first token)."""
        if not self.completion_tokens or self.first_token_s is None:
            return None
        generating = self.total_s - self.first_token_s
        if self.completion_tokens < 2 or generating <= 0:
            return None
        return (self.completion_tokens - 1) / generating

    def describe(self) -> str:
        """One line, e.g. `12 → 87 tok · first 0.31 s · 41.2 tok/s · $0.00012`."""
        tokens_in = "?" if self.prompt_tokens is None else str(self.prompt_tokens)
        tokens_out = "?" if self.completion_tokens is None else str(self.completion_tokens)
        parts = [f"{tokens_in} → {tokens_out} tok"]
        if self.first_token_s is not None:
            parts.append(f"first {self.first_token_s:.2f} s")
        rate = self.tokens_per_second
        if rate is not None:
            parts.append(f"{rate:.1f} tok/s")
        else:
            parts.append(f"{self.total_s:.2f} s")
        if self.cost_usd is not None:
            parts.append(format_cost(self.cost_usd))
        return " · ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "first_token_s": self.first_token_s,
            "total_s": self.total_s,
            "cost_usd": self.cost_usd,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TurnMetrics:
        return cls(
            model=str(data.get("model", "")),
            prompt_tokens=_opt_int(data.get("prompt_tokens")),
            completion_tokens=_opt_int(data.get("completion_tokens")),
            first_token_s=_opt_float(data.get("first_token_s")),
            total_s=float(data.get("total_s") or 0.0),
            cost_usd=_opt_float(data.get("cost_usd")),
        )


@dataclass(frozen=True)
class Reply:
    text: str
    metrics: TurnMetrics
    finish_reason: str | None = None

    @property
    def truncated(self) -> bool:
        return self.finish_reason == "length"


class ChatError(Exception):
    """A failed reply, worded for the user. `partial` is the text received before it failed."""

    def __init__(self, kind: ErrorKind, message: str, partial: str = "") -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message
        self.partial = partial

    def __str__(self) -> str:
        return self.message


def format_cost(usd: float) -> str:
    if usd == 0:
        return "$0"
    if usd < 0.01:
        return f"${usd:.5f}"
    return f"${usd:.4f}"


def build_messages(system_prompt: str, history: Sequence[ChatMessage]) -> list[dict[str, str]]:
    """The request's `messages`: the system prompt (when set) and then the turns so far."""
    messages: list[dict[str, str]] = []
    if system_prompt.strip():
        messages.append({"role": "system", "content": system_prompt})
    messages.extend(m.as_dict() for m in history if m.role != "system")
    return messages


def request_arguments(settings: ChatSettings, history: Sequence[ChatMessage]) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "model": settings.model,
        "messages": build_messages(settings.system_prompt, history),
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if settings.temperature is not None:
        arguments["temperature"] = settings.temperature
    if settings.max_tokens is not None:
        arguments["max_tokens"] = settings.max_tokens
    return arguments


async def stream_reply(
    client: AsyncOpenAI,
    settings: ChatSettings,
    history: Sequence[ChatMessage],
    on_text: Callable[[str], Awaitable[None]],
    *,
    price: PriceLookup | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> Reply:
    """Stream one assistant reply to `history` (which ends with the user's turn).

    Raises `ChatError` on any failure; cancelling the calling task closes the HTTP stream.
    """
    started = clock()
    first_token_at: float | None = None
    pieces: list[str] = []
    finish_reason: str | None = None
    usage: Any = None
    try:
        stream = await client.chat.completions.create(**request_arguments(settings, history))
        async with stream:
            async for chunk in stream:
                if chunk.usage is not None:
                    usage = chunk.usage
                for choice in chunk.choices:
                    if choice.finish_reason:
                        finish_reason = choice.finish_reason
                    text = choice.delta.content if choice.delta else None
                    if text:
                        if first_token_at is None:
                            first_token_at = clock()
                        pieces.append(text)
                        await on_text(text)
    except ChatError:
        raise
    except Exception as exc:
        raise classify_error(exc, settings.model, "".join(pieces)) from exc
    total = clock() - started
    prompt_tokens = _opt_int(getattr(usage, "prompt_tokens", None))
    completion_tokens = _opt_int(getattr(usage, "completion_tokens", None))
    metrics = TurnMetrics(
        model=settings.model,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        first_token_s=None if first_token_at is None else first_token_at - started,
        total_s=total,
        cost_usd=turn_cost(settings.model, prompt_tokens, completion_tokens, price),
    )
    return Reply("".join(pieces), metrics, finish_reason)


def turn_cost(
    model: str,
    prompt_tokens: int | None,
    completion_tokens: int | None,
    price: PriceLookup | None,
) -> float | None:
    if price is None or prompt_tokens is None or completion_tokens is None:
        return None
    rates = price(model)
    if rates is None:
        return None
    per_input, per_output = rates
    return prompt_tokens * per_input + completion_tokens * per_output


def classify_error(exc: BaseException, model: str, partial: str = "") -> ChatError:
    """An SDK or transport error as a `ChatError` that says what to do in Chat. The wording of
    every error comes from `services.errors.describe_error`; Chat adds only what is specific to
    it: a missing model can be a fresh fine-tune, and the prompt is kept after a dropped line."""
    message = describe_error(exc)
    status = message.status
    _, code, _ = error_fields(exc)
    if status == 404 or code == "model_not_found":
        hint = (
            "A freshly fine-tuned model can take a few minutes before it is served: "
            "wait a moment and send again, or pick another model (F2)."
            if model_kind(model) != BASE
            else "Pick another model (F2)."
        )
        return ChatError("model_not_found", f"Model {model!r} is not available. {hint}", partial)
    if status is None:
        if message.retryable:  # timeouts and dropped connections
            where = "mid-reply" if partial else "before the reply started"
            text = f"{message}. The connection dropped {where}; your prompt is kept: send again."
            return ChatError("connection", text, partial)
        return ChatError("other", str(message), partial)
    if status == 429:
        if not message.retryable:  # out of quota: waiting does not help
            return ChatError("rate_limited", str(message), partial)
        retry = retry_after_seconds(exc)
        when = f"in {retry:.0f} s" if retry is not None else "in a moment"
        text = f"Rate limited: send again {when}." + (f" ({message.detail})" * bool(message.detail))
        return ChatError("rate_limited", text, partial)
    if status in (401, 403):
        return ChatError("auth", str(message), partial)
    if 400 <= status < 500:
        return ChatError("bad_request", str(message), partial)
    return ChatError("server", f"{message}. Send again.", partial)


def _opt_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _opt_float(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


# -- models to chat with ------------------------------------------------------------------------

_NOT_CHAT = (
    "embedding",
    "whisper",
    "tts",
    "dall-e",
    "moderation",
    "image",
    "transcribe",
    "audio",
    "realtime",
    "search",
    "sora",
    "babbage-002",
    "davinci-002",
)


@dataclass(frozen=True)
class ModelChoice:
    id: str
    kind: str
    """`fine-tuned`, `checkpoint` or `base` (the model inventory's kinds)."""
    created: int
    detail: str = ""


def is_chat_model(model_id: str) -> bool:
    """False for models `/v1/models` lists that cannot chat (embeddings, audio, images…)."""
    lowered = model_id.lower()
    return model_id.startswith("ft:") or not any(word in lowered for word in _NOT_CHAT)


async def list_model_choices(client: AsyncOpenAI) -> list[ModelChoice]:
    """Fine-tuned models newest first (each followed by its checkpoints), then base models."""
    from tui.core.model_names import CHECKPOINT
    from tui.services.model_inventory import ModelInventoryService

    inventory = await ModelInventoryService(client, max_jobs=100, checkpoint_jobs=10).load()
    choices: list[ModelChoice] = []
    for entry in inventory.entries:
        if not is_chat_model(entry.id):
            continue
        if entry.kind == CHECKPOINT:
            detail = f"step {entry.step}" if entry.step is not None else "checkpoint"
        elif entry.job_id:
            detail = entry.job_id
        else:
            detail = entry.owned_by
        if not entry.served:
            detail = "not served yet: a new fine-tune can take minutes to answer"
        choices.append(ModelChoice(entry.id, entry.kind, entry.created, detail))
    return choices


def default_model(choices: Sequence[ModelChoice], fallback: str) -> str:
    """The most recent fine-tuned model, else `fallback` when it is listed, else the first base
    model listed, else `fallback`."""
    from tui.core.model_names import BASE, FINE_TUNED

    tuned = [c for c in choices if c.kind == FINE_TUNED]
    if tuned:
        return max(tuned, key=lambda c: c.created).id
    bases = [c.id for c in choices if c.kind == BASE]
    if fallback in bases or not bases:
        return fallback
    return bases[0]


def chat_price(model: str) -> tuple[float, float] | None:
    """USD per input and output token of a fine-tuned model, from the dated price table."""
    if not model.startswith("ft:"):
        return None  # the table holds fine-tuned inference prices only
    from tui.core.models_catalog import resolve_model

    prices = resolve_model(model).prices
    if prices is None or prices.input_per_1m is None or prices.output_per_1m is None:
        return None
    return prices.input_per_1m / 1_000_000, prices.output_per_1m / 1_000_000


def parse_settings(
    model: str, system_prompt: str, temperature: str, max_tokens: str
) -> ChatSettings:
    """Settings from the screen's fields; raises ValueError with a message naming the field."""
    temp: float | None = None
    if temperature.strip():
        try:
            temp = float(temperature)
        except ValueError:
            raise ValueError(
                f"Temperature must be a number from 0 to 2, got {temperature!r}"
            ) from None
        if not 0 <= temp <= 2:
            raise ValueError(f"Temperature must be from 0 to 2, got {temp:g}")
    limit: int | None = None
    if max_tokens.strip():
        try:
            limit = int(max_tokens)
        except ValueError:
            raise ValueError(f"Max tokens must be a whole number, got {max_tokens!r}") from None
        if limit < 1:
            raise ValueError(f"Max tokens must be at least 1, got {limit}")
    return ChatSettings(model, system_prompt, temp, limit)
