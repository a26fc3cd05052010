"""Profiles → clients, with a concurrency limit per backend and retries with backoff.

The SDK's own retries are switched off (`max_retries=0`) so that this module is the single
place that decides: 429, 408, 5xx, timeouts and dropped connections are retried with
exponential backoff (honouring the server's `Retry-After`); anything else fails at once and
becomes an error for that model on that row.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from tui.services.connection import Connection
from tui.services.errors import describe_error, is_retryable, retry_after_seconds
from tui.services.eval.types import Answer, EvalError, ModelRef
from tui.services.profiles import Profile, ProfileError, select_profile

if TYPE_CHECKING:
    from openai import AsyncOpenAI

Sleep = Callable[[float], Awaitable[None]]
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6  # calls in all, including the first
    base_s: float = 0.5
    cap_s: float = 30.0

    def delay(self, attempt: int, exc: BaseException) -> float:
        """Seconds to wait after failed call number `attempt` (1-based)."""
        after = retry_after_seconds(exc)
        if after is not None:
            return after
        backoff = min(self.cap_s, self.base_s * 2 ** (attempt - 1))
        return float(backoff * (0.5 + random.random() / 2))  # jitter: 50-100 %


async def with_retries(
    call: Callable[[], Awaitable[T]], policy: RetryPolicy, sleep: Sleep = asyncio.sleep
) -> T:
    for attempt in range(1, policy.attempts + 1):
        try:
            return await call()
        except Exception as exc:
            if attempt >= policy.attempts or not is_retryable(exc):
                raise
            await sleep(policy.delay(attempt, exc))
    raise AssertionError("unreachable")


def error_text(exc: BaseException) -> str:
    return str(describe_error(exc))


class Backends:
    """One `Connection` and one semaphore per profile used by a run. Close with `aclose()`."""

    def __init__(
        self,
        concurrency: int,
        *,
        policy: RetryPolicy | None = None,
        timeout: float = 600.0,
        connect: Callable[[Profile], Connection] | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.sleep = sleep
        self.concurrency = max(1, concurrency)
        self.policy = policy or RetryPolicy()
        self.timeout = timeout
        # Connections made here are closed by `aclose()`; those from `connect` (e.g. the app's
        # own, shared with its other screens) belong to the caller and stay open.
        self._owns_connections = connect is None
        self._connect = connect or (lambda p: Connection(p, max_retries=0, timeout=self.timeout))
        self._profiles: dict[str | None, Profile] = {}
        self._connections: dict[str, Connection] = {}
        self._limits: dict[str, asyncio.Semaphore] = {}

    def profile(self, ref: ModelRef) -> Profile:
        """The profile `ref` names (None: the selected one). Raises `EvalError`."""
        if ref.profile not in self._profiles:
            try:
                self._profiles[ref.profile] = select_profile(ref.profile)
            except ProfileError as exc:
                raise EvalError(f"--model {ref.label}: {exc}") from None
        return self._profiles[ref.profile]

    async def client(self, ref: ModelRef) -> tuple[AsyncOpenAI, asyncio.Semaphore]:
        profile = self.profile(ref)
        conn = self._connections.get(profile.name)
        if conn is None:
            conn = self._connections[profile.name] = self._connect(profile)
            self._limits[profile.name] = asyncio.Semaphore(self.concurrency)
        return await conn.client(), self._limits[profile.name]

    async def chat(
        self,
        ref: ModelRef,
        messages: list[dict[str, Any]],
        *,
        tools: list[Any] | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        seed: int | None = None,
    ) -> Answer:
        """One non-streamed chat completion; never raises (a failure is `Answer.error`)."""
        try:
            client, limit = await self.client(ref)
        except Exception as exc:
            return Answer(error=error_text(exc))
        kwargs: dict[str, Any] = {"model": ref.model, "messages": messages}
        if tools:
            kwargs["tools"] = tools
        if temperature is not None:
            kwargs["temperature"] = temperature
        if max_tokens is not None:
            kwargs["max_tokens"] = max_tokens
        if seed is not None:
            kwargs["seed"] = seed
        started = 0.0

        async def call() -> Any:
            nonlocal started
            async with limit:
                started = time.perf_counter()
                return await client.chat.completions.create(**kwargs)

        try:
            response = await with_retries(call, self.policy, self.sleep)
        except Exception as exc:
            return Answer(error=error_text(exc))
        latency = time.perf_counter() - started
        if not response.choices:
            return Answer(error="the backend returned no choices", latency_s=latency)
        message = response.choices[0].message
        calls = [c.model_dump(exclude_none=True) for c in message.tool_calls or []]
        usage = response.usage
        return Answer(
            text=message.content,
            tool_calls=calls or None,
            latency_s=round(latency, 4),
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
        )

    async def aclose(self) -> None:
        if not self._owns_connections:
            self._connections.clear()
            return
        for conn in self._connections.values():
            try:
                await conn.aclose()
            except Exception:  # closing must never turn a finished run into a failure
                continue
        self._connections.clear()
