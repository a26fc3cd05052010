"""Read the first (or a named) sheet of an .xlsx workbook as records; needs `openpyxl`."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tui.core.tools.errors import ToolError
from tui.core.tools.progress import ProgressCallback, Throttle
from tui.core.tools.records import Record, Source


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


def _load(path: Path) -> Any:
    try:
        import openpyxl
    except ImportError as exc:
        raise ToolError(
            "reading .xlsx needs the optional package openpyxl: pip install 'ft-tui[xlsx]'"
        ) from exc
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        raise ToolError(f"{path}: not a readable .xlsx workbook ({exc})") from exc


def _sheet(workbook: Any, path: Path, name: str | None) -> Any:
    names: list[str] = list(workbook.sheetnames)
    if name is None:
        return workbook.worksheets[0]
    if name not in names:
        raise ToolError(f"{path}: no sheet named {name!r}; sheets: {', '.join(names)}")
    return workbook[name]


def _rows(sheet: Any) -> Iterator[tuple[int, list[str]]]:
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        cells = [_cell_text(v) for v in values]
        if any(c.strip() for c in cells):
            yield number, cells


def _header(path: Path, sheet_title: str, number: int, cells: list[str]) -> list[str]:
    while cells and not cells[-1].strip():
        cells = cells[:-1]
    names = [c.strip() for c in cells]
    for index, name in enumerate(names, start=1):
        if not name:
            raise ToolError(
                f"{path}: sheet {sheet_title!r} row {number}: column {index} has no name"
            )
    if len(set(names)) != len(names):
        raise ToolError(f"{path}: sheet {sheet_title!r} row {number}: a column name repeats")
    return names


def open_xlsx(path: Path, sheet_name: str | None) -> Source:
    workbook = _load(path)
    try:
        sheet = _sheet(workbook, path, sheet_name)
        first = next(_rows(sheet), None)
        if first is None:
            raise ToolError(f"{path}: sheet {sheet.title!r} is empty")
        header = _header(path, sheet.title, *first)
    finally:
        workbook.close()
    title: str = sheet.title

    def records(progress: ProgressCallback | None) -> Iterator[Record]:
        book = _load(path)
        try:
            ws = book[title]
            ticker = Throttle(progress, int(ws.max_row or 0))
            rows = _rows(ws)
            next(rows)
            for number, cells in rows:
                ticker.update(number)
                extra = [c for c in cells[len(header) :] if c.strip()]
                if extra:
                    raise ToolError(
                        f"{path}: sheet {title!r} row {number} has values beyond the "
                        f"{len(header)} named columns"
                    )
                cells = cells[: len(header)] + [""] * (len(header) - len(cells))
                yield Record(f"row {number}", dict(zip(header, cells, strict=True)))
            ticker.finish()
        finally:
            book.close()

    return Source(path, "xlsx", header, records)
