"""Checks on input and output paths, atomic output files and streaming JSONL lines."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from tui.core.tools.errors import ToolError
from tui.core.tools.progress import ProgressCallback, Throttle


def check_input(path: Path) -> int:
    """Return the size of a readable, non-empty input file, or raise a clear `ToolError`."""
    if not path.exists():
        raise ToolError(f"{path}: no such file")
    if path.is_dir():
        raise ToolError(f"{path} is a directory; give a dataset file")
    if not path.is_file():
        raise ToolError(f"{path} is not a regular file")
    try:
        size = path.stat().st_size
        with path.open("rb"):
            pass
    except OSError as exc:
        raise ToolError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if size == 0:
        raise ToolError(f"{path} is empty")
    return size


def same_file(a: Path, b: Path) -> bool:
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return a.resolve() == b.resolve()


def check_output(out: Path, inputs: list[Path], *, force: bool) -> None:
    """Refuse to write over an input, over a directory, or over an existing file without force."""
    for source in inputs:
        if same_file(out, source):
            raise ToolError(f"output {out} is the input file; choose another output path")
    if out.is_dir():
        raise ToolError(f"output {out} is a directory; give a file path")
    if out.exists() and not force:
        raise ToolError(f"output {out} already exists; allow overwriting (--force) to replace it")
    if not out.parent.is_dir():
        raise ToolError(f"output folder {out.parent} does not exist")


def _create_temp(path: Path) -> tuple[int, Path]:
    """A new file next to `path`, created with the user's umask (unlike mkstemp's 0600)."""
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue
        except OSError as exc:
            raise ToolError(f"cannot write in {path.parent} ({exc.strerror or exc})") from exc
    raise ToolError(f"cannot create a temporary file in {path.parent}")


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[BinaryIO]:
    """Write to a temporary file next to `path`; it replaces `path` only if the block succeeds.

    A replaced file keeps its permissions.
    """
    fd, tmp = _create_temp(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def iter_lines(path: Path, progress: ProgressCallback | None = None) -> Iterator[tuple[int, bytes]]:
    """Yield (1-based line number, raw line without its line ending) for every line of a file.

    Lines are split on b"\\n" only; a trailing "\\r" stays on the line so callers can see it.
    """
    total = path.stat().st_size
    ticker = Throttle(progress, total)
    done = 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            done += len(raw)
            ticker.update(done)
            yield number, raw[:-1] if raw.endswith(b"\n") else raw
    ticker.finish()


def derived_path(path: Path, tag: str) -> Path:
    """`data.jsonl` + `train` → `data.train.jsonl`, next to the input."""
    return path.with_name(f"{path.stem}.{tag}.jsonl")
