"""The models a backend offers, joined with the fine-tuning jobs that made them. No Textual.

`GET /models` lists base and fine-tuned models (the local server adds checkpoints); OpenAI lists
checkpoints only per job, so the checkpoints of the newest succeeded jobs are fetched too. The job
that made a model comes from the model's extra fields when the backend sends one, else from
matching `fine_tuned_model` of the jobs. Fine-tuned models live until their base model's shutdown
date, so they inherit it when they carry none themselves.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from tui.core.model_names import (
    BASE,
    CHECKPOINT,
    FINE_TUNED,
    ModelKind,
    checkpoint_step,
    fine_tune_base,
    model_kind,
    parse_shutdown_date,
    shutdown_date_for,
)

if TYPE_CHECKING:
    from openai import AsyncOpenAI

log = logging.getLogger("ft-tui.models")

UNSERVED_WINDOW = 3600  # seconds after a job's success during which a missing model is "coming"
_JOB_KEYS = ("fine_tuning_job_id", "job_id", "job")
_BASE_KEYS = ("parent", "root", "base_model")


@dataclass(frozen=True)
class ModelEntry:
    id: str
    kind: ModelKind
    owned_by: str
    created: int
    base: str | None = None
    job_id: str | None = None
    shutdown_date: date | None = None
    inherited_date: bool = False
    step: int | None = None
    served: bool = True
    """False for the model of a job that just succeeded but is not listed by the server yet."""

    @property
    def deletable(self) -> bool:
        return self.kind == FINE_TUNED and self.served

    def days_left(self, today: date) -> int | None:
        return None if self.shutdown_date is None else (self.shutdown_date - today).days


@dataclass
class ModelInventory:
    entries: list[ModelEntry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Why some columns may be incomplete (e.g. the backend refused to list jobs)."""

    def find(self, model_id: str) -> ModelEntry | None:
        return next((entry for entry in self.entries if entry.id == model_id), None)


def _extra(obj: Any, keys: tuple[str, ...]) -> str | None:
    extra = getattr(obj, "model_extra", None) or {}
    for key in keys:
        value = extra.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _shutdown_date(model: Any, extra: dict[str, Any]) -> date | None:
    """OpenAI's `shutdown_date`, else Azure's `deprecation.inference` (unix seconds)."""
    found = parse_shutdown_date(getattr(model, "shutdown_date", None))
    deprecation = extra.get("deprecation")
    if found is None and isinstance(deprecation, dict):
        found = parse_shutdown_date(deprecation.get("inference"))
    return found


@dataclass
class _JobFacts:
    job_of_model: dict[str, str] = field(default_factory=dict)
    base_of_model: dict[str, str] = field(default_factory=dict)
    succeeded: list[tuple[str, str]] = field(default_factory=list)
    """(job id, fine-tuned model) of succeeded jobs, newest first."""
    finished_at: dict[str, int] = field(default_factory=dict)
    """Fine-tuned model -> when its job finished."""


class ModelInventoryService:
    """Lists, joins and deletes models through the `openai` SDK's async client."""

    def __init__(
        self,
        client: AsyncOpenAI,
        *,
        max_jobs: int = 200,
        checkpoint_jobs: int = 10,
        deleted: set[str] | None = None,
    ) -> None:
        self.client = client
        # Models deleted in this session: their jobs still name them, so without this they would
        # come back as "not served yet" until the window passes. Share the set across instances.
        self.deleted = deleted if deleted is not None else set()
        self.max_jobs = max_jobs
        self.checkpoint_jobs = checkpoint_jobs

    async def load(self) -> ModelInventory:
        inventory = ModelInventory()
        page = await self.client.models.list()
        raw = list(page.data)
        facts = await self._job_facts(inventory)
        checkpoints = await self._checkpoints(facts, inventory)
        listed = {str(m.id) for m in raw}
        by_checkpoint = {c.id: c for c in checkpoints}
        entries = [_with_checkpoint(self._entry(m, facts), by_checkpoint) for m in raw]
        entries += [c for c in checkpoints if c.id not in listed]
        entries += _not_served_yet(facts, listed | self.deleted, time.time())
        inventory.entries = _inherit_dates(entries)
        inventory.entries = _ordered(inventory.entries)
        return inventory

    def _entry(self, model: Any, facts: _JobFacts) -> ModelEntry:
        model_id = str(model.id)
        extra = getattr(model, "model_extra", None) or {}
        declared = extra.get("kind")
        kind: ModelKind = model_kind(model_id)
        for known in (BASE, FINE_TUNED, CHECKPOINT):
            if declared == known:  # the local server says what each model is
                kind = known
        step = extra.get("step")
        base = fine_tune_base(model_id) or facts.base_of_model.get(model_id)
        if kind == BASE:
            base = None
        elif base is None:
            base = _extra(model, _BASE_KEYS)
        job_id = _extra(model, _JOB_KEYS) or facts.job_of_model.get(model_id)
        return ModelEntry(
            id=model_id,
            kind=kind,
            owned_by=str(getattr(model, "owned_by", "") or ""),
            created=int(getattr(model, "created", 0) or 0),
            base=base,
            job_id=job_id if kind != BASE else None,
            shutdown_date=_shutdown_date(model, extra),
            step=step
            if isinstance(step, int) and kind == CHECKPOINT
            else checkpoint_step(model_id),
        )

    async def _job_facts(self, inventory: ModelInventory) -> _JobFacts:
        facts = _JobFacts()
        after: str | None = None
        seen = 0
        try:
            while seen < self.max_jobs:
                kwargs: dict[str, Any] = {"limit": min(100, self.max_jobs - seen)}
                if after:
                    kwargs["after"] = after
                page = await self.client.fine_tuning.jobs.list(**kwargs)
                for job in page.data:
                    model = job.fine_tuned_model
                    if model:
                        facts.job_of_model[model] = job.id
                        facts.base_of_model[model] = job.model
                        if job.status == "succeeded":
                            facts.succeeded.append((job.id, model))
                            facts.finished_at[model] = int(job.finished_at or 0)
                seen += len(page.data)
                if not page.data or not getattr(page, "has_more", False):
                    break
                after = page.data[-1].id
        except Exception as exc:  # models still list without job details
            log.warning("listing jobs for the models view failed: %s", exc)
            inventory.notes.append(f"jobs not listed ({type(exc).__name__}); job column partial")
        return facts

    async def _checkpoints(self, facts: _JobFacts, inventory: ModelInventory) -> list[ModelEntry]:
        entries: list[ModelEntry] = []
        for job_id, model in facts.succeeded[: self.checkpoint_jobs]:
            try:
                page = await self.client.fine_tuning.jobs.checkpoints.list(job_id, limit=100)
            except Exception as exc:
                log.warning("checkpoints of %s not listed: %s", job_id, exc)
                inventory.notes.append(f"checkpoints of {job_id} not listed")
                continue
            for ckpt in page.data:
                name = ckpt.fine_tuned_model_checkpoint
                if not name or name == model:
                    continue  # the last checkpoint is often the final model itself
                entries.append(
                    ModelEntry(
                        id=name,
                        kind=CHECKPOINT,
                        owned_by="",
                        created=int(ckpt.created_at),
                        base=fine_tune_base(name) or facts.base_of_model.get(model),
                        job_id=job_id,
                        step=int(ckpt.step_number),
                    )
                )
        return entries

    async def delete(self, model_id: str) -> bool:
        result = await self.client.models.delete(model_id)
        self.deleted.add(model_id)
        return bool(getattr(result, "deleted", True))


def _not_served_yet(facts: _JobFacts, listed: set[str], now: float) -> list[ModelEntry]:
    """Models of jobs that succeeded within `UNSERVED_WINDOW` but are not listed yet: a new
    fine-tune can take minutes to be served. Older absences are deleted models, not shown."""
    return [
        ModelEntry(
            id=model,
            kind=FINE_TUNED,
            owned_by="",
            created=facts.finished_at.get(model, 0),
            base=fine_tune_base(model) or facts.base_of_model.get(model),
            job_id=job_id,
            served=False,
        )
        for job_id, model in facts.succeeded
        if model not in listed and now - facts.finished_at.get(model, 0) <= UNSERVED_WINDOW
    ]


def _with_checkpoint(entry: ModelEntry, checkpoints: dict[str, ModelEntry]) -> ModelEntry:
    """A listed checkpoint model gets its job and step from the job's checkpoint list."""
    known = checkpoints.get(entry.id)
    if known is None:
        return entry
    return replace(
        entry,
        kind=CHECKPOINT,
        job_id=entry.job_id or known.job_id,
        step=entry.step if entry.step is not None else known.step,
        base=entry.base or known.base,
    )


def _inherit_dates(entries: list[ModelEntry]) -> list[ModelEntry]:
    dates = {e.id: e.shutdown_date for e in entries if e.kind == BASE and e.shutdown_date}
    result: list[ModelEntry] = []
    for entry in entries:
        if entry.shutdown_date is None and entry.base:
            inherited = shutdown_date_for(entry.base, dates)
            if inherited:
                entry = replace(entry, shutdown_date=inherited, inherited_date=True)
        result.append(entry)
    return result


def _ordered(entries: list[ModelEntry]) -> list[ModelEntry]:
    """Fine-tuned models newest first, each followed by its checkpoints; base models last."""
    tuned = sorted((e for e in entries if e.kind == FINE_TUNED), key=lambda e: -e.created)
    checkpoints = sorted((e for e in entries if e.kind == CHECKPOINT), key=lambda e: -(e.step or 0))
    bases = sorted((e for e in entries if e.kind == BASE), key=lambda e: e.id)
    ordered: list[ModelEntry] = []
    placed: set[str] = set()
    for model in tuned:
        ordered.append(model)
        for ckpt in checkpoints:
            if model.job_id and ckpt.job_id == model.job_id:
                ordered.append(ckpt)
                placed.add(ckpt.id)
    ordered += [c for c in checkpoints if c.id not in placed]
    return ordered + bases
