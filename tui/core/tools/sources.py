"""Read tabular and JSON sources as a stream of records (field name → value).

Formats: CSV, TSV, JSON (an array of objects, read incrementally), JSONL of objects (including
legacy prompt/completion files) and XLSX (see `xlsx_source`). The format comes from the file
extension unless given.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

from tui.core.tools.decoding import choose_encoding, decoded_lines
from tui.core.tools.errors import ToolError
from tui.core.tools.files import check_input
from tui.core.tools.json_array import iter_json_array
from tui.core.tools.progress import ProgressCallback
from tui.core.tools.records import Record, RecordReader, Source

FORMATS = ("csv", "tsv", "json", "jsonl", "xlsx")
_EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".json": "json", ".jsonl": "jsonl"}
_EXTENSIONS |= {".ndjson": "jsonl", ".xlsx": "xlsx", ".xlsm": "xlsx"}
_SAMPLE_RECORDS = 50  # JSON sources have no header: field names come from the first records


def detect_format(path: Path, fmt: str | None = None) -> str:
    if fmt:
        if fmt not in FORMATS:
            raise ToolError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        return fmt
    kind = _EXTENSIONS.get(path.suffix.lower())
    if kind is None:
        raise ToolError(
            f"{path}: cannot tell the format from the extension {path.suffix or '(none)'!r}; "
            f"pass --format ({', '.join(FORMATS)})"
        )
    return kind


def open_source(
    path: Path, *, fmt: str | None = None, encoding: str | None = None, sheet: str | None = None
) -> Source:
    """Open `path` for reading records; raises `ToolError` on anything a user must fix."""
    check_input(path)
    kind = detect_format(path, fmt)
    if sheet and kind != "xlsx":
        raise ToolError("--sheet only applies to .xlsx workbooks")
    if kind == "xlsx":
        from tui.core.tools.xlsx_source import open_xlsx

        return open_xlsx(path, sheet)
    codec = choose_encoding(path, encoding)
    if kind in ("csv", "tsv"):
        return _csv_source(path, codec, "\t" if kind == "tsv" else ",", kind)
    if kind == "json" and _first_char(path, codec) == "[":
        return _json_source(path, kind, lambda p: iter_json_array(path, codec, p))
    return _json_source(path, "jsonl", lambda p: _jsonl_records(path, codec, p))


def _first_char(path: Path, codec: str) -> str:
    for line in decoded_lines(path, codec):
        stripped = line.strip()
        if stripped:
            return stripped[0]
    raise ToolError(f"{path} holds only blank lines")


def _json_source(path: Path, kind: str, reader: RecordReader) -> Source:
    columns: dict[str, None] = {}
    for record in islice(reader(None), _SAMPLE_RECORDS):
        columns.update(dict.fromkeys(record.fields))
    if not columns:
        raise ToolError(f"{path}: no records found")
    return Source(path, kind, list(columns), reader)


def _jsonl_records(path: Path, codec: str, progress: ProgressCallback | None) -> Iterator[Record]:
    for number, line in enumerate(decoded_lines(path, codec, progress), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ToolError(f"{path}: line {number} is not valid JSON ({exc.msg})") from exc
        if not isinstance(value, dict):
            raise ToolError(
                f"{path}: line {number} is a JSON {type(value).__name__}, expected an object"
            )
        yield Record(f"line {number}", value)


def _csv_header(path: Path, row: list[str]) -> list[str]:
    names = [name.strip() for name in row]
    for index, name in enumerate(names, start=1):
        if not name:
            raise ToolError(f"{path}: line 1: column {index} has no name in the header row")
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ToolError(f"{path}: line 1: column {name!r} appears twice in the header row")
        seen.add(name)
    return names


def _csv_rows(
    path: Path, codec: str, delimiter: str, progress: ProgressCallback | None
) -> Iterator[tuple[int, list[str]]]:
    """(line where the row starts, cells), strictly parsed; blank lines are skipped."""
    csv.field_size_limit(1 << 28)
    reader = csv.reader(decoded_lines(path, codec, progress), delimiter=delimiter, strict=True)
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ToolError(f"{path}: line {start}: malformed row ({exc})") from exc
        if any(cell.strip() for cell in row):
            yield start, row
        start = reader.line_num + 1


def _csv_source(path: Path, codec: str, delimiter: str, kind: str) -> Source:
    first = next(_csv_rows(path, codec, delimiter, None), None)
    if first is None:
        raise ToolError(f"{path} has no header row")
    header = _csv_header(path, first[1])

    def records(progress: ProgressCallback | None) -> Iterator[Record]:
        rows = _csv_rows(path, codec, delimiter, progress)
        next(rows)  # the header
        for line, row in rows:
            if len(row) != len(header):
                raise ToolError(
                    f"{path}: line {line}: the row has {len(row)} fields but the header has "
                    f"{len(header)}; fix the row (a field with the separator must be quoted)"
                )
            yield Record(f"line {line}", dict(zip(header, row, strict=True)))

    return Source(path, kind, header, records)
