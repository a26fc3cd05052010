"""Export a fine-tuned model from the active profile's server into a local folder.

    result = await export_model(client, profile, "ft:…", "gguf", Path("out"), progress=show)
    result.path, result.files, result.converter, result.serve_commands

The export runs on the server that holds the weights (`POST /v1/exports` of an ft-tui server,
embedded, remote or reached through `OPENAI_BASE_URL`); this module polls it, downloads the
archive (`GET /v1/exports/{id}/content`) and unpacks it so that the folder appears only when
complete: everything lands in a hidden sibling folder first, then one rename publishes it.
An existing folder is replaced only with `force`. OpenAI and Azure cannot export (their weights
cannot be downloaded): `ExportRefused` says so and points to `ft-tui record` and a local retrain.
The CLI (`ft-tui export`) and the app's export form share this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.core.exports import FORMATS, QUANTIZATIONS, serve_commands
from tui.services.errors import ServiceError, error_fields

if TYPE_CHECKING:
    from openai import AsyncOpenAI

    from tui.services.profiles import Profile

# (stage, fraction 0-1): "queued", "merging the adapter", …, "downloading", "unpacking"
ProgressCallback = Callable[[str, float], None]
OPENAI_HOSTS = ("api.openai.com", ".openai.azure.com")
RECORD_HINT = (
    "record what the model answers with `ft-tui record`, then train a replacement on the local "
    "server and export that"
)


class ExportError(ServiceError):
    title = "Export failed"


class ExportRefused(ExportError):
    title = "Export not possible"


class ExportDestinationError(ExportError):
    title = "Cannot write the export"


@dataclass(frozen=True)
class ExportResult:
    path: Path
    model: str
    format: str
    files: list[str]
    converter: str
    size: int
    serve_commands: list[str] = field(default_factory=list)


def refuses_export(profile: Profile | None) -> bool:
    """True for backends whose fine-tuned weights cannot be downloaded (OpenAI, Azure)."""
    if profile is None:
        return False
    if profile.kind in ("openai", "azure"):
        return True
    url = (profile.base_url or "").lower()
    return any(host in url for host in OPENAI_HOSTS)


def refusal(model: str, where: str) -> ExportRefused:
    return ExportRefused(
        f"{where} does not let anyone download the weights of {model}, so it cannot be exported",
        RECORD_HINT,
    )


def check_destination(out: Path, *, force: bool) -> Path:
    """The absolute folder to write; raises before anything is asked of the server."""
    out = out.expanduser().absolute()
    if out.exists() and not force:
        raise ExportDestinationError(f"{out} already exists", "pass --force to replace it")
    if out.exists() and not out.is_dir():
        raise ExportDestinationError(f"{out} exists and is not a folder")
    parent = out.parent
    if not parent.is_dir():
        raise ExportDestinationError(
            f"{parent} is not a folder", "create it first or pick another --out"
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ExportDestinationError(f"{parent} is not writable")
    return out


async def export_model(
    client: AsyncOpenAI,
    profile: Profile | None,
    model: str,
    fmt: str,
    out: Path,
    *,
    quantization: str | None = None,
    force: bool = False,
    progress: ProgressCallback | None = None,
    poll_interval: float = 0.5,
) -> ExportResult:
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}", f"use one of {', '.join(FORMATS)}")
    if quantization is not None and quantization not in QUANTIZATIONS:
        raise ExportError(
            f"unknown quantization {quantization!r}", f"use one of {', '.join(QUANTIZATIONS)}"
        )
    target = check_destination(out, force=force)
    if refuses_export(profile):
        raise refusal(model, "OpenAI" if profile and profile.kind == "openai" else "This service")
    report = progress or (lambda _stage, _fraction: None)
    created = await _create(client, model, fmt, quantization)
    done = await _wait(client, str(created["id"]), report, poll_interval)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        await _download(client, done, staging / "export.tar", report)
        report("unpacking", 1.0)
        content = staging / "content"
        await asyncio.to_thread(_unpack, staging / "export.tar", content)
        await asyncio.to_thread(_publish, content, target, force)
    except OSError as exc:
        raise _write_error(exc, target) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    with contextlib.suppress(Exception):  # the server's copy was only a staging area
        await client.delete(f"/exports/{done['id']}", cast_to=object)
    files = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    return ExportResult(
        path=target,
        model=model,
        format=fmt,
        files=files,
        converter=str(done.get("converter") or ""),
        size=int(done.get("bytes") or 0),
        serve_commands=serve_commands(
            fmt, str(target), files, base=_adapter_base(target), model=model
        ),
    )


async def _create(
    client: AsyncOpenAI, model: str, fmt: str, quantization: str | None
) -> dict[str, Any]:
    import openai

    body: dict[str, Any] = {"model": model, "format": fmt}
    if quantization is not None:
        body["quantization"] = quantization
    try:
        created: Any = await client.post("/exports", body=body, cast_to=object)
    except openai.NotFoundError as exc:
        _message, code, _param = error_fields(exc)
        if code is None or code == "unknown_url":  # no such route: OpenAI, or not ft-tui
            raise refusal(model, f"The server at {client.base_url}") from None
        raise
    if not isinstance(created, dict) or "id" not in created:
        raise refusal(model, f"The server at {client.base_url}")
    return created


async def _wait(
    client: AsyncOpenAI, export_id: str, report: ProgressCallback, poll_interval: float
) -> dict[str, Any]:
    while True:
        current: Any = await client.get(f"/exports/{export_id}", cast_to=object)
        status = current.get("status")
        report(str(current.get("stage") or status), float(current.get("progress") or 0.0))
        if status == "succeeded":
            return dict(current)
        if status == "failed":
            error = current.get("error") or {}
            raise ExportError(str(error.get("message") or "the server could not export"))
        await asyncio.sleep(poll_interval)


async def _download(
    client: AsyncOpenAI, export: dict[str, Any], archive: Path, report: ProgressCallback
) -> None:
    import httpx2

    response: Any = await client.get(
        f"/exports/{export['id']}/content", cast_to=httpx2.Response, stream=True
    )
    try:
        if response.status_code != 200:
            await response.aread()
            raise ExportError(f"the download failed ({response.status_code}): {response.text}")
        total = int(response.headers.get("content-length") or 0)
        received = 0
        with archive.open("wb") as handle:
            async for chunk in response.aiter_bytes():
                handle.write(chunk)
                received += len(chunk)
                report("downloading", received / total if total else 0.0)
        if total and received != total:
            raise ExportError(f"the download was cut short ({received} of {total} bytes)")
    finally:
        await response.aclose()


def _unpack(archive: Path, into: Path) -> None:
    into.mkdir()
    try:
        with tarfile.open(archive, mode="r:") as tar:
            tar.extractall(into, filter="data")
    except tarfile.TarError as exc:
        raise ExportError(f"the downloaded archive is damaged: {exc}") from exc
    archive.unlink()


def _publish(content: Path, target: Path, force: bool) -> None:
    """Move the finished folder into place; an old folder (--force) goes only once it can."""
    if not target.exists():
        content.rename(target)
        return
    if not force:  # created by someone else while the export ran
        raise ExportDestinationError(f"{target} already exists", "pass --force to replace it")
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    target.rename(old)
    try:
        content.rename(target)
    except OSError:
        old.rename(target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _write_error(exc: OSError, target: Path) -> ExportDestinationError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return ExportDestinationError(
            f"not enough disk space for the export next to {target}", "free space or pick --out"
        )
    if exc.errno == errno.EFBIG:
        return ExportDestinationError(f"a file of the export is too large to write at {target}")
    return ExportDestinationError(f"cannot write {target}: {exc.strerror or exc}")


def _adapter_base(target: Path) -> str:
    try:
        config = json.loads((target / "adapter_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    return str(config.get("base_model_name_or_path") or "")
