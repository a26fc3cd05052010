"""Export a fine-tuned model (mode 4, key `e` on the Models tab): pick the format and the
folder, watch the server's progress and the download, then read the command that serves the
result (`vllm serve …`, `llama-server -m …`, `ollama create …`). `tui.services.exports` does the
work, as for `ft-tui export`; failures become a toast and the form stays open to retry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, ProgressBar, Select, Static

from tui.core.exports import FORMAT_HELP, FORMATS, QUANTIZATIONS, ollama_name
from tui.core.save_paths import resolve_user_path
from tui.services.errors import describe_error
from tui.services.exports import ExportResult


def default_folder(start: Path, model: str, fmt: str) -> Path:
    return start / f"{ollama_name(model)}-{fmt}"


class ExportModelScreen(ModalScreen[ExportResult | None]):
    DEFAULT_CSS = """
    ExportModelScreen > .dialog { width: 100%; max-width: 110; }
    ExportModelScreen Select, ExportModelScreen Input { margin: 0 0 1 0; }
    ExportModelScreen #export-status { height: auto; max-height: 3; }
    ExportModelScreen #export-serve { height: auto; max-height: 6; color: $success; }
    ExportModelScreen .dialog-buttons { height: 3; }
    """
    BINDINGS = [
        Binding("f5", "export", "Export", id="export_model.start"),
        Binding("escape", "close", "Close", id="export_model.close"),
    ]

    def __init__(self, model: str, start: Path) -> None:
        super().__init__()
        self._model = model
        self._start = start
        self._exporting = False
        self.result: ExportResult | None = None

    def compose(self) -> ComposeResult:
        formats = [(f"{name}: {FORMAT_HELP[name]}", name) for name in FORMATS]
        with Vertical(classes="dialog"):
            yield Static(f"Export {self._model}", classes="title", markup=False)
            yield Label("Format")
            yield Select(formats, value="merged", allow_blank=False, id="export-format")
            yield Label("GGUF tensor type (gguf and ollama)")
            quantizations = [(q.upper(), q) for q in QUANTIZATIONS]
            yield Select(quantizations, value="f16", allow_blank=False, id="export-quant")
            yield Label("Folder to create")
            folder = default_folder(self._start, self._model, "merged")
            yield Input(str(folder), id="export-out")
            yield Checkbox("Replace an existing folder", id="export-force")
            yield ProgressBar(id="export-progress", show_eta=False)
            yield Static("", id="export-status", markup=False)
            yield Static("", id="export-serve", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Export (F5)", variant="primary", id="export-start")
                yield Button("Close (Esc)", id="export-close")

    def on_mount(self) -> None:
        self.query_one("#export-format", Select).focus()

    @on(Select.Changed, "#export-format")
    def _format_changed(self, event: Select.Changed) -> None:
        field = self.query_one("#export-out", Input)
        previous = {str(default_folder(self._start, self._model, f)) for f in FORMATS}
        if field.value in previous:  # the user has not typed their own folder: follow
            field.value = str(default_folder(self._start, self._model, str(event.value)))

    @on(Input.Submitted, "#export-out")
    @on(Button.Pressed, "#export-start")
    def action_export(self) -> None:
        if self._exporting:
            return
        text = self.query_one("#export-out", Input).value.strip()
        if not text:
            self.query_one("#export-status", Static).update("Give a folder to create.")
            return
        out = resolve_user_path(text, self._start)
        self._exporting = True
        self.query_one("#export-serve", Static).update("")
        self.query_one("#export-status", Static).update("Starting the export…")
        self._export(out)

    @work(exclusive=True, group="export-model", exit_on_error=False)
    async def _export(self, out: Path) -> None:
        from tui.services.exports import export_model

        bar = self.query_one(ProgressBar)
        status = self.query_one("#export-status", Static)
        fmt = str(self.query_one("#export-format", Select).value)

        def progress(stage: str, fraction: float) -> None:
            bar.update(total=100, progress=round(100 * fraction))
            status.update(f"{stage}…")

        connection: Any = getattr(self.app, "connection", None)
        try:
            result = await export_model(
                await connection.client(),
                connection.profile,
                self._model,
                fmt,
                out,
                quantization=str(self.query_one("#export-quant", Select).value)
                if fmt in ("gguf", "ollama")
                else None,
                force=self.query_one("#export-force", Checkbox).value,
                progress=progress,
            )
        except Exception as exc:  # every failure is a toast; the form stays for a retry
            message = describe_error(exc)
            status.update(str(message))
            self.notify(str(message), title="Export failed", severity="error", timeout=10)
            return
        finally:
            self._exporting = False
        self.result = result
        bar.update(total=100, progress=100)
        status.update(f"Exported to {result.path} ({len(result.files)} files).")
        self.query_one("#export-serve", Static).update(
            "Serve it with:\n" + "\n".join(f"  {c}" for c in result.serve_commands)
        )
        self.notify(f"Exported {self._model} to {result.path}", title="Export done", timeout=6)

    @on(Button.Pressed, "#export-close")
    def action_close(self) -> None:
        if self._exporting:
            self.workers.cancel_group(self, "export-model")
            self._exporting = False
            self.query_one("#export-status", Static).update(
                "Stopped: nothing was written to the folder."
            )
            return
        self.dismiss(self.result)
