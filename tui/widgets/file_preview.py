"""The first lines of a remote file, numbered; says when the content was base64-decoded or cut."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui.core.byte_sizes import human_size
from tui.services.file_content import FilePreview as Preview
from tui.services.files import RemoteFile


def describe_preview(file: RemoteFile, preview: Preview) -> str:
    parts = [f"{file.filename or file.id} · {file.id} · {human_size(file.bytes)}"]
    if preview.decoded_base64:
        parts.append("decoded from base64")
    if preview.binary:
        parts.append("binary content, not shown")
    elif preview.truncated:
        parts.append(f"first {len(preview.lines)} lines")
    else:
        parts.append(f"{len(preview.lines)} lines")
    return " · ".join(parts)


class FilePreview(VerticalScroll):
    """Scrollable preview pane; hidden until a file is shown."""

    DEFAULT_CSS = """
    FilePreview { height: 45%; border-top: solid $accent; display: none; }
    FilePreview.-shown { display: block; }
    FilePreview #preview-summary { text-style: bold; padding: 0 1; }
    FilePreview #preview-body { padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="preview-summary", markup=False)
        yield Static(id="preview-body", markup=False)

    @property
    def summary(self) -> str:
        return str(self.query_one("#preview-summary", Static).render())

    @property
    def body_text(self) -> str:
        return str(self.query_one("#preview-body", Static).render())

    def show_loading(self, file: RemoteFile) -> None:
        self.add_class("-shown")
        self.query_one("#preview-summary", Static).update(f"Loading {file.id}…")
        self.query_one("#preview-body", Static).update("")

    def show_preview(self, file: RemoteFile, preview: Preview) -> None:
        self.add_class("-shown")
        self.query_one("#preview-summary", Static).update(describe_preview(file, preview))
        body = Text(no_wrap=True, overflow="ellipsis")
        width = len(str(len(preview.lines)))
        for number, line in enumerate(preview.lines, start=1):
            body.append(f"{number:>{width}} ", style="dim")
            body.append(line)
            body.append("\n")
        if not preview.lines and not preview.binary:
            body.append("(empty)", style="dim")
        if preview.truncated and not preview.binary:
            body.append("… (download the file to see the rest)", style="dim italic")
        self.query_one("#preview-body", Static).update(body)
        self.scroll_home(animate=False)

    def hide(self) -> None:
        self.remove_class("-shown")

    @property
    def shown(self) -> bool:
        return self.has_class("-shown")
