"""Turn a text file into decoded lines, naming the exact line when the encoding is wrong."""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from pathlib import Path

from tui.core.tools.errors import ToolError
from tui.core.tools.progress import ProgressCallback, Throttle

ENCODING_HINT = "choose its encoding (--encoding), for example cp1252, latin-1 or utf-16"


def choose_encoding(path: Path, requested: str | None) -> str:
    """The codec to read `path` with: the one asked for, else UTF-16 by BOM, else UTF-8."""
    if requested:
        try:
            return codecs.lookup(requested).name
        except LookupError as exc:
            raise ToolError(f"unknown encoding {requested!r}") from exc
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8-sig"  # plain UTF-8 too; a UTF-8 BOM is dropped


def _ascii_compatible(encoding: str) -> bool:
    if encoding == "utf-8-sig":
        return True
    try:
        return "\n\r,".encode(encoding) == b"\n\r,"
    except (UnicodeError, LookupError):
        return False


def decoded_lines(
    path: Path, encoding: str, progress: ProgressCallback | None = None
) -> Iterator[str]:
    """Yield the lines of `path` (with their endings) decoded with `encoding`.

    ASCII-compatible encodings are decoded line by line so that a decoding error names its line.
    """
    total = path.stat().st_size
    ticker = Throttle(progress, total)
    if not _ascii_compatible(encoding):
        yield from _wide_lines(path, encoding, ticker)
        ticker.finish()
        return
    done = 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            done += len(raw)
            ticker.update(done)
            if number == 1 and encoding == "utf-8-sig":
                raw = raw.removeprefix(codecs.BOM_UTF8)
            try:
                yield raw.decode("utf-8" if encoding == "utf-8-sig" else encoding)
            except UnicodeDecodeError as exc:
                raise ToolError(
                    f"{path}: line {number} is not valid {encoding.removesuffix('-sig')} "
                    f"(byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); {ENCODING_HINT}"
                ) from exc
    ticker.finish()


def _wide_lines(path: Path, encoding: str, ticker: Throttle) -> Iterator[str]:
    number = 0
    with path.open("rb") as raw, io.TextIOWrapper(raw, encoding=encoding, newline="") as reader:
        try:
            for number, line in enumerate(reader, start=1):  # noqa: B007 - used in the error
                ticker.update(raw.tell())
                yield line
        except UnicodeDecodeError as exc:
            raise ToolError(
                f"{path}: text after line {number} is not valid {encoding}; {ENCODING_HINT}"
            ) from exc
