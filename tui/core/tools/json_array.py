"""Stream the objects of a JSON array file without loading the whole file."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

from tui.core.tools.decoding import ENCODING_HINT
from tui.core.tools.errors import ToolError
from tui.core.tools.progress import ProgressCallback, Throttle
from tui.core.tools.records import Record

_CHUNK = 1 << 20
_WHITESPACE = " \t\r\n"


class _Buffer:
    """A sliding window over the decoded text with a line counter for messages."""

    def __init__(self, path: Path, encoding: str, progress: ProgressCallback | None):
        self.path = path
        self._raw = path.open("rb")
        self._text = io.TextIOWrapper(self._raw, encoding=encoding, newline="")
        self._ticker = Throttle(progress, path.stat().st_size)
        self.data = ""
        self.pos = 0
        self.line = 1
        self.eof = False

    def close(self) -> None:
        self._text.close()

    def refill(self) -> bool:
        if self.eof:
            return False
        try:
            chunk = self._text.read(_CHUNK)
        except UnicodeDecodeError as exc:
            raise ToolError(
                f"{self.path}: text after line {self.line} is not valid {self._text.encoding}; "
                f"{ENCODING_HINT}"
            ) from exc
        self._ticker.update(self._raw.tell())
        if not chunk:
            self.eof = True
            self._ticker.finish()
            return False
        self.data = self.data[self.pos :] + chunk
        self.pos = 0
        return True

    def advance(self, end: int) -> None:
        self.line += self.data.count("\n", self.pos, end)
        self.pos = end

    def next_char(self) -> str:
        """Skip whitespace; return the next character, or "" at the end of the file."""
        while True:
            while self.pos < len(self.data) and self.data[self.pos] in _WHITESPACE:
                self.advance(self.pos + 1)
            if self.pos < len(self.data):
                return self.data[self.pos]
            if not self.refill():
                return ""


def iter_json_array(
    path: Path, encoding: str, progress: ProgressCallback | None = None
) -> Iterator[Record]:
    buf = _Buffer(path, encoding, progress)
    decoder = json.JSONDecoder()
    try:
        if buf.next_char() != "[":
            raise ToolError(f"{path}: expected a JSON array of objects")
        buf.advance(buf.pos + 1)
        index = 0
        while True:
            char = buf.next_char()
            if char == "]":
                buf.advance(buf.pos + 1)
                if buf.next_char():
                    raise ToolError(f"{path}: line {buf.line}: unexpected text after the array")
                return
            if index:
                if char != ",":
                    raise ToolError(f"{path}: line {buf.line}: expected ',' or ']' after item")
                buf.advance(buf.pos + 1)
                buf.next_char()
            index += 1
            value, start_line = _decode_item(buf, decoder, index)
            if not isinstance(value, dict):
                raise ToolError(
                    f"{path}: item {index} (line {start_line}) is a JSON "
                    f"{type(value).__name__}, expected an object"
                )
            yield Record(f"item {index} (line {start_line})", value)
    finally:
        buf.close()


def _decode_item(buf: _Buffer, decoder: json.JSONDecoder, index: int) -> tuple[object, int]:
    while True:
        try:
            value, end = decoder.raw_decode(buf.data, buf.pos)
        except json.JSONDecodeError as exc:
            if buf.refill():
                continue
            raise ToolError(
                f"{buf.path}: item {index} (line {buf.line}) is not valid JSON ({exc.msg})"
            ) from exc
        if end == len(buf.data) and buf.refill():
            continue  # a number or literal may continue in the next chunk
        start_line = buf.line
        buf.advance(end)
        return value, start_line
