"""`/v1/fine_tuning/jobs`: create, list, retrieve, cancel, pause, resume, events, checkpoints."""

from __future__ import annotations

import re
import secrets
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tui.local.api_common import (
    bad_cursor,
    context,
    cursor_page,
    json_object,
    ok,
    query_after,
    query_limit,
    require_str,
)
from tui.local.base_models import BaseModelError
from tui.local.context import ServerContext
from tui.local.errors import bad_request, not_found
from tui.local.file_validation import file_format
from tui.local.training import hyperparameters
from tui.local.validation import INT32, bounded_int

SUFFIX_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CREATE_FIELDS = frozenset(
    {
        "model",
        "training_file",
        "validation_file",
        "hyperparameters",
        "method",
        "suffix",
        "seed",
        "metadata",
        "integrations",
    }
)
MAX_METADATA_PAIRS = 16


def _check_hyperparameters(value: Any, where: str, method: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_request(f"Invalid type for '{where}': expected an object.", param=where)
    try:
        return hyperparameters.check(method, value, where)
    except hyperparameters.HyperparameterError as exc:
        raise bad_request(exc.message, param=exc.name, code=exc.code) from None


def _method_and_hyperparameters(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    method = body.get("method")
    if method is None:
        method = {"type": "supervised"}
    if not isinstance(method, dict):
        raise bad_request("Invalid type for 'method': expected an object.", param="method")
    kind = method.get("type", "supervised")
    if kind == "reinforcement":
        raise bad_request(
            "The local server supports supervised and DPO fine-tuning; method 'reinforcement' "
            "is not supported.",
            param="method.type",
            code="unsupported_method",
        )
    if kind not in ("supervised", "dpo"):
        raise bad_request(
            f"Invalid value for 'method.type': {kind!r}; use 'supervised' or 'dpo'.",
            param="method.type",
        )
    legacy = _check_hyperparameters(body.get("hyperparameters"), "hyperparameters", kind)
    inner = method.get(kind) or {}
    if not isinstance(inner, dict):
        raise bad_request(f"Invalid type for 'method.{kind}'.", param=f"method.{kind}")
    nested = _check_hyperparameters(
        inner.get("hyperparameters"), f"method.{kind}.hyperparameters", kind
    )
    shown = hyperparameters.OPENAI_KEYS + (hyperparameters.DPO_KEYS if kind == "dpo" else ())
    merged = dict.fromkeys(shown, "auto") | legacy | nested
    return {"type": kind, kind: {"hyperparameters": merged}}, merged


def _check_file_fits_method(ctx: ServerContext, file_id: str, name: str, method: str) -> None:
    """A DPO preference file given to an SFT job (or the reverse) is refused at once."""
    found = file_format(ctx.settings.files_dir / file_id)
    wanted = "preference" if method == "dpo" else "chat"
    if found in (None, wanted):
        return
    what = {"preference": "a DPO preference file", "chat": "a chat (SFT) file"}.get(
        found, f"a {found} file"
    )
    needs = (
        "DPO needs preference lines (input / preferred_output / non_preferred_output)"
        if method == "dpo"
        else "supervised fine-tuning needs chat lines with messages"
    )
    raise bad_request(
        f"The {name} {file_id} is {what}, but the job's method is {method!r}: {needs}.",
        param=name,
        code="file_format_mismatch",
    )


def _checked_file(ctx: ServerContext, body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None and name == "validation_file":
        return None
    file_id = require_str(body, name)
    record = ctx.store.get_file(file_id)
    if record is None:
        raise bad_request(f"Invalid {name}: no file with id {file_id!r}.", param=name)
    if record["purpose"] != "fine-tune":
        raise bad_request(
            f"Invalid {name}: {file_id} has purpose {record['purpose']!r}, not 'fine-tune'.",
            param=name,
        )
    return file_id


def _checked_metadata(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request("Invalid type for 'metadata': expected an object.", param="metadata")
    if len(value) > MAX_METADATA_PAIRS:
        raise bad_request("'metadata' holds at most 16 key-value pairs.", param="metadata")
    for key, item in value.items():
        if not isinstance(item, str) or len(key) > 64 or len(item) > 512:
            raise bad_request(
                "'metadata' keys are strings of at most 64 characters and values strings of at "
                f"most 512 characters (key {key!r}).",
                param="metadata",
            )
    return dict(value)


async def _checked_model(ctx: ServerContext, body: dict[str, Any]) -> str:
    model = require_str(body, "model")
    if model.startswith("ft:"):  # continued training from that fine-tune's adapter
        source = ctx.store.get_model(model)
        if source is None:
            raise bad_request(
                f"The model {model!r} does not exist; continue training from a fine-tuned "
                "model or checkpoint listed by /v1/models.",
                param="model",
                code="model_not_available",
            )
        model_to_check = str(source["base"])
    else:
        model_to_check = model
    try:  # may ask the Hugging Face Hub about a model that is not downloaded yet
        await anyio.to_thread.run_sync(ctx.registry.check_trainable, model_to_check)
    except BaseModelError as exc:
        raise bad_request(exc.message, param="model", code=exc.code) from None
    return model


def _checked_seed(value: Any) -> int:
    if value is None:
        return secrets.randbelow(2**31)
    return bounded_int(value, "seed", 0, INT32[1])


def _checked_suffix(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not SUFFIX_PATTERN.match(value):
        raise bad_request(
            "Invalid 'suffix': use 1 to 64 characters from letters, digits, '-' and '_'.",
            param="suffix",
        )
    return value


async def create_job(request: Request) -> Response:
    ctx = context(request)
    body = await json_object(request)
    unknown = sorted(set(body) - CREATE_FIELDS)
    if unknown:
        raise bad_request(f"Unrecognized request argument supplied: {unknown[0]}", param=unknown[0])
    model = await _checked_model(ctx, body)
    training_file = _checked_file(ctx, body, "training_file")
    assert training_file is not None
    validation_file = _checked_file(ctx, body, "validation_file")
    method, hyperparameters = _method_and_hyperparameters(body)
    for name, file_id in (("training_file", training_file), ("validation_file", validation_file)):
        if file_id:
            _check_file_fits_method(ctx, file_id, name, str(method["type"]))
    if body.get("integrations"):
        raise bad_request(
            "Integrations (Weights & Biases) are not supported by the local server.",
            param="integrations",
        )
    checking = f"Validating training file: {training_file}"
    if validation_file:
        checking += f" and validation file: {validation_file}"
    job = ctx.store.add_job(  # the job and its first events in one transaction
        model=model,
        training_file=training_file,
        validation_file=validation_file,
        hyperparameters=hyperparameters,
        method=method,
        seed=_checked_seed(body.get("seed")),
        suffix=_checked_suffix(body.get("suffix")),
        metadata=_checked_metadata(body.get("metadata")),
        integrations=None,
        events=("Created fine-tuning job: {job_id}", checking),
    )
    ctx.runner.wake()
    return ok(job)


def _job_or_404(ctx: ServerContext, job_id: str) -> dict[str, Any]:
    job = ctx.store.get_job(job_id)
    if job is None:
        raise not_found(
            f"No fine-tuning job found with id {job_id!r}.",
            param="fine_tuning_job_id",
            code="fine_tuning_job_not_found",
        )
    return job


def _metadata_filter(request: Request) -> tuple[dict[str, str], bool]:
    pairs: dict[str, str] = {}
    no_metadata = False
    for key, value in request.query_params.multi_items():
        if key == "metadata" and value == "null":
            no_metadata = True
        elif key.startswith("metadata[") and key.endswith("]"):
            pairs[key[len("metadata[") : -1]] = value
    return pairs, no_metadata


async def list_jobs(request: Request) -> Response:
    ctx = context(request)
    after = query_after(request)
    pairs, no_metadata = _metadata_filter(request)
    page = ctx.store.list_jobs(
        after=after, limit=query_limit(request, 20, 100), metadata=pairs, no_metadata=no_metadata
    )
    if page is None:
        raise bad_cursor(after)
    return ok(cursor_page(page[0], page[1]))


async def retrieve_job(request: Request) -> Response:
    return ok(_job_or_404(context(request), request.path_params["job_id"]))


async def _act(request: Request, action: str) -> Response:
    ctx = context(request)
    job_id = request.path_params["job_id"]
    _job_or_404(ctx, job_id)
    if action == "resume":
        queued = await anyio.to_thread.run_sync(ctx.runner.resume, job_id)
        return ok(queued or _job_or_404(ctx, job_id))
    method = ctx.runner.cancel if action == "cancel" else ctx.runner.pause
    await anyio.to_thread.run_sync(method, job_id)
    return ok(_job_or_404(ctx, job_id))


async def cancel_job(request: Request) -> Response:
    return await _act(request, "cancel")


async def pause_job(request: Request) -> Response:
    return await _act(request, "pause")


async def resume_job(request: Request) -> Response:
    return await _act(request, "resume")


async def list_events(request: Request) -> Response:
    ctx = context(request)
    job_id = request.path_params["job_id"]
    _job_or_404(ctx, job_id)
    after = query_after(request)
    page = ctx.store.list_events(job_id, after=after, limit=query_limit(request, 20, 1000))
    if page is None:
        raise bad_cursor(after)
    return ok(cursor_page(page[0], page[1]))


async def list_checkpoints(request: Request) -> Response:
    ctx = context(request)
    job_id = request.path_params["job_id"]
    _job_or_404(ctx, job_id)
    after = query_after(request)
    page = ctx.store.list_checkpoints(job_id, after=after, limit=query_limit(request, 10, 100))
    if page is None:
        raise bad_cursor(after)
    return ok(cursor_page(page[0], page[1], with_ids=True))


def routes() -> list[Route]:
    base = "/v1/fine_tuning/jobs"
    one = base + "/{job_id}"
    return [
        Route(base, create_job, methods=["POST"]),
        Route(base, list_jobs, methods=["GET"]),
        Route(one, retrieve_job, methods=["GET"]),
        Route(one + "/cancel", cancel_job, methods=["POST"]),
        Route(one + "/pause", pause_job, methods=["POST"]),
        Route(one + "/resume", resume_job, methods=["POST"]),
        Route(one + "/events", list_events, methods=["GET"]),
        Route(one + "/checkpoints", list_checkpoints, methods=["GET"]),
    ]
