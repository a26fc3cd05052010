"""Request routing of the fake OpenAI server (everything except chat completions)."""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING

from tests.fake_openai.jobs import TERMINAL, FakeJob, JobPlan, Json, new_job_data, success_stages
from tests.fake_openai.state import HTTPError

if TYPE_CHECKING:
    from tests.fake_openai.handler import _Handler
    from tests.fake_openai.server import FakeOpenAI
    from tests.fake_openai.state import FakeState


def _err(status: int, message: str, code: str | None = None, param: str | None = None) -> HTTPError:
    return HTTPError(status, message, code, param)


def _limit(query: dict[str, str], default: int, maximum: int = 10_000) -> int:
    try:
        value = int(query.get("limit", default))
    except ValueError:
        raise _err(400, "limit must be an integer", None, "limit") from None
    if not 1 <= value <= maximum:
        raise _err(400, f"limit must be between 1 and {maximum}", None, "limit")
    return value


def _page(items: list[Json], after: str | None, limit: int) -> Json:
    """A cursor page over items already in the API's order."""
    start = 0
    if after is not None:
        ids = [str(item["id"]) for item in items]
        start = ids.index(after) + 1 if after in ids else len(items)
    data = items[start : start + limit]
    return {
        "object": "list",
        "data": data,
        "has_more": start + limit < len(items),
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
    }


def _job(state: FakeState, job_id: str) -> FakeJob:
    job = state.jobs.get(job_id)
    if job is None:
        raise _err(404, f"Could not find fine-tune: {job_id}", "fine_tune_not_found", "id")
    return job


def _events_page(job: FakeJob, after: str | None, limit: int) -> Json:
    """Newest first; `after` moves back in time. O(limit) even for huge histories."""
    if after is None:
        end = len(job.events)
    elif after in job.event_index:
        end = job.event_index[after]
    else:
        end = 0
    start = max(0, end - limit)
    data = job.events[start:end][::-1]
    return {"object": "list", "data": data, "has_more": start > 0}


def route(
    state: FakeState,
    method: str,
    path: str,
    query: dict[str, str],
    raw: bytes,
    handler: _Handler,
    fake: FakeOpenAI,
) -> tuple[int, Json | bytes]:
    parts = [p for p in path.split("/") if p]
    after = query.get("after")
    # -- files ---------------------------------------------------------------------------------
    if parts[:1] == ["files"]:
        if method == "POST" and len(parts) == 1:
            fields = handler.multipart(raw)
            if "file" not in fields:
                raise _err(400, "file is required", None, "file")
            purpose = fields.get("purpose", (None, b""))[1].decode()
            if not purpose:
                raise _err(400, "purpose is required", None, "purpose")
            filename, content = fields["file"]
            return 200, state.add_file(filename or "upload", content, purpose)
        if method == "GET" and len(parts) == 1:
            items = [
                meta
                for meta, _ in state.files.values()
                if query.get("purpose") in (None, meta["purpose"])
            ]
            if query.get("order", "desc") == "desc":
                items.reverse()
            return 200, _page(items, after, _limit(query, 10_000))
        file_id = parts[1] if len(parts) > 1 else ""
        if file_id not in state.files:
            raise _err(404, f"No such File object: {file_id}", None, "id")
        meta, content = state.files[file_id]
        if len(parts) == 3 and parts[2] == "content" and method == "GET":
            return 200, content
        if method == "DELETE":
            del state.files[file_id]
            return 200, {"id": file_id, "object": "file", "deleted": True}
        return 200, meta
    # -- uploads -------------------------------------------------------------------------------
    if parts[:1] == ["uploads"]:
        return _uploads(state, method, parts, raw, handler)
    # -- models --------------------------------------------------------------------------------
    if parts[:1] == ["models"]:
        names = state.model_names()
        if len(parts) == 1:
            data = [_model(name, date) for name, date in names.items()]
            return 200, {"object": "list", "data": data}
        name = "/".join(parts[1:])
        if name not in names:
            raise _err(
                404,
                f"The model `{name}` does not exist or you do not have access to it.",
                "model_not_found",
                "model",
            )
        if method == "DELETE":
            if not name.startswith("ft:"):
                raise _err(403, "You do not have permission to delete this model.")
            state.deleted_models.add(name)
            return 200, {"id": name, "object": "model", "deleted": True}
        return 200, _model(name, names[name])
    # -- fine-tuning jobs ------------------------------------------------------------------------
    if parts[:2] == ["fine_tuning", "jobs"]:
        if len(parts) == 2 and method == "POST":
            return 200, _create_job(state, handler._json_body(raw), fake)
        if len(parts) == 2:
            jobs = [job.data for job in reversed(state.jobs.values())]
            return 200, _page(jobs, after, _limit(query, 20, 100))
        job = _job(state, parts[2])
        action = parts[3] if len(parts) > 3 else None
        if action is None:
            return 200, job.data
        if action == "events":
            return 200, _events_page(job, after, _limit(query, 20, 1000))
        if action == "checkpoints":
            return 200, _page(job.checkpoints[::-1], after, _limit(query, 10, 100))
        if method == "POST" and action in ("cancel", "pause", "resume"):
            return 200, _job_action(job, action)
    raise _err(404, f"Invalid URL ({method} /v1{path})")


def _model(name: str, shutdown_date: str | None) -> Json:
    owner = "fake-org" if name.startswith("ft:") else "system"
    return {
        "id": name,
        "object": "model",
        "created": 1721172741,
        "owned_by": owner,
        "shutdown_date": shutdown_date,
    }


def _create_job(state: FakeState, body: Json, fake: FakeOpenAI) -> Json:
    model = body.get("model")
    training_file = body.get("training_file")
    if not isinstance(model, str) or not model:
        raise _err(400, "Missing required parameter: 'model'.", None, "model")
    if not isinstance(training_file, str) or training_file not in state.files:
        raise _err(400, f"invalid training_file: {training_file}", None, "training_file")
    if model not in state.model_names():
        raise _err(
            400,
            f"Model {model} is not available for fine-tuning or does not exist.",
            "model_not_available",
            "model",
        )
    suffix = body.get("suffix")
    if suffix is not None and (not isinstance(suffix, str) or not 1 <= len(suffix) <= 64):
        raise _err(400, "suffix must be 1 to 64 characters", None, "suffix")
    job_id = state.next_id("ftjob-")
    plan = JobPlan(suffix=suffix)
    method = body.get("method")
    data = new_job_data(
        job_id,
        model=model,
        training_file=training_file,
        validation_file=body.get("validation_file"),
        suffix=suffix,
        seed=body.get("seed"),
        method=method if isinstance(method, dict) else None,
        metadata=body.get("metadata"),
        plan=plan,
    )
    job = FakeJob(data)
    job.add_event(f"Created fine-tuning job: {job_id}")
    job.add_event(f"Validating training file: {training_file}")
    job.stages = success_stages(
        plan, lambda name, content: str(state.add_file(name, content, "fine-tune-results")["id"])
    )
    state.jobs[job_id] = job
    return job.data


def _job_action(job: FakeJob, action: str) -> Json:
    status = job.status
    if action == "cancel":
        if status in TERMINAL:
            raise _err(400, f"Cannot cancel a job that is already {status}.")
        job.data.update(status="cancelled", finished_at=int(time.time()), estimated_finish=None)
        job.stages = []
        job.add_event("Fine-tuning job cancelled")
    elif action == "pause":
        if status != "running":
            raise _err(400, f"Cannot pause a job that is {status}.")
        job.data.update(status="paused", estimated_finish=None)
        job.held = True
        job.add_event("Fine-tuning job paused")
    else:
        if status != "paused":
            raise _err(400, f"Cannot resume a job that is {status}.")
        job.data["status"] = "queued"
        job.held = False
        job.add_event("Fine-tuning job resumed")

        def back_to_running(j: FakeJob) -> None:
            j.data["status"] = "running"

        job.stages.insert(0, back_to_running)
    return job.data


def _uploads(
    state: FakeState, method: str, parts: list[str], raw: bytes, handler: _Handler
) -> tuple[int, Json]:
    if len(parts) == 1 and method == "POST":
        body = handler._json_body(raw)
        size, filename, purpose = body.get("bytes"), body.get("filename"), body.get("purpose")
        if not isinstance(size, int) or size < 0 or size > 8 * 1024**3:
            raise _err(400, "bytes must be an integer up to 8 GB", None, "bytes")
        if not isinstance(filename, str) or not isinstance(purpose, str):
            raise _err(400, "filename and purpose are required")
        upload_id = state.next_id("upload_")
        meta = {
            "object": "upload",
            "id": upload_id,
            "bytes": size,
            "filename": filename,
            "purpose": purpose,
            "status": "pending",
            "created_at": int(time.time()),
            "expires_at": int(time.time()) + 3600,
            "file": None,
        }
        state.uploads[upload_id] = (meta, [])
        return 200, meta
    upload_id = parts[1] if len(parts) > 1 else ""
    if upload_id not in state.uploads:
        raise _err(404, f"No such Upload: {upload_id}")
    meta, received = state.uploads[upload_id]
    action = parts[2] if len(parts) > 2 else None
    if action in ("parts", "complete") and meta["status"] != "pending":
        raise _err(400, f"Upload {upload_id} is {meta['status']}")
    if action == "parts" and method == "POST":
        data = handler.multipart(raw).get("data")
        if data is None:
            raise _err(400, "data is required", None, "data")
        if len(data[1]) > 64 * 1024 * 1024:
            raise _err(400, "a part can be at most 64 MB", None, "data")
        part_id = state.next_id("part_")
        received.append((part_id, data[1]))
        return 200, {
            "object": "upload.part",
            "id": part_id,
            "upload_id": upload_id,
            "created_at": int(time.time()),
        }
    if action == "complete" and method == "POST":
        body = handler._json_body(raw)
        by_id = dict(received)
        order = body.get("part_ids")
        if not isinstance(order, list) or any(p not in by_id for p in order):
            raise _err(400, "part_ids must list uploaded parts", None, "part_ids")
        content = b"".join(by_id[p] for p in order)
        if len(content) != meta["bytes"]:
            raise _err(400, f"Upload has {len(content)} bytes, expected {meta['bytes']}")
        md5 = body.get("md5")
        if md5 and hashlib.md5(content).hexdigest() != md5:
            raise _err(400, "md5 checksum mismatch", None, "md5")
        meta["status"] = "completed"
        meta["file"] = state.add_file(str(meta["filename"]), content, str(meta["purpose"]))
        return 200, meta
    if action == "cancel" and method == "POST":
        meta["status"] = "cancelled"
        return 200, meta
    raise _err(404, "Invalid URL")
