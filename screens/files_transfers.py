"""Transfers started from the Files screen.

Download: ask for an editable path with the app's one save dialog (`screens.save_path`: a folder
keeps the remote name, a missing folder is created after asking, an existing file is replaced only
after asking), stream with a progress bar. Upload: lint the dataset first (errors block,
warnings are shown and must be accepted), then send it with a progress bar."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from textual.screen import Screen

from screens.base import ft_app
from screens.confirm import ConfirmScreen
from screens.save_path import SavePathScreen
from tui.core.save_paths import root_folder
from tui.services.files import (
    DestinationExists,
    FilesService,
    RemoteFile,
    explain_error,
    human_size,
    safe_filename,
    suggest_download_path,
    upload_file,
)
from tui.services.uploads import Uploader, UploadError, lint_before_upload

if TYPE_CHECKING:
    from tui.core.lint.report import LintReport
    from tui.services.connection import Connection

ProgressCallback = Callable[[int, int], None]


class Busy(Protocol):
    def __call__(self, total: int) -> AbstractContextManager[ProgressCallback]: ...


def summarize_issues(report: LintReport, errors: bool, limit: int = 4) -> str:
    """`• rule ×count (line N: message)` for the most frequent rules of one severity."""
    severity = {issue.rule: issue.severity for issue in report.issues}
    rules = [
        (count, rule)
        for rule, count in report.counts_by_rule.items()
        if (severity.get(rule, "error") == "error") == errors
    ]
    rules.sort(key=lambda item: (-item[0], item[1]))
    lines = []
    for count, rule in rules[:limit]:
        first = next((i for i in report.issues if i.rule == rule), None)
        detail = ""
        if first is not None:
            where = f"line {first.line}: " if first.line is not None else ""
            detail = f" ({where}{first.message})"
        lines.append(f"• {rule} ×{count}{detail}")
    if len(rules) > limit:
        lines.append(f"• … and {len(rules) - limit} more rules")
    return "\n".join(lines)


async def download_with_prompt(
    screen: Screen[Any], service: FilesService, file: RemoteFile, busy: Busy
) -> None:
    app = ft_app(screen)
    root = root_folder(Path(getattr(app, "start_path", Path.cwd())))
    suggestion = suggest_download_path(root, file)
    target = await app.push_screen_wait(
        SavePathScreen(
            suggestion, f"Download {file.id} to", file_name=safe_filename(file), base=root
        )
    )
    if target is None:
        return
    try:
        with busy(file.bytes) as progress:
            result = await service.download(
                file, target.path, overwrite=target.overwrite, progress=progress
            )
    except DestinationExists as exists:
        app.notify(f"{exists.path} appeared meanwhile; not replaced.", severity="warning")
        return
    except Exception as exc:
        app.notify(explain_error(exc, "download"), title="Download failed", severity="error")
        return
    decoded = " (decoded from base64)" if result.decoded_base64 else ""
    app.notify(f"Saved {human_size(result.bytes_written)} to {result.path}{decoded}", timeout=6)


async def _send(connection: Connection, path: Path, busy: Busy) -> RemoteFile:
    """Files up to 512 MB stream in one request with byte-level progress; bigger ones go in
    64 MB parts through the Uploads API (`tui.services.uploads`)."""
    uploader = Uploader(connection)
    size = uploader.check(path, "fine-tune")
    with busy(size) as progress:
        if size > uploader.multipart_threshold:
            done = await uploader.upload(path, on_progress=lambda p: progress(p.sent, p.total))
            return RemoteFile(
                done.id,
                done.filename,
                done.purpose,
                done.bytes,
                int(time.time()),
                done.status or "uploaded",
            )
        return await upload_file(await connection.client(), path, progress=progress)


async def upload_dataset(screen: Screen[Any], path: Path, busy: Busy) -> RemoteFile | None:
    """Lint, confirm warnings, upload; every failure becomes a toast. None when not uploaded."""
    from tui.core.lint import LintFailed

    app = ft_app(screen)
    try:
        Uploader(app.connection).check(path, "fine-tune")
    except UploadError as exc:
        app.notify(explain_error(exc, "upload"), title="Cannot upload", severity="error")
        return None
    app.notify(f"Linting {path.name}…", timeout=3)
    try:
        report = await lint_before_upload(path)
    except LintFailed as exc:
        app.notify(str(exc), title="Cannot lint", severity="error")
        return None
    if report.has_errors:
        app.notify(
            f"{report.error_count} error(s) in {path.name}; fix them first (1 Datasets shows"
            f" each line):\n{summarize_issues(report, errors=True, limit=3)}",
            title="Upload blocked by lint errors",
            severity="error",
            timeout=12,
        )
        return None
    if report.warning_count:
        question = (
            f"{report.warning_count} warning(s) in {path.name}:\n"
            f"{summarize_issues(report, errors=False)}\n\nUpload anyway?"
        )
        if not await app.push_screen_wait(
            ConfirmScreen("Lint warnings", question, confirm_label="Upload")
        ):
            return None
    try:
        return await _send(app.connection, path, busy)
    except Exception as exc:
        app.notify(explain_error(exc, "upload"), title="Upload failed", severity="error")
        return None
