"""Streaming multipart/form-data parsing: text fields into memory, one file part to disk.

Bytes go straight to the target file as they arrive (never the whole upload in memory), and
writing stops once the size cap is passed; the caller then answers 413. python-multipart does the
parsing; its `finalize()` does not check that the body reached its closing boundary, so the
`on_end` callback does: a truncated body is a 400 and the caller stores nothing. A body that stalls
is a 408 (tui.local.validation.timed_chunks)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from tui.local.api_common import body_timeout_s
from tui.local.errors import bad_request
from tui.local.validation import BODY_READ_TIMEOUT_S, timed_chunks

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

MAX_FIELD_BYTES = 64 * 1024
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")


MAX_FILENAME = 255
MAX_EXTENSION = 16


def sanitize_filename(raw: str) -> str:
    """The last path component without control characters or leading dots, at most 255
    characters: a longer name loses the end of its stem, never its extension. A name that is
    only an extension (`.jsonl`) stays as it is, so the caller can say what is wrong with it."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("", name).strip()
    stem, dot, extension = name.rpartition(".")
    if dot and not stem.strip("."):
        return name[-MAX_FILENAME:]  # "", ".", ".jsonl", "..jsonl": no stem
    name = name.lstrip(".")
    if len(name) <= MAX_FILENAME:
        return name or "upload.jsonl"
    stem, dot, extension = name.rpartition(".")
    if not dot or len(extension) > MAX_EXTENSION:
        return name[:MAX_FILENAME]
    return stem[: MAX_FILENAME - len(extension) - 1] + "." + extension


class StreamedUpload:
    """Multipart callbacks: text fields into memory, the `file` part straight into `target`."""

    def __init__(self, target: Path, max_bytes: int, file_field: str = "file") -> None:
        self.target = target
        self.file_field = file_field
        self.max_bytes = max_bytes
        self.fields: dict[str, str] = {}
        self.filename: str | None = None
        self.size = 0
        self.too_large = False
        self.complete = False  # the closing boundary was seen
        self._header_name = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._part_name = ""
        self._buffer = bytearray()
        self._handle: Any = None

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_val,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _end(self) -> None:
        self.complete = True

    def _part_begin(self) -> None:
        self._headers = {}
        self._buffer = bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_val(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._header_name.lower()] = self._header_value
        self._header_name, self._header_value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._part_name = options.get(b"name", b"").decode("utf-8", "replace")
        raw_filename = options.get(b"filename", b"")
        if self._part_name == self.file_field:
            if self._handle is not None:
                raise bad_request(
                    f"Send exactly one '{self.file_field}' part.", param=self.file_field
                )
            self.filename = sanitize_filename(raw_filename.decode("utf-8", "replace"))
            self._handle = self.target.open("wb")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._part_name == self.file_field and self._handle is not None:
            self.size += len(chunk)
            if self.size > self.max_bytes:
                self.too_large = True
            if not self.too_large:
                self._handle.write(chunk)
        elif len(self._buffer) + len(chunk) <= MAX_FIELD_BYTES:
            self._buffer += chunk
        else:
            raise bad_request(f"Form field '{self._part_name}' is too long.", param=self._part_name)

    def _part_end(self) -> None:
        if self._part_name == self.file_field and self._handle is not None:
            self._handle.close()
        elif self._part_name:
            self.fields[self._part_name] = self._buffer.decode("utf-8", "replace")

    def close(self) -> None:
        if self._handle is not None and not self._handle.closed:
            self._handle.close()


def multipart_boundary(request: Request) -> bytes | None:
    content_type, options = parse_options_header(request.headers.get("content-type"))
    boundary = options.get(b"boundary")
    return boundary if content_type == b"multipart/form-data" and boundary else None


TRUNCATED = (
    "The multipart body ended before its closing boundary (the upload was cut short); "
    "nothing was stored. Send the whole body again."
)


async def receive_upload(request: Request, upload: StreamedUpload, boundary: bytes) -> None:
    """Feed the whole body through the parser (reading on past the cap, writing nothing)."""
    await feed_multipart(request.stream(), upload, boundary, body_timeout_s(request))


async def feed_multipart(
    chunks: AsyncIterator[bytes],
    upload: StreamedUpload,
    boundary: bytes,
    timeout_s: float = BODY_READ_TIMEOUT_S,
) -> None:
    """Parse `chunks` into `upload`; ApiError 400 when the body stops before its closing
    boundary, 408 when a chunk takes longer than `timeout_s` to come."""
    parser = MultipartParser(boundary, upload.callbacks())
    async for chunk in timed_chunks(chunks, timeout_s):
        if not upload.too_large:
            parser.write(chunk)
    if upload.too_large:
        return
    parser.finalize()
    if not upload.complete:
        raise bad_request(TRUNCATED, code="truncated_body")
