"""Renders a `TablePreview` (a CSV/TSV/XLSX table or a JSON array): the first rows under their
column names, the guessed role mapping, and convert (`c`) as the next step."""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from tui.core.plurals import plural
from tui.core.tools.table_preview import TablePreview


def render_table_preview(preview: TablePreview) -> RenderableType:
    parts: list[RenderableType] = []
    head = Text()
    head.append(f"{preview.path.name} is {preview.label}, not JSONL", style="bold")
    if preview.columns:
        columns, rows = plural(len(preview.columns), "column"), plural(len(preview.rows), "row")
        head.append(f" · {columns} · first {rows}")
    parts.append(head)
    if preview.columns:
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, expand=False)
        for name in preview.columns:
            table.add_column(name, overflow="ellipsis", no_wrap=True, max_width=40)
        for row in preview.rows:
            table.add_row(*row)
        parts.append(table)
    if preview.mapping is not None:
        parts.append(Text(f"Guessed roles: {preview.mapping.describe()}", style="cyan"))
    if preview.error:
        parts.append(Text(preview.error, style="bold red"))
    parts.append(
        Text(
            "Next: press c to convert it to a JSONL chat dataset (you can change the roles there);"
            " the new file is then linted.",
            style="bold green",
        )
    )
    return Group(*parts)
