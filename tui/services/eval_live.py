"""An eval run as the app drives it: started (or resumed) from the Eval screen, streaming its
rows to whoever watches, cancellable at any moment and resumable later from the store. Also the
model choices of every profile for the new-run form. No Textual.

    live = LiveRun(store, spec)                # or LiveRun(store, resume_run_id=…)
    live.listen(lambda live, row: …)           # row None: started / finished
    summary = await live.run()                 # in a worker; live.cancel() stops it
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tui.services.eval.types import EvalError, EvalSpec, ModelRef, RowResult, RunSummary

if TYPE_CHECKING:
    from tui.services.connection import Connection
    from tui.services.eval.store import EvalStore

log = logging.getLogger("ft-tui.eval")

Listener = Callable[["LiveRun", RowResult | None], None]
PROFILE_LIST_TIMEOUT_S = 20.0


class LiveRun:
    """One run in progress in this app. `rows` grows as rows finish (resumed runs start with
    the rows stored earlier); `summary` is the latest aggregate."""

    def __init__(
        self,
        store: EvalStore,
        spec: EvalSpec | None = None,
        *,
        resume_run_id: str | None = None,
    ) -> None:
        if spec is None and resume_run_id is None:
            raise ValueError("a spec or a run id to resume")
        self.store = store
        self.spec = spec
        self.run_id = resume_run_id
        self.rows: list[RowResult] = []
        self.summary: RunSummary | None = None
        self.examples = 0
        self.error: str | None = None
        self.finished = False
        self._cancel = asyncio.Event()
        self._listeners: list[Listener] = []

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def done(self) -> int:
        return len(self.rows)

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(self, row)` per finished row (`row` None on start and at the end);
        returns the function that stops listening."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def cancel(self) -> None:
        self._cancel.set()

    def _emit(self, row: RowResult | None) -> None:
        for listener in list(self._listeners):
            try:
                listener(self, row)
            except Exception:  # a closed view must not stop the run
                log.exception("eval listener failed")

    def _started(self, run_id: str, examples: int, _already: int) -> None:
        self.run_id, self.examples = run_id, examples
        if self.rows == [] and _already:
            self.rows = self.store.rows(run_id)
        self.summary = self.store.get_run(run_id) if _already else self.store.get_run_meta(run_id)
        self.summary.examples = examples
        self._emit(None)

    def _row(self, row: RowResult, summary: RunSummary) -> None:
        self.rows.append(row)
        self.summary = summary
        self._emit(row)

    async def run(self) -> RunSummary:
        """Run to the end (or until `cancel()`); raises `EvalError` for bad input."""
        from tui.services.eval.runner import run_eval

        spec = self.spec if self.spec is not None else self.store.spec(str(self.run_id))
        try:
            self.summary = await run_eval(
                spec,
                store=self.store,
                resume_run_id=self.run_id,
                on_row=self._row,
                on_start=self._started,
                cancel=self._cancel,
            )
            return self.summary
        except EvalError as exc:
            self.error = str(exc)
            raise
        finally:
            self.finished = True
            if self.run_id is not None:
                with contextlib.suppress(EvalError):
                    self.summary = self.store.get_run(self.run_id)
            self._emit(None)


@dataclass(frozen=True)
class ModelOption:
    """A model the form offers: its reference (profile None: the default profile) and where
    it comes from."""

    ref: ModelRef
    kind: str
    profile: str

    @property
    def label(self) -> str:
        return self.ref.label


def profile_names(active: str) -> list[str]:
    """Every profile's name, the active one first."""
    from tui.services.profiles import list_profiles

    names = [active]
    with contextlib.suppress(Exception):
        names += [p.name for p in list_profiles() if p.name != active]
    return names


def default_profile_name() -> str:
    """The profile `ModelRef(None, …)` resolves to (the settings' or environment's choice)."""
    from tui.services.profiles import select_profile

    with contextlib.suppress(Exception):
        return select_profile(None).name
    return ""


async def profile_models(conn: Connection) -> list[ModelOption]:
    """The chat models of one profile's backend. Models of the default profile are given
    without a profile, the others as `PROFILE=MODEL`. Raises what the backend raises."""
    from tui.services.chat import list_model_choices

    name = conn.profile.name
    client = await conn.client()
    choices = await asyncio.wait_for(list_model_choices(client), PROFILE_LIST_TIMEOUT_S)
    profile = None if name == default_profile_name() else name
    return [ModelOption(ModelRef(profile, c.id), c.kind, name) for c in choices]


def parse_models(texts: Sequence[str]) -> list[ModelRef]:
    """Model references typed by the user (`MODEL` or `PROFILE=MODEL`); raises `EvalError`."""
    refs = [ModelRef.parse(t) for t in texts if t.strip()]
    if not refs:
        raise EvalError("Pick at least one model.")
    if len({r.label for r in refs}) != len(refs):
        raise EvalError("A model is picked twice.")
    return refs
