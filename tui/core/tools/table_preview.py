"""What a table-shaped source (CSV, TSV, XLSX, a JSON array) looks like before it is converted:
its column names, its first rows and the guessed role mapping.

Such files are not JSONL: linting them line by line reports every line as broken JSON. The
Datasets screen shows this preview instead and names `convert` as the next step. The reading is
done by `sources.open_source` and the guess by `mapping.guess_mapping`; this module only takes the
first few records.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from tui.core.tools.errors import ToolError
from tui.core.tools.mapping import Mapping, guess_mapping
from tui.core.tools.sources import detect_format, open_source

TABLE_KINDS = ("csv", "tsv", "xlsx", "json")
PREVIEW_ROWS = 20
MAX_CELL = 200


@dataclass(frozen=True)
class TablePreview:
    path: Path
    kind: str  # csv, tsv, xlsx or json (an array)
    columns: list[str]
    rows: list[list[str]]  # the first rows, cells cut to MAX_CELL characters
    mapping: Mapping | None  # None when the file could not be read
    error: str | None = None

    @property
    def label(self) -> str:
        return "a JSON array" if self.kind == "json" else f"a {self.kind.upper()} table"


def is_table(path: Path) -> bool:
    """True for files that must be converted before they are a JSONL dataset."""
    try:
        kind = detect_format(path)
    except ToolError:
        return False
    if kind in ("csv", "tsv", "xlsx"):
        return True
    return kind == "json" and _starts_with_bracket(path)


def _starts_with_bracket(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    return text[:1] == b"["


def _cell(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = text.replace("\r", " ").replace("\n", " ")
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def table_preview(path: Path, limit: int = PREVIEW_ROWS) -> TablePreview:
    """Read the column names and the first `limit` records; a read error is kept, not raised."""
    kind = "json"
    try:
        kind = detect_format(path)
        source = open_source(path)
    except ToolError as exc:
        return TablePreview(path, kind, [], [], None, str(exc))
    columns = list(source.columns)
    rows: list[list[str]] = []
    error: str | None = None
    try:  # a bad row further down keeps the rows read before it
        for record in islice(source.records(), limit):
            rows.append([_cell(record.fields.get(name, "")) for name in columns])
    except ToolError as exc:
        error = str(exc)
    return TablePreview(path, kind, columns, rows, guess_mapping(columns), error)
