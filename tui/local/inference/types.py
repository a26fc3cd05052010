"""What a chat request asks of an inference driver, and the items a driver answers with.

A driver's `chat(job, cancel)` yields, in order: `Piece`s (text of one choice, with the log
probabilities of the tokens behind it when asked) and one `Finish` per choice, in any
interleaving across choices, then exactly one `Usage`, then ends. Errors are raised as
`InferenceError`; one raised before any `Piece` lets the server still answer with an error status.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

FinishReason = Literal["stop", "length"]


@dataclass(frozen=True)
class GenerationParams:
    max_tokens: int | None
    temperature: float
    top_p: float
    stop: list[str]
    seed: int | None
    n: int = 1
    logprobs: bool = False
    top_logprobs: int = 0


@dataclass
class Usage:
    prompt_tokens: int
    completion_tokens: int
    # The finish reason of choice 0 (kept for single-choice callers); `Finish` has each one.
    finish_reason: FinishReason = "stop"

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class TopLogprob:
    token: str
    logprob: float
    bytes: list[int]


@dataclass(frozen=True)
class TokenLogprob:
    token: str
    logprob: float
    bytes: list[int]
    top: tuple[TopLogprob, ...] = ()


@dataclass(frozen=True)
class Piece:
    index: int
    text: str
    logprobs: tuple[TokenLogprob, ...] = ()


@dataclass(frozen=True)
class Finish:
    index: int
    reason: FinishReason


Item = Piece | Finish | Usage


@dataclass(frozen=True)
class ChatJob:
    """One chat completion request, resolved to model files."""

    model: str  # the id the client asked for: a base model name or an `ft:` name
    base: str  # the base model's name
    model_dir: Path
    adapter_dir: Path | None
    messages: list[dict[str, Any]]
    params: GenerationParams
    tools: list[dict[str, Any]] | None = field(default=None)


class InferenceError(Exception):
    """A request the driver cannot serve; `code` follows OpenAI's error codes where one fits,
    `status` is the HTTP status the server answers with."""

    def __init__(self, code: str, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
