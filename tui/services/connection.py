"""A profile turned into a live `AsyncOpenAI` client, plus the health the status bar shows.

    connection = connection_for()            # selected profile (see profiles.select_profile)
    connection.add_listener(status_bar.show) # called with a ConnectionHealth on every change
    client = await connection.client()       # AsyncOpenAI / AsyncAzureOpenAI, created once
    page = await client.fine_tuning.jobs.list(limit=20)
    ...
    await connection.aclose()                # closes the client, stops a server we started

`client()` imports openai lazily, raises `ConnectionUnavailable` (a `ServiceError` with a hint)
when the profile cannot work (no key, local extra missing) and, for the `local` profile, starts
or reuses the embedded `ft-tui serve`. Switching profiles means a new `Connection`.

Services report what they saw with `report_success()` / `report_failure(exc, retry_in)`, which
moves the health between `ok`, `degraded` (retrying, with the reason and the next retry time)
and `down`. Listeners run synchronously on the caller's thread and must not raise (an exception
in a listener is swallowed so one broken widget cannot stop polling).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from tui.services.errors import ServiceError, describe_error, is_retryable
from tui.services.local_server import LocalServer, LocalServerUnavailable
from tui.services.profiles import Profile, list_profiles, select_profile

if TYPE_CHECKING:
    from openai import AsyncOpenAI

__all__ = [
    "Connection",
    "ConnectionHealth",
    "ConnectionUnavailable",
    "connection_for",
    "list_profiles",
]

HealthState = Literal["idle", "ok", "connecting", "degraded", "down"]
OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"


class ConnectionUnavailable(ServiceError):
    """The profile cannot produce a client (no key, local server cannot run…)."""

    title = "No connection"


@dataclass(frozen=True)
class ConnectionHealth:
    state: HealthState
    reason: str = ""
    backoff: float | None = None  # seconds between the failure and the next retry
    retry_at: float | None = None  # time.time() of the next retry

    @classmethod
    def idle(cls) -> ConnectionHealth:
        """Nothing asked for the backend yet (the local server starts on first use)."""
        return cls("idle")

    @classmethod
    def ok(cls) -> ConnectionHealth:
        return cls("ok")

    @classmethod
    def connecting(cls, reason: str = "") -> ConnectionHealth:
        return cls("connecting", reason)

    @classmethod
    def degraded(cls, reason: str, backoff: float) -> ConnectionHealth:
        return cls("degraded", reason, backoff, time.time() + backoff)

    @classmethod
    def down(cls, reason: str) -> ConnectionHealth:
        return cls("down", reason)

    def label(self, now: float | None = None) -> str:
        """Short text for a status bar, e.g. ``degraded: Too many requests, retry in 4s``."""
        if self.state == "ok":
            return "ok"
        if self.state == "idle":
            return "not connected yet"
        text = f"{self.state}: {self.reason}" if self.reason else self.state
        if self.retry_at is not None:
            left = max(0.0, self.retry_at - (time.time() if now is None else now))
            text += f", retry in {left:.0f}s"
        return text

    def describe(self) -> str:
        return self.label()


HealthListener = Callable[[ConnectionHealth], None]


class Connection:
    def __init__(
        self,
        profile: Profile,
        *,
        max_retries: int = 2,
        timeout: float = 60.0,
        local_server: LocalServer | None = None,
    ) -> None:
        self.profile = profile
        self.max_retries = max_retries
        self.timeout = timeout
        self._health = ConnectionHealth.idle()
        self._listeners: list[HealthListener] = []
        self._client: AsyncOpenAI | None = None
        self._lock: asyncio.Lock | None = None
        self.local_server: LocalServer | None = local_server
        if profile.is_local and self.local_server is None:
            self.local_server = LocalServer(
                profile.local_data_dir, profile.port, extra_args=profile.local_server_args
            )

    # -- health -------------------------------------------------------------------------------
    @property
    def health(self) -> ConnectionHealth:
        return self._health

    def add_listener(self, cb: HealthListener) -> None:
        self._listeners.append(cb)

    def _set_health(self, health: ConnectionHealth) -> None:
        if health == self._health:
            return
        self._health = health
        for listener in list(self._listeners):
            with contextlib.suppress(Exception):
                listener(health)

    def report_success(self) -> None:
        if self._health.state != "ok":
            self._set_health(ConnectionHealth.ok())

    def report_failure(self, exc: BaseException, retry_in: float | None = None) -> None:
        """A request failed: degraded when it will be retried, down when it cannot succeed."""
        message = describe_error(exc)
        reason = message.title if not message.detail else f"{message.title} ({message.detail})"
        if is_retryable(exc):
            if retry_in is not None:
                self._set_health(ConnectionHealth.degraded(reason, retry_in))
            else:
                self._set_health(ConnectionHealth.down(reason))
        elif message.status in (401, 403) or isinstance(exc, ServiceError):
            self._set_health(ConnectionHealth.down(reason))
        elif message.status is not None:  # the server answered (404, 400…): the link is fine
            self.report_success()

    # -- client -------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        p = self.profile
        if p.is_local:
            info = self.local_server.info if self.local_server else None
            return info.base_url if info else "(local server, not started)"
        return p.base_url or p.azure_endpoint or OPENAI_DEFAULT_BASE_URL

    async def client(self) -> AsyncOpenAI:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._client is not None and (
                self.local_server is None or self.local_server.alive()
            ):
                return self._client
            if self._client is not None:  # the local server went away: start a fresh one
                await self._close_client()
            self._client = await self._make_client()
            self.report_success()
            return self._client

    async def _make_client(self) -> AsyncOpenAI:
        profile = self.profile
        if profile.is_local:
            assert self.local_server is not None
            self._set_health(ConnectionHealth.connecting("starting the local server"))
            try:
                info = await self.local_server.ensure()
            except LocalServerUnavailable as exc:
                self._set_health(ConnectionHealth.down(str(exc)))
                raise
            from openai import AsyncOpenAI

            return AsyncOpenAI(
                base_url=info.base_url,
                api_key=info.api_key,
                max_retries=self.max_retries,
                timeout=self.timeout,
            )
        key = profile.api_key()
        if key is None:
            reason = f"${profile.api_key_env} is not set"
            self._set_health(ConnectionHealth.down(reason))
            raise ConnectionUnavailable(
                f"profile {profile.name!r} has no API key: {reason}",
                f"export {profile.api_key_env}=… or pick another profile",
            )
        if profile.kind == "azure":
            from openai import AsyncAzureOpenAI

            assert profile.azure_endpoint is not None
            return AsyncAzureOpenAI(
                azure_endpoint=profile.azure_endpoint,
                api_version=profile.api_version,
                azure_deployment=profile.azure_deployment,
                api_key=key,
                max_retries=self.max_retries,
                timeout=self.timeout,
            )
        from openai import AsyncOpenAI

        return AsyncOpenAI(
            base_url=profile.base_url or OPENAI_DEFAULT_BASE_URL,
            api_key=key,
            organization=profile.organization,
            project=profile.project,
            max_retries=self.max_retries,
            timeout=self.timeout,
        )

    async def check(self) -> ConnectionHealth:
        """One cheap request (`models.list`) to learn whether the backend answers."""
        try:
            client = await self.client()
            await client.with_options(max_retries=0).models.list()
        except Exception as exc:  # every failure becomes a health state, never a traceback
            self.report_failure(exc)
        else:
            self.report_success()
        return self._health

    async def _close_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.close()

    async def aclose(self) -> None:
        await self._close_client()
        if self.local_server is not None:
            await self.local_server.stop()
        self._set_health(ConnectionHealth.down("closed"))


def connection_for(profile_name: str | None = None) -> Connection:
    """A Connection for the named profile, or the selected one. Raises `ProfileError`."""
    return Connection(select_profile(profile_name))
