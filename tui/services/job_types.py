"""Plain, immutable views of jobs, events, checkpoints and models (no pydantic, no Textual).

Built from SDK objects (`from_sdk`) or from wire/cached dicts (`from_wire`), so the screens, the
cache and the tests share one shape. Unknown statuses (`paused`) and event types
(`moderation_checks`) pass through as strings; `error: {}` on a healthy job becomes `error=None`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tui.core.job_status import is_terminal
from tui.core.model_names import (
    FineTunedName,
    days_left,
    parse_model_name,
    shutdown_label,
    today_utc,
)

Json = dict[str, Any]


def _dump(obj: Any) -> Json:
    """An SDK model (or a dict) as a JSON-ready dict, extra fields included."""
    if isinstance(obj, Mapping):
        return dict(obj)
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        result = dump(mode="json")
        if isinstance(result, dict):
            return result
    raise TypeError(f"cannot read {type(obj).__name__} as an API object")


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class JobError:
    code: str
    message: str
    param: str | None

    @classmethod
    def from_wire(cls, value: Any) -> JobError | None:
        """None for null, `{}` and all-null errors (healthy jobs send those)."""
        if not isinstance(value, Mapping):
            return None
        code, message = _str(value.get("code")), _str(value.get("message"))
        if code is None and message is None:
            return None
        return cls(code or "error", message or "", _str(value.get("param")))


@dataclass(frozen=True)
class JobInfo:
    id: str
    status: str
    model: str
    created_at: int
    fine_tuned_model: str | None = None
    finished_at: int | None = None
    estimated_finish: int | None = None
    trained_tokens: int | None = None
    training_file: str | None = None
    validation_file: str | None = None
    result_files: tuple[str, ...] = ()
    method: str = "supervised"
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    error: JobError | None = None
    suffix: str | None = None
    seed: int | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_terminal(self) -> bool:
        return is_terminal(self.status)

    @classmethod
    def from_sdk(cls, job: Any) -> JobInfo:
        return cls.from_wire(_dump(job))

    @classmethod
    def from_wire(cls, d: Mapping[str, Any]) -> JobInfo:
        method_obj = d.get("method") if isinstance(d.get("method"), Mapping) else {}
        assert isinstance(method_obj, Mapping)
        method = _str(method_obj.get("type")) or "supervised"
        hyper: Any = None
        inner = method_obj.get(method)
        if isinstance(inner, Mapping):
            hyper = inner.get("hyperparameters")
        if not isinstance(hyper, Mapping):
            hyper = d.get("hyperparameters")
        hyperparameters = {k: v for k, v in (hyper or {}).items() if v is not None}
        metadata = d.get("metadata")
        results = d.get("result_files")
        return cls(
            id=str(d.get("id", "")),
            status=str(d.get("status") or "unknown"),
            model=str(d.get("model") or ""),
            created_at=_int(d.get("created_at")) or 0,
            fine_tuned_model=_str(d.get("fine_tuned_model")),
            finished_at=_int(d.get("finished_at")),
            estimated_finish=_int(d.get("estimated_finish")),
            trained_tokens=_int(d.get("trained_tokens")),
            training_file=_str(d.get("training_file")),
            validation_file=_str(d.get("validation_file")),
            result_files=tuple(str(r) for r in results) if isinstance(results, list) else (),
            method=method,
            hyperparameters=hyperparameters,
            error=JobError.from_wire(d.get("error")),
            suffix=_str(d.get("user_provided_suffix")),
            seed=_int(d.get("seed")),
            metadata=dict(metadata) if isinstance(metadata, Mapping) else {},
            raw=dict(d),
        )


@dataclass(frozen=True)
class EventInfo:
    id: str
    created_at: int
    level: str
    message: str
    type: str
    data: Mapping[str, Any] | None

    @classmethod
    def from_sdk(cls, event: Any) -> EventInfo:
        # Attribute access: 10× cheaper than a full model_dump on long histories.
        data = getattr(event, "data", None)
        return cls(
            id=str(event.id),
            created_at=_int(getattr(event, "created_at", None)) or 0,
            level=str(getattr(event, "level", None) or "info"),
            message=str(getattr(event, "message", None) or ""),
            type=str(getattr(event, "type", None) or "message"),
            data=data if isinstance(data, Mapping) else None,
        )

    @classmethod
    def from_wire(cls, d: Mapping[str, Any]) -> EventInfo:
        data = d.get("data")
        return cls(
            id=str(d.get("id", "")),
            created_at=_int(d.get("created_at")) or 0,
            level=str(d.get("level") or "info"),
            message=str(d.get("message") or ""),
            type=str(d.get("type") or "message"),
            data=data if isinstance(data, Mapping) else None,
        )

    def to_wire(self) -> Json:
        return {
            "id": self.id,
            "created_at": self.created_at,
            "level": self.level,
            "message": self.message,
            "type": self.type,
            "data": self.data,
        }

    @property
    def is_metrics(self) -> bool:
        return self.type == "metrics" and self.data is not None


@dataclass(frozen=True)
class CheckpointInfo:
    id: str
    created_at: int
    step_number: int
    model: str  # fine_tuned_model_checkpoint: usable in chat
    job_id: str
    metrics: Mapping[str, float]

    @classmethod
    def from_sdk(cls, ckpt: Any) -> CheckpointInfo:
        return cls.from_wire(_dump(ckpt))

    @classmethod
    def from_wire(cls, d: Mapping[str, Any]) -> CheckpointInfo:
        metrics = d.get("metrics")
        return cls(
            id=str(d.get("id", "")),
            created_at=_int(d.get("created_at")) or 0,
            step_number=_int(d.get("step_number")) or 0,
            model=str(d.get("fine_tuned_model_checkpoint") or ""),
            job_id=str(d.get("fine_tuning_job_id") or ""),
            metrics={
                k: float(v)
                for k, v in (metrics or {}).items()
                if isinstance(v, int | float) and not isinstance(v, bool)
            },
        )

    def to_wire(self) -> Json:
        return {
            "id": self.id,
            "created_at": self.created_at,
            "step_number": self.step_number,
            "fine_tuned_model_checkpoint": self.model,
            "fine_tuning_job_id": self.job_id,
            "metrics": dict(self.metrics),
        }


@dataclass(frozen=True)
class ModelInfo:
    id: str
    created: int
    owned_by: str
    shutdown_date: str | None

    @classmethod
    def from_sdk(cls, model: Any) -> ModelInfo:
        d = _dump(model)
        return cls(
            id=str(d.get("id", "")),
            created=_int(d.get("created")) or 0,
            owned_by=str(d.get("owned_by") or ""),
            shutdown_date=_str(d.get("shutdown_date")),
        )

    @property
    def fine_tuned(self) -> FineTunedName | None:
        return parse_model_name(self.id)

    def days_left(self, today: date | None = None) -> int | None:
        return days_left(self.shutdown_date, today or today_utc())

    def shutdown_label(self, today: date | None = None) -> str:
        return shutdown_label(self.shutdown_date, today or today_utc())
