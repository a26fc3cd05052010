"""Mode 4, Files & models: what the user keeps on the backend, for OpenAI, Azure and the local
server alike.

Files tab: every remote file, loaded page by page in the background; filter by purpose, preview
the first lines (base64 result files decoded), download to an editable path (never overwriting
without asking), delete with confirmation, upload a local dataset (linted first).
Models tab: base models, fine-tuned models and checkpoints with owner, created, the job that made
them and days left before shutdown; chat with one, copy its id, delete a fine-tuned model. It is
one widget, `screens.files_models.ModelsPane`, with its own state and workers; this screen
composes it and keeps the mode's one keymap (ids `files.*`), whose Models keys call the pane.

The footer fits 80 columns: the tab keys (the tab bar shows the tabs), refresh and copy id are
listed by `?` and the palette rather than in the footer.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, ProgressBar, Static, TabbedContent, TabPane

from screens.base import ModeScreen, copy_text
from screens.confirm import ConfirmScreen
from screens.files_models import ModelsPane, report_health
from screens.files_transfers import download_with_prompt, upload_dataset
from screens.path_prompt import PathPrompt
from tui.core.plurals import plural
from tui.services.files import (
    PURPOSES,
    FileListing,
    FilesService,
    RemoteFile,
    human_size,
)
from tui.services.files import explain_error as explain
from tui.widgets.file_preview import FilePreview
from tui.widgets.files_table import FilesTable, describe_file

log = logging.getLogger("ft-tui.files")

RECHECK_SECONDS = 20.0
FILES_ONLY = {"preview", "download", "upload", "purpose"}
MODELS_ONLY = {"chat", "kind", "record_golden", "export"}


def _key(
    key: str, action: str, description: str, name: str, tooltip: str, show: bool = True
) -> Binding:
    return Binding(key, action, description, id=f"files.{name}", tooltip=tooltip, show=show)


class FilesScreen(ModeScreen):
    MODE = "files"
    BINDINGS = [  # not in the footer (show=False) but in `?` and the palette: see the docstring
        _key("f", "tab('files-tab')", "Files", "tab_files", "Show the remote files", show=False),
        _key("m", "tab('models-tab')", "Models", "tab_models", "Show the models", show=False),
        _key("r", "refresh", "Refresh", "refresh", "Reload the files or models", show=False),
        _key("v", "preview", "Preview", "preview", "First lines of the selected file (Enter)"),
        _key("d", "download", "Download", "download", "Save the selected file locally"),
        _key("u", "upload", "Upload", "upload", "Lint and upload a local JSONL dataset"),
        _key("p", "purpose", "Purpose", "purpose", "Show only files of one purpose (a picker)"),
        _key("c", "chat", "Chat", "chat", "Chat with the selected model (Enter)"),
        _key("k", "kind", "Kind", "kind", "All models, fine-tuned only, or base only"),
        _key("g", "record_golden", "Golden set", "record_golden", "Record what a model answers"),
        _key("e", "export", "Export", "export", "Export as adapter, merged, GGUF or Ollama"),
        _key("y", "copy_id", "Copy id", "copy_id", "Copy the selected id (OSC 52)", show=False),
        _key("x", "delete", "Delete", "delete", "Delete the selected file or fine-tuned model"),
        Binding("delete", "delete", "", id="files.delete_key", show=False),
        Binding("escape", "close_preview", "Close preview", id="files.close_preview", show=False),
    ]
    DEFAULT_CSS = """
    FilesScreen TabbedContent { height: 1fr; }
    FilesScreen TabPane { padding: 0; height: 1fr; }
    FilesScreen .files-status { height: 1; padding: 0 1; color: $text-muted; }
    FilesScreen #files-progress { display: none; padding: 0 1; height: 1; }
    FilesScreen #files-progress.-busy { display: block; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.listing = FileListing()
        self.purpose_counts: dict[str, int] = {}  # purpose → files, from the unfiltered list
        self.purposes_known = False  # an unfiltered listing ran to its end
        self.files_checked_at = time.monotonic()
        self.files_error = ""

    # -- layout ---------------------------------------------------------------------------------

    def compose_body(self) -> ComposeResult:
        with TabbedContent(initial="files-tab", id="files-tabs"):
            with TabPane("Files", id="files-tab"):
                yield Static("", id="files-status", classes="files-status", markup=False)
                yield ProgressBar(id="files-progress", show_eta=False)
                yield FilesTable(id="files-table")
                yield FilePreview(id="file-preview")
            with TabPane("Models", id="models-tab"):
                yield ModelsPane(id="models-pane")

    @property
    def models(self) -> ModelsPane:
        return self.query_one(ModelsPane)

    def on_mount(self) -> None:
        self._update_files_status()
        self.query_one(FilesTable).focus()
        self.load_files()

    @property
    def active_tab(self) -> str:
        return self.query_one(TabbedContent).active or "files-tab"

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.refresh_bindings()
        if event.pane.id == "models-tab":
            self.models.shown()
        else:
            self.query_one(FilesTable).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in FILES_ONLY:
            return self.active_tab == "files-tab"
        if action in MODELS_ONLY:
            return self.active_tab == "models-tab"
        if action == "close_preview":
            return self.query_one(FilePreview).shown
        return True

    def on_screen_resume(self) -> None:
        # Back from another mode (a job may have written result files): add what is new on top,
        # without clearing the list or moving the cursor.
        if self.listing.complete and time.monotonic() - self.files_checked_at > RECHECK_SECONDS:
            self.check_new_files()

    @work(exclusive=True, group="files-new", exit_on_error=False, description="New files")
    async def check_new_files(self) -> None:
        self.files_checked_at = time.monotonic()
        try:
            newest = await FilesService(await self.ft.connection.client()).newest(
                self.listing.purpose
            )
        except Exception as exc:  # a background check stays quiet; `r` shows the error
            log.info("checking for new files failed: %s", exc)
            return
        self.query_one(FilesTable).add_files(newest, at_top=True, select=False)
        self._update_files_status()

    def on_profile_changed(self) -> None:
        self.listing = FileListing(purpose=self.listing.purpose)
        self.query_one(FilesTable).clear_files()
        self.query_one(FilePreview).hide()
        self.load_files()
        self.models.profile_changed(visible=self.active_tab == "models-tab")

    # -- status lines ---------------------------------------------------------------------------

    def _update_files_status(self) -> None:
        purpose = self.listing.purpose or "all purposes"
        table = self.query_one(FilesTable)
        count = len(table.files)
        noun = "file" if count == 1 else "files"
        if self.files_error:
            state = f"{count:,} {noun} · {self.files_error}"
        elif not self.listing.complete:
            state = f"{count:,} {noun} (more loading…)"
        else:
            state = f"{count:,} {noun}"
        selected = table.selected_file
        if selected is not None and not self.files_error:
            state += f" · {describe_file(selected, time.time())}"
        self.query_one("#files-status", Static).update(f"{purpose} · {state}")

    # -- files: listing and preview -------------------------------------------------------------

    @work(exclusive=True, group="files-list", exit_on_error=False, description="Listing files")
    async def load_files(self) -> None:
        table = self.query_one(FilesTable)
        self.files_error = ""
        self._update_files_status()
        try:
            service = FilesService(await self.ft.connection.client())
            listing = self.listing
            if listing.purpose is None:
                self.purpose_counts.clear()
            async for page in service.pages(listing):
                table.add_files(page)
                if listing.purpose is None:  # the unfiltered list tells which purposes exist
                    for file in page:
                        self.purpose_counts[file.purpose] = (
                            self.purpose_counts.get(file.purpose, 0) + 1
                        )
                self._update_files_status()
            if listing.purpose is None and listing.complete:
                self.purposes_known = True
            report_health(self, None)
        except Exception as exc:
            report_health(self, exc)
            self.files_error = f"listing stopped: {explain(exc, 'list files')}"
            self.notify(explain(exc, "list files"), title="Files not listed", severity="error")
        self._update_files_status()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if isinstance(event.data_table, FilesTable):  # the Models pane handles its own table
            self._update_files_status()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if isinstance(event.data_table, FilesTable):
            event.stop()
            self.action_preview()

    def action_preview(self) -> None:
        file = self.query_one(FilesTable).selected_file
        if file is None:
            self.notify("No file selected", severity="warning")
            return
        self.query_one(FilePreview).show_loading(file)
        self.refresh_bindings()
        self.load_preview(file)

    @work(exclusive=True, group="files-preview", exit_on_error=False, description="Preview")
    async def load_preview(self, file: RemoteFile) -> None:
        pane = self.query_one(FilePreview)
        try:
            preview = await FilesService(await self.ft.connection.client()).preview(file)
        except Exception as exc:
            pane.hide()
            self.refresh_bindings()
            self.notify(explain(exc, "preview"), title="No preview", severity="error")
            return
        pane.show_preview(file, preview)

    def action_close_preview(self) -> None:
        self.query_one(FilePreview).hide()
        self.refresh_bindings()
        self.query_one(FilesTable).focus()

    def action_purpose(self) -> None:
        self.pick_purpose()

    @work(group="files-purpose", exit_on_error=False)
    async def pick_purpose(self) -> None:
        """A picker of the purposes the files have (from the last unfiltered listing), with
        counts; before any listing, every purpose the API knows."""
        from screens.model_picker import PickerItem, PickerScreen

        counts = dict(self.purpose_counts)
        known = bool(counts) or self.purposes_known
        names = sorted(counts, key=lambda p: (-counts[p], p)) if known else list(PURPOSES)

        async def items() -> list[PickerItem]:
            total = sum(counts.values())
            every = PickerItem("*", "all purposes", plural(total, "file") if known else "")
            return [every] + [
                PickerItem(p, p, plural(counts[p], "file") if p in counts else "") for p in names
            ]

        current = self.listing.purpose or "*"
        choice = await self.app.push_screen_wait(
            PickerScreen("Show files of which purpose?", items, current=current)
        )
        if choice is None or choice == current:
            return
        self.listing = FileListing(purpose=None if choice == "*" else choice)
        self.query_one(FilesTable).clear_files()
        self.query_one(FilePreview).hide()
        self.load_files()

    def action_refresh(self) -> None:
        if self.active_tab == "models-tab":
            self.models.load()
            return
        self.listing = FileListing(purpose=self.listing.purpose)
        self.query_one(FilesTable).clear_files()
        self.load_files()

    # -- files: download, delete, upload --------------------------------------------------------

    def action_download(self) -> None:
        file = self.query_one(FilesTable).selected_file
        if file is None:
            self.notify("No file selected", severity="warning")
            return
        self.download_file(file)

    @work(exclusive=True, group="files-download", exit_on_error=False, description="Download")
    async def download_file(self, file: RemoteFile) -> None:
        service = FilesService(await self.ft.connection.client())
        await download_with_prompt(self, service, file, self._busy)

    def _busy(self, total: int) -> _Progress:
        return _Progress(self.query_one("#files-progress", ProgressBar), total)

    def action_delete(self) -> None:
        if self.active_tab == "models-tab":
            self.models.delete_selected()
            return
        file = self.query_one(FilesTable).selected_file
        if file is None:
            self.notify("No file selected", severity="warning")
            return
        self.delete_file(file)

    @work(exclusive=True, group="files-delete", exit_on_error=False, description="Delete file")
    async def delete_file(self, file: RemoteFile) -> None:
        service = FilesService(await self.ft.connection.client())
        try:
            users = await service.jobs_using(file.id)
        except Exception as exc:  # some backends list no jobs; deleting still works
            log.info("jobs using %s unknown: %s", file.id, exc)
            users = []
        message = f"{file.filename} ({file.id}, {file.purpose}, {human_size(file.bytes)})"
        message += "\nThis cannot be undone."
        if users:
            message += (
                f"\n\nStill used by unfinished job {', '.join(users[:3])}: the server may refuse,"
                " or the job may fail."
            )
        confirmed = await self.app.push_screen_wait(
            ConfirmScreen("Delete file?", message, confirm_label="Delete", danger=True)
        )
        if not confirmed:
            return
        try:
            await service.delete(file.id)
        except Exception as exc:
            self.notify(explain(exc, "delete file"), title="Not deleted", severity="error")
            return
        self.query_one(FilesTable).remove_file(file.id)
        preview = self.query_one(FilePreview)
        if preview.shown:
            preview.hide()
            self.refresh_bindings()
        self._update_files_status()
        self.notify(f"Deleted {file.id} ({file.filename})", timeout=4)

    def action_upload(self) -> None:
        self.upload_file()

    @work(exclusive=True, group="files-upload", exit_on_error=False, description="Upload")
    async def upload_file(self) -> None:
        start = Path(self.ft.start_path)
        initial = str(start) if start.is_file() else os.path.join(start, "")  # "dir/" to type on
        path = await self.app.push_screen_wait(
            PathPrompt(
                "Upload a dataset (purpose fine-tune)",
                initial,
                help_text=_UPLOAD_HELP,
                must_exist=True,
            )
        )
        if path is None:
            return
        uploaded = await upload_dataset(self, path, self._busy)
        if uploaded is None:
            return
        if self.listing.purpose in (None, uploaded.purpose):
            self.query_one(FilesTable).add_files([uploaded], at_top=True)
        self._update_files_status()
        self.notify(f"Uploaded {path.name} as {uploaded.id}", title="Upload done", timeout=6)

    # -- models: the pane's own actions (MODELS_ONLY: enabled on the Models tab) ----------------

    def action_chat(self) -> None:
        self.models.chat()

    def action_kind(self) -> None:
        self.models.cycle_kind()

    def action_record_golden(self) -> None:
        self.models.record_golden()

    def action_export(self) -> None:
        self.models.export()

    # -- both tabs ------------------------------------------------------------------------------

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def action_copy_id(self) -> None:
        if self.active_tab == "models-tab":
            self.models.copy_id()
            return
        selected = self.query_one(FilesTable).selected_file
        if selected is None:
            self.notify("Nothing selected", severity="warning")
            return
        copy_text(self, selected.id, "file id")


class _Progress:
    """Shows the shared progress bar while a transfer runs; callable as a progress callback."""

    def __init__(self, bar: ProgressBar, total: int) -> None:
        self.bar = bar
        self.total = max(total, 1)

    def __enter__(self) -> _Progress:
        self.bar.update(total=self.total, progress=0)
        self.bar.add_class("-busy")
        return self

    def __exit__(self, *_exc: object) -> None:
        self.bar.remove_class("-busy")

    def __call__(self, done: int, total: int) -> None:
        self.bar.update(total=max(total, 1), progress=done)


_UPLOAD_HELP = "A JSONL dataset; it is linted first: errors block the upload, warnings are shown."
