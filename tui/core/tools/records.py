"""A source of records (field name → value), each with where it came from."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tui.core.tools.progress import ProgressCallback


@dataclass(frozen=True)
class Record:
    where: str  # "line 12", "item 3 (line 40)", "row 7": what a user finds in an editor
    fields: dict[str, object]


RecordReader = Callable[[ProgressCallback | None], Iterator[Record]]


@dataclass
class Source:
    path: Path
    kind: str
    columns: list[str]
    reader: RecordReader = field(repr=False)

    def records(self, progress: ProgressCallback | None = None) -> Iterator[Record]:
        """Stream the records; progress is in bytes (rows for workbooks)."""
        return self.reader(progress)
