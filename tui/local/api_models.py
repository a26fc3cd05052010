"""`/v1/models`: base models, fine-tuned models and their checkpoints; delete fine-tunes.

Besides OpenAI's fields (`id`, `object`, `created`, `owned_by`), each fine-tuned model carries
`parent` (its base model), `root`, `job_id` and `step` (the checkpoint's step, null for the
final model), which the SDK keeps in `model_extra`. Base models carry `source` (`bundled`, `hub`,
`folder` or `gguf`) and `downloaded` (false for a Hub model not yet in the Hugging Face cache;
the first job on it downloads it)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tui.local.api_common import context, ok
from tui.local.context import ServerContext
from tui.local.errors import ApiError, not_found

OWNER = "local"


def model_not_found(model_id: str) -> ApiError:
    return not_found(
        f"The model `{model_id}` does not exist or you do not have access to it.",
        param="model",
        code="model_not_found",
    )


def _base_created(ctx: ServerContext, name: str) -> int:
    """When the model's files were made (without converting the bundled model to find out)."""
    path = ctx.registry.source_path(name)
    if path is not None and path.is_dir():
        path = path / "config.json"
    try:
        return int(path.stat().st_mtime) if path is not None else 0
    except OSError:
        return 0


def _base_object(ctx: ServerContext, name: str) -> dict[str, Any]:
    return {
        "id": name,
        "object": "model",
        "created": _base_created(ctx, name),
        "owned_by": OWNER,
        "shutdown_date": None,
        "parent": None,
        "root": name,
        "kind": "base",
        "source": ctx.registry.source_kind(name),
        "downloaded": ctx.registry.downloaded(name),
    }


def _tuned_object(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "object": "model",
        "created": row["created"],
        "owned_by": OWNER,
        "shutdown_date": None,
        "parent": row["base"],
        "root": row["base"],
        "job_id": row["job_id"],
        "step": row["step"],
        "kind": "checkpoint" if row["step"] is not None else "fine-tuned",
    }


async def list_models(request: Request) -> Response:
    ctx = context(request)
    data = [_base_object(ctx, name) for name in ctx.registry.names()]
    data += [_tuned_object(row) for row in ctx.store.list_models()]
    return ok({"object": "list", "data": data})


async def retrieve_model(request: Request) -> Response:
    ctx = context(request)
    model_id = request.path_params["model_id"]
    if model_id in ctx.registry.names():
        return ok(_base_object(ctx, model_id))
    row = ctx.store.get_model(model_id)
    if row is None:
        raise model_not_found(model_id)
    return ok(_tuned_object(row))


async def delete_model(request: Request) -> Response:
    ctx = context(request)
    model_id = request.path_params["model_id"]
    if model_id in ctx.registry.names():
        raise ApiError(
            403,
            f"{model_id} is a base model; only fine-tuned models can be deleted.",
            param="model",
            code="model_not_deletable",
        )
    row = ctx.store.get_model(model_id)
    if row is None:
        raise model_not_found(model_id)
    adapter_dir = Path(row["adapter_dir"])
    ctx.store.delete_model(model_id)
    await anyio.to_thread.run_sync(ctx.inference.unload_adapter, adapter_dir)
    still_used = any(Path(other["adapter_dir"]) == adapter_dir for other in ctx.store.list_models())
    if not still_used and _inside(adapter_dir, ctx.settings.jobs_dir):
        shutil.rmtree(adapter_dir, ignore_errors=True)
    return ok({"id": model_id, "object": "model", "deleted": True})


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def routes() -> list[Route]:
    return [
        Route("/v1/models", list_models, methods=["GET"]),
        Route("/v1/models/{model_id:path}", retrieve_model, methods=["GET"]),
        Route("/v1/models/{model_id:path}", delete_model, methods=["DELETE"]),
    ]
