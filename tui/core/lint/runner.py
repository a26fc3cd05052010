"""`lint_path`: stream a dataset file through the rules, in-process or over a process pool."""

from __future__ import annotations

import multiprocessing
import os
import stat
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path

import orjson

from tui.core.formats import Format, detect_format
from tui.core.lint.report import LintReport, ReportBuilder
from tui.core.lint.scan import BOM, ChunkResult, ChunkTask, scan_chunk
from tui.core.models_catalog import ModelInfo, resolve_model

ProgressCallback = Callable[[int, int, LintReport], None]

# Below this size the pool's start-up (a fresh interpreter and tokenizer per worker) costs
# more than it saves.
IN_PROCESS_MAX_BYTES = 8 * 1024 * 1024
MIN_CHUNK_BYTES = 4 * 1024 * 1024
MAX_CHUNK_BYTES = 16 * 1024 * 1024
_SNIFF_BYTES = 64 * 1024
_FORMAT_SCAN_LINES = 1000
_FORMAT_SCAN_BYTES = 8 * 1024 * 1024


class LintFailed(Exception):
    """Linting could not run to the end; the message says why."""


class LintInputError(LintFailed):
    """The path cannot be read as a file (missing, a directory, no permission, I/O error)."""


@contextmanager
def _main_module_hidden() -> Iterator[None]:
    """Spawned workers need only tui.core; keep them from re-running the caller's script.

    multiprocessing's spawn re-imports `__main__` from its file in each child, which runs a
    script without an `if __name__ == "__main__"` guard a second time. Workers are started
    while this is active, so they skip that import.
    """
    main = sys.modules.get("__main__")
    saved_file = getattr(main, "__file__", None)
    if main is None or saved_file is None:
        yield
        return
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = saved_file


def _start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker with a real stderr to hand it.

    The tracker passes `sys.stderr.fileno()` to its process; inside a Textual app stderr is a
    capture object whose fileno() is -1, and spawning then fails ("bad value(s) in
    fds_to_keep"). Once the tracker runs, later pools reuse it.
    """
    from multiprocessing import resource_tracker

    try:
        usable = sys.stderr is not None and sys.stderr.fileno() >= 0
    except (AttributeError, OSError, ValueError):
        usable = True  # ensure_running skips a stderr without a file descriptor by itself
    if usable:
        resource_tracker.ensure_running()
        return
    saved, sys.stderr = sys.stderr, sys.__stderr__
    try:
        resource_tracker.ensure_running()
    finally:
        sys.stderr = saved


def default_workers() -> int:
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, 8))


def _open_checked(path: Path) -> int:
    """The file size, or LintInputError with a message a user understands."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise LintInputError(f"{path}: no such file") from None
    except OSError as exc:
        raise LintInputError(f"{path}: cannot access: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise LintInputError(f"{path}: is a directory; give a .jsonl file")
    if not stat.S_ISREG(info.st_mode):
        raise LintInputError(f"{path}: not a regular file")
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except PermissionError:
        raise LintInputError(f"{path}: permission denied") from None
    except OSError as exc:
        raise LintInputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return info.st_size


def _binary_reason(head: bytes) -> str | None:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "the file is UTF-16 encoded; re-save it as UTF-8"
    if head.startswith(b"\x1f\x8b"):
        return "the file is gzip-compressed; decompress it first"
    if head.startswith(b"PK\x03\x04"):
        return "the file is a ZIP archive (or XLSX); use `ft-tui convert` or extract it"
    if b"\x00" in head:
        offset = head.index(b"\x00")
        return f"the file contains NUL bytes (first at byte {offset + 1}): it is binary, not JSONL"
    return None


def _detect_file_format(path: Path) -> Format:
    """The format of the first recognisable example near the top of the file."""
    scanned = 0
    with path.open("rb") as handle:
        for _ in range(_FORMAT_SCAN_LINES):
            raw = handle.readline(_FORMAT_SCAN_BYTES)
            scanned += len(raw)
            if not raw or scanned > _FORMAT_SCAN_BYTES:
                break
            try:
                found = detect_format(orjson.loads(raw.removeprefix(BOM)))
            except orjson.JSONDecodeError:
                continue
            if found != "unknown":
                return found
    return "unknown"


def _chunk_bounds(path: Path, size: int, chunk_bytes: int) -> list[tuple[int, int]]:
    """Byte ranges about `chunk_bytes` long, each ending just after a newline (or at EOF)."""
    bounds: list[tuple[int, int]] = []
    start = 0
    with path.open("rb") as handle:
        while start < size:
            target = start + chunk_bytes
            if target >= size:
                bounds.append((start, size))
                break
            handle.seek(target)
            end = size
            while True:
                block = handle.read(65536)
                if not block:
                    break
                nl = block.find(b"\n")
                if nl >= 0:
                    end = handle.tell() - len(block) + nl + 1
                    break
            bounds.append((start, end))
            start = end
    return bounds


def _empty_builder(path: Path, fmt: Format, model: ModelInfo, size: int) -> ReportBuilder:
    return ReportBuilder(str(path), fmt, model, size)


def _run_in_process(
    builder: ReportBuilder,
    tasks: list[ChunkTask],
    total: int,
    base: int,
    on_progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> None:
    for task in tasks:
        if cancel is not None and cancel.is_set():
            builder.cancelled = True
            return
        builder.add_chunk(scan_chunk(task, cancel=cancel))
        if on_progress is not None:
            on_progress(base + builder.done_bytes, total, builder.snapshot())


def _init_worker() -> None:
    """Workers leave Ctrl-C to the parent, which stops the pool without a traceback."""
    import signal

    from tui.core.tokens import use_lean_encodings

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    use_lean_encodings()


def _run_pool(
    builder: ReportBuilder,
    tasks: list[ChunkTask],
    workers: int,
    total: int,
    base: int,
    on_progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> None:
    context = multiprocessing.get_context("spawn")
    _start_resource_tracker()
    pending: deque[Future[ChunkResult]] = deque()
    queue = deque(tasks)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker)
    try:
        with _main_module_hidden():  # submitting starts the workers
            while queue and len(pending) < workers * 2:
                pending.append(pool.submit(scan_chunk, queue.popleft()))
        while pending:
            while queue and len(pending) < workers * 2:
                pending.append(pool.submit(scan_chunk, queue.popleft()))
            head = pending[0]
            while not head.done():
                wait([head], timeout=0.2, return_when=FIRST_COMPLETED)
                if cancel is not None and cancel.is_set():
                    builder.cancelled = True
                    return
            try:
                builder.add_chunk(head.result())
            except BrokenProcessPool:
                builder.cancelled = True
                raise LintFailed(
                    "a lint worker process died (out of memory?); retry with --workers 1"
                ) from None
            pending.popleft()
            if on_progress is not None:
                on_progress(base + builder.done_bytes, total, builder.snapshot())
    finally:
        pool.shutdown(wait=not builder.cancelled, cancel_futures=True)


def _lint_one(
    path: Path,
    model: ModelInfo,
    workers: int,
    total: int,
    base: int,
    on_progress: ProgressCallback | None,
    cancel: threading.Event | None,
) -> tuple[ReportBuilder, bool]:
    """Scan one file; returns the builder and whether its examples were scanned at all."""
    size = _open_checked(path)
    if size == 0:
        builder = _empty_builder(path, "unknown", model, 0)
        builder.add_issue(None, "empty_file", "the file is empty")
        return builder, False
    with path.open("rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    reason = _binary_reason(head)
    if reason is not None:
        builder = _empty_builder(path, "unknown", model, size)
        builder.add_issue(None, "binary_file", reason)
        return builder, False
    fmt = _detect_file_format(path)
    builder = _empty_builder(path, fmt, model, size)

    def task(start: int, end: int) -> ChunkTask:
        return ChunkTask(
            str(path),
            start,
            end,
            fmt,
            model.encoding,
            model.training_limit,
            at_file_end=True,
            reinforcement=model.reinforcement_only,
        )

    if size <= IN_PROCESS_MAX_BYTES or workers <= 1:
        tasks = [task(s, e) for s, e in _chunk_bounds(path, size, MIN_CHUNK_BYTES)]
        _run_in_process(builder, tasks, total, base, on_progress, cancel)
    else:
        # many small chunks keep every worker busy until the end
        chunk = min(MAX_CHUNK_BYTES, max(MIN_CHUNK_BYTES, size // (workers * 32)))
        tasks = [task(s, e) for s, e in _chunk_bounds(path, size, chunk)]
        _run_pool(builder, tasks, workers, total, base, on_progress, cancel)
    return builder, True


def lint_path(
    path: str | os.PathLike[str],
    *,
    model: str | None = None,
    validation: str | os.PathLike[str] | None = None,
    workers: int | None = None,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> LintReport:
    """Lint a JSONL training file (and optionally its validation file).

    Raises LintInputError when a path cannot be read. `on_progress(done_bytes, total_bytes,
    partial_report)` may be called from a background thread; setting `cancel` stops the scan
    and returns what was found so far with `cancelled=True`.
    """
    info = resolve_model(model)
    n_workers = workers if workers is not None else default_workers()
    train_path = Path(path)
    val_path = Path(validation) if validation is not None else None
    total = _open_checked(train_path) + (_open_checked(val_path) if val_path else 0)
    builder, scanned = _lint_one(train_path, info, n_workers, total, 0, on_progress, cancel)
    val_report: LintReport | None = None
    if val_path is not None and not builder.cancelled:
        val_builder, val_scanned = _lint_one(
            val_path, info, n_workers, total, builder.size_bytes, on_progress, cancel
        )
        if val_scanned:
            val_builder.finish_file_checks(validation=True)
        builder.add_overlap(val_builder.hashes)
        val_report = val_builder.snapshot(complete=not val_builder.cancelled)
        builder.cancelled = builder.cancelled or val_builder.cancelled
    if scanned:  # an empty or binary file has its one error already
        builder.finish_file_checks()
    report = builder.snapshot(complete=not builder.cancelled)
    report.validation = val_report
    return report
