"""What a file's content looks like: base64 detection and streaming decoding, and the first
lines of a content prefix. Pure functions, no I/O.

Result files of fine-tuning jobs may arrive base64-encoded (the official function-calling cookbook
decodes them before printing); a plain CSV or JSONL never looks like base64, because commas,
braces and quotes are outside its alphabet.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

PREVIEW_BYTES = 64 * 1024
PREVIEW_LINES = 200
SNIFF_BYTES = 4096
_B64_BODY = re.compile(rb"^[A-Za-z0-9+/\s]*={0,2}\s*$")
_B64_ALPHABET = re.compile(rb"^[A-Za-z0-9+/=\s]*$")


@dataclass(frozen=True)
class FilePreview:
    file_id: str
    lines: list[str]
    truncated: bool
    decoded_base64: bool = False
    binary: bool = False
    bytes_read: int = 0


def looks_base64(prefix: bytes) -> bool:
    """True when a content prefix is base64 text that decodes to readable text.

    A plain CSV or JSONL never passes: commas, braces and quotes are outside the alphabet.
    """
    sample = prefix[:SNIFF_BYTES]
    compact = b"".join(sample.split())
    if len(compact) < 8 or not _B64_ALPHABET.match(sample):
        return False
    if len(sample) == len(prefix) and not _B64_BODY.match(sample):
        return False  # the whole content is here, so padding may only sit at the end
    usable = len(compact) - len(compact) % 4
    try:
        decoded = base64.b64decode(compact[:usable], validate=True)
    except (binascii.Error, ValueError):
        return False
    text = decoded.decode("utf-8", errors="ignore")
    if not text:
        return False
    printable = sum(1 for ch in text if ch.isprintable() or ch in "\r\n\t")
    return printable / len(text) > 0.95


class Base64Stream:
    """Decode base64 arriving in arbitrary chunks (whitespace and line breaks allowed)."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, chunk: bytes) -> bytes:
        data = self._pending + b"".join(chunk.split())
        usable = len(data) - len(data) % 4
        self._pending = data[usable:]
        return base64.b64decode(data[:usable]) if usable else b""

    def finish(self) -> bytes:
        if not self._pending:
            return b""
        padded = self._pending + b"=" * (-len(self._pending) % 4)
        self._pending = b""
        try:
            return base64.b64decode(padded)
        except (binascii.Error, ValueError):
            return b""


class DecodingSink:
    """Pass bytes through, or decode them when the first few KB turn out to be base64."""

    def __init__(self, decode: bool) -> None:
        self._decode = decode
        self._head = b""
        self._decoder: Base64Stream | None = None
        self._decided = False
        self.written = 0

    @property
    def decoded(self) -> bool:
        return self._decoder is not None

    def _decide(self) -> bytes:
        data, self._head, self._decided = self._head, b"", True
        if self._decode and looks_base64(data):
            self._decoder = Base64Stream()
        return self._emit(data)

    def _emit(self, data: bytes) -> bytes:
        out = self._decoder.feed(data) if self._decoder else data
        self.written += len(out)
        return out

    def feed(self, chunk: bytes) -> bytes:
        if self._decided:
            return self._emit(chunk)
        self._head += chunk
        return self._decide() if len(self._head) >= SNIFF_BYTES else b""

    def finish(self) -> bytes:
        out = b"" if self._decided else self._decide()
        if self._decoder:
            tail = self._decoder.finish()
            self.written += len(tail)
            out += tail
        return out


def is_binary(data: bytes) -> bool:
    return b"\x00" in data[:8192]


def preview_from_bytes(
    file_id: str, data: bytes, *, complete: bool, max_lines: int = PREVIEW_LINES
) -> FilePreview:
    """The first lines of a content prefix; `complete` says whether it is the whole file."""
    decoded = False
    if looks_base64(data):
        stream = Base64Stream()
        data = stream.feed(data) + (stream.finish() if complete else b"")
        decoded = True
    if is_binary(data):
        return FilePreview(file_id, [], not complete, decoded, binary=True, bytes_read=len(data))
    text = data.decode("utf-8", errors="replace")
    lines = text.splitlines()
    truncated = not complete
    if truncated and lines and not text.endswith(("\n", "\r")):
        lines.pop()  # the last line was cut by the byte limit; never show half a record
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        truncated = True
    return FilePreview(file_id, lines, truncated, decoded, bytes_read=len(data))
