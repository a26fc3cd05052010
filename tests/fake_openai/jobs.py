"""Scripted fine-tuning jobs for the fake: each `advance()` moves a job one stage along its life.

Success script (default for jobs created through the API):
    validating_files → queued → running (+ metrics events, `metrics_per_advance` steps per call)
    → paused (half way) → running → succeeded (checkpoints at epoch ends, a `moderation_checks`
    event, the `ft:` model, a base64 result CSV).
Failure script: validating_files → failed with `error.code = "invalid_n_examples"`.
Healthy jobs carry `error: {}` like the real API sometimes does.
"""

from __future__ import annotations

import base64
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]
TERMINAL = frozenset({"succeeded", "failed", "cancelled"})


@dataclass
class FakeJob:
    data: Json
    events: list[Json] = field(default_factory=list)  # oldest first
    event_index: dict[str, int] = field(default_factory=dict)
    checkpoints: list[Json] = field(default_factory=list)  # oldest first
    stages: list[Callable[[FakeJob], None]] = field(default_factory=list)
    held: bool = False  # paused by a request: the script waits for resume

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def status(self) -> str:
        return str(self.data["status"])

    def add_event(
        self,
        message: str,
        *,
        type_: str = "message",
        level: str = "info",
        data: Json | None = None,
        created_at: int | None = None,
    ) -> Json:
        event_id = f"ftevent-{self.id[6:14]}{len(self.events):08d}"
        event = {
            "object": "fine_tuning.job.event",
            "id": event_id,
            "created_at": int(time.time()) if created_at is None else created_at,
            "level": level,
            "message": message,
            "data": data if data is not None else {},
            "type": type_,
        }
        self.event_index[event_id] = len(self.events)
        self.events.append(event)
        return event


def step_metrics(step: int, total_steps: int, steps_per_epoch: int) -> Json:
    """Plausible SFT metrics for one step: validation every 5 steps, full at epoch ends."""
    loss = 2.0 * math.exp(-step / max(1.0, total_steps / 3)) + 0.05 * math.sin(step)
    data: Json = {
        "step": step,
        "total_steps": total_steps,
        "train_loss": round(loss, 6),
        "train_mean_token_accuracy": round(min(0.99, 0.4 + 0.5 * step / total_steps), 6),
    }
    if step % 5 == 0:
        data["valid_loss"] = round(loss * 1.1, 6)
        data["valid_mean_token_accuracy"] = round(min(0.99, 0.38 + 0.5 * step / total_steps), 6)
    if step % steps_per_epoch == 0:
        data["full_valid_loss"] = round(loss * 1.15, 6)
        data["full_valid_mean_token_accuracy"] = round(
            min(0.99, 0.37 + 0.5 * step / total_steps), 6
        )
    return data


def metrics_message(data: Json) -> str:
    text = f"Step {data['step']}/{data['total_steps']}: training loss={data['train_loss']:.2f}"
    if "valid_loss" in data:
        text += f", validation loss={data['valid_loss']:.2f}"
    if "full_valid_loss" in data:
        text += f", full validation loss={data['full_valid_loss']:.2f}"
    return text


@dataclass
class JobPlan:
    total_steps: int = 20
    n_epochs: int = 2
    metrics_per_advance: int = 5
    pause_half_way: bool = True
    suffix: str | None = "demo"

    @property
    def steps_per_epoch(self) -> int:
        return max(1, self.total_steps // self.n_epochs)


def _set(status: str, message: str | None = None, **fields: Any) -> Callable[[FakeJob], None]:
    def stage(job: FakeJob) -> None:
        job.data["status"] = status
        job.data.update(fields)
        if message:
            job.add_event(message)

    return stage


def _metrics(first: int, last: int, plan: JobPlan) -> Callable[[FakeJob], None]:
    def stage(job: FakeJob) -> None:
        for step in range(first, last + 1):
            data = step_metrics(step, plan.total_steps, plan.steps_per_epoch)
            job.add_event(metrics_message(data), type_="metrics", data=data)

    return stage


def result_csv(plan: JobPlan) -> str:
    rows = ["step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy"]
    for step in range(1, plan.total_steps + 1):
        m = step_metrics(step, plan.total_steps, plan.steps_per_epoch)
        rows.append(
            f"{step},{m['train_loss']},{m['train_mean_token_accuracy']},"
            f"{m.get('valid_loss', '')},{m.get('valid_mean_token_accuracy', '')}"
        )
    return "\n".join(rows) + "\n"


def success_stages(
    plan: JobPlan, add_result_file: Callable[[str, bytes], str]
) -> list[Callable[[FakeJob], None]]:
    stages: list[Callable[[FakeJob], None]] = [
        _set("queued", "Files validated, moving job to queued state"),
        _set("running", "Fine-tuning job started", estimated_finish=int(time.time()) + 600),
    ]
    pause_at = plan.total_steps // 2 if plan.pause_half_way else None
    step = 1
    while step <= plan.total_steps:
        last = min(plan.total_steps, step + plan.metrics_per_advance - 1)
        if pause_at is not None and step <= pause_at < last:
            last = pause_at
        stages.append(_metrics(step, last, plan))
        if pause_at is not None and last == pause_at:
            stages.append(_set("paused", "Fine-tuning job paused", estimated_finish=None))
            stages.append(_set("running", "Fine-tuning job resumed"))
        step = last + 1

    def finish(job: FakeJob) -> None:
        base = job.data["model"]
        suffix = plan.suffix or ""
        final = f"ft:{base}:fake-org:{suffix}:{job.id[-8:]}"
        now = int(time.time())
        epoch_ends = [plan.steps_per_epoch * e for e in range(1, plan.n_epochs + 1)]
        for i, ckpt_step in enumerate(epoch_ends[-3:]):
            is_last = ckpt_step == epoch_ends[-1]
            name = (
                final if is_last else f"ft:{base}:fake-org:{suffix}:ck{i:06d}:ckpt-step-{ckpt_step}"
            )
            metrics = step_metrics(ckpt_step, plan.total_steps, plan.steps_per_epoch)
            metrics.pop("total_steps")
            job.checkpoints.append(
                {
                    "object": "fine_tuning.job.checkpoint",
                    "id": f"ftckpt_{job.id[-8:]}{i:04d}",
                    "created_at": now - 60 * (len(epoch_ends) - i),
                    "fine_tuned_model_checkpoint": name,
                    "fine_tuning_job_id": job.id,
                    "step_number": ckpt_step,
                    "metrics": metrics,
                }
            )
            job.add_event(
                f"Checkpoint created at step {ckpt_step} with Snapshot ID: {name}", created_at=now
            )
        job.add_event(
            "Moderation checks passed",
            type_="moderation_checks",
            data={"passed": True, "categories": {"hate": "passed"}},
            created_at=now,
        )
        job.add_event(f"New fine-tuned model created: {final}", created_at=now)
        job.add_event("The job has successfully completed", created_at=now)
        content = base64.b64encode(result_csv(plan).encode("utf-8"))
        file_id = add_result_file("step_metrics.csv", content)
        job.data.update(
            status="succeeded",
            fine_tuned_model=final,
            finished_at=now,
            estimated_finish=None,
            trained_tokens=1234 * plan.total_steps,
            result_files=[file_id],
        )

    stages.append(finish)
    return stages


def failure_stages() -> list[Callable[[FakeJob], None]]:
    def fail(job: FakeJob) -> None:
        message = "Training file has 3 example(s), but must have at least 10 examples"
        job.data.update(
            status="failed",
            finished_at=int(time.time()),
            error={"code": "invalid_n_examples", "message": message, "param": "training_file"},
        )
        job.add_event(message, level="error")

    return [fail]


def new_job_data(
    job_id: str,
    *,
    model: str,
    training_file: str,
    validation_file: str | None,
    suffix: str | None,
    seed: int | None,
    method: Json | None,
    metadata: Json | None,
    plan: JobPlan,
) -> Json:
    method = method or {"type": "supervised"}
    kind = method.get("type", "supervised")
    hyper: Json = {"batch_size": 1, "learning_rate_multiplier": 1.8, "n_epochs": plan.n_epochs}
    requested = (method.get(kind) or {}).get("hyperparameters") or {}
    hyper.update({k: v for k, v in requested.items() if v != "auto"})  # "auto" gets resolved
    method = {"type": kind, kind: {**(method.get(kind) or {}), "hyperparameters": hyper}}
    return {
        "object": "fine_tuning.job",
        "id": job_id,
        "created_at": int(time.time()),
        "error": {},
        "fine_tuned_model": None,
        "finished_at": None,
        "hyperparameters": hyper if kind == "supervised" else None,
        "model": model,
        "organization_id": "org-fake",
        "result_files": [],
        "seed": seed if seed is not None else 683058546,
        "status": "validating_files",
        "trained_tokens": None,
        "training_file": training_file,
        "validation_file": validation_file,
        "estimated_finish": None,
        "integrations": None,
        "metadata": metadata,
        "method": method,
        "user_provided_suffix": suffix,
    }
