"""An export folder streamed as an uncompressed tar archive, with its exact size up front.

Weights do not compress, and gzip would cost minutes of CPU for a large model, so the archive is
plain tar. `tarfile` writes each member's header (`TarInfo.tobuf`); the file bodies are streamed
in chunks here, so a multi-gigabyte export never sits in memory and `Content-Length` is known.
"""

from __future__ import annotations

import tarfile
from collections.abc import Iterator
from pathlib import Path

BLOCK = tarfile.BLOCKSIZE
CHUNK = 1 << 20


def _members(folder: Path) -> list[tuple[Path, bytes, int]]:
    members: list[tuple[Path, bytes, int]] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        info = tarfile.TarInfo(path.relative_to(folder).as_posix())
        stat = path.stat()
        info.size = stat.st_size
        info.mtime = int(stat.st_mtime)
        info.mode = 0o644
        header = info.tobuf(format=tarfile.PAX_FORMAT, encoding="utf-8", errors="strict")
        members.append((path, header, stat.st_size))
    return members


def _padding(size: int) -> int:
    return (BLOCK - size % BLOCK) % BLOCK


def tar_size(folder: Path) -> int:
    total = sum(len(header) + size + _padding(size) for _, header, size in _members(folder))
    return total + 2 * BLOCK


def iter_tar(folder: Path) -> Iterator[bytes]:
    """The archive's bytes, in chunks of at most ~1 MiB."""
    for path, header, size in _members(folder):
        yield header
        sent = 0
        with path.open("rb") as handle:
            while sent < size:
                chunk = handle.read(min(CHUNK, size - sent))
                if not chunk:
                    raise OSError(f"{path} shrank while it was being sent")
                sent += len(chunk)
                yield chunk
        if _padding(size):
            yield b"\0" * _padding(size)
    yield b"\0" * (2 * BLOCK)
