"""The Models tab of mode 4 as one widget, `ModelsPane`: base models, fine-tuned models and
checkpoints with the job that made them and days left before shutdown; chat with one (hand-off
`FtApp.open_chat(<id>)`), filter by kind, record a golden set, export, copy the id, delete a
fine-tuned model.

The pane owns its state (inventory, kind filter, loaded/error, deleted models), its status line,
its `ModelsTable` and detail line, and its workers. It lives under `screens/`, not `tui.widgets`,
because it talks to the app's typed hand-offs (`ft_app`: connection, `open_chat`, start path) and
opens screens (confirm, export, record golden set); `tui.widgets` never imports screens.

The keys stay on `screens.files.FilesScreen`, which composes this pane in its Models tab: one
keymap per mode (ids `files.*`), one footer, the keys help listing them as the screen's own,
and keys that work wherever the focus is on that screen (the tab bar too). The screen's actions
call the public methods here.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static
from textual.worker import Worker

from screens.base import copy_text, ft_app, toast_worker_error
from screens.confirm import ConfirmScreen
from tui.core.model_names import BASE, CHECKPOINT, FINE_TUNED, today_utc
from tui.core.plurals import plural
from tui.services.files import explain_error as explain
from tui.services.model_inventory import (
    ModelEntry,
    ModelInventory,
    ModelInventoryService,
)
from tui.widgets.models_table import ModelsTable, describe_model

if TYPE_CHECKING:
    from openai import AsyncOpenAI
    from textual.dom import DOMNode

log = logging.getLogger("ft-tui.files")

KIND_CHOICES: tuple[str | None, ...] = (None, FINE_TUNED, BASE)
NOT_SERVED = (
    "Its job succeeded, but the server does not serve it yet: a new fine-tuned model can take a"
    " few minutes to appear. Press r to refresh."
)
NOT_EXPORTABLE = "Base models are not exported: pick a fine-tuned model or a checkpoint."
NOT_DELETABLE = {
    BASE: "Base models belong to the provider; only your fine-tuned models can be deleted.",
    CHECKPOINT: "Checkpoints are kept with their job; delete the fine-tuned model instead.",
}


def report_health(node: DOMNode, error: Exception | None) -> None:
    """The header's connection health follows what a listing of either tab saw. With no usable
    profile there is no connection to report to: the listing's own error says why."""
    try:
        connection = ft_app(node).connection
    except Exception as exc:  # the settings problem was toasted at startup
        log.debug("health not reported: %s", exc)
        return
    if error is None:
        connection.report_success()
    else:
        connection.report_failure(error)


class ModelsPane(Vertical):
    """Status line, `ModelsTable` (`#models-table`) and the selected model's detail line."""

    DEFAULT_CSS = """
    ModelsPane { height: 1fr; }
    ModelsPane .models-line { height: 1; padding: 0 1; color: $text-muted; }
    ModelsPane #model-detail { height: auto; max-height: 3; color: $text; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(id=id)
        self.kind_index = 0
        self.inventory = ModelInventory()
        self.loaded = False
        self.error = ""
        self.deleted_models: set[str] = set()

    def compose(self) -> ComposeResult:
        yield Static("", id="models-status", classes="models-line", markup=False)
        yield ModelsTable(id="models-table")
        yield Static("", id="model-detail", classes="models-line", markup=False)

    def on_mount(self) -> None:
        self._update_status()

    @property
    def table(self) -> ModelsTable:
        return self.query_one(ModelsTable)

    @property
    def selected(self) -> ModelEntry | None:
        return self.table.selected_model

    async def _client(self) -> AsyncOpenAI:
        return await ft_app(self).connection.client()

    # -- what the screen calls ------------------------------------------------------------------

    def shown(self) -> None:
        """The tab became visible: focus the table; list the models the first time."""
        self.table.focus()
        if not self.loaded:
            self.load()

    def profile_changed(self, visible: bool) -> None:
        """Another backend: forget this one's models; list again now if the tab is visible,
        else when it is next shown."""
        self.inventory = ModelInventory()
        self.loaded = False
        self.error = ""
        self.table.show([], today_utc())
        self._update_status()
        self._update_detail()
        if visible:
            self.load()

    def cycle_kind(self) -> None:
        self.kind_index = (self.kind_index + 1) % len(KIND_CHOICES)
        self._show()

    def chat(self) -> None:
        entry = self.selected
        if entry is None:
            self.notify("No model selected", severity="warning")
            return
        self.open_chat(entry)

    def record_golden(self) -> None:
        from screens.eval_record import record_golden_for

        record_golden_for(self.screen, self.selected)

    def export(self) -> None:
        """Export the selected fine-tune or checkpoint (adapter, merged, GGUF, Ollama)."""
        from screens.export_model import ExportModelScreen

        entry = self.selected
        if entry is None:
            self.notify("No model selected", severity="warning")
            return
        if entry.kind == BASE:
            self.notify(NOT_EXPORTABLE, title="Cannot export", severity="warning")
            return
        start = Path(ft_app(self).start_path).expanduser().absolute()
        self.app.push_screen(ExportModelScreen(entry.id, start if start.is_dir() else start.parent))

    def copy_id(self) -> None:
        entry = self.selected
        if entry is None:
            self.notify("Nothing selected", severity="warning")
            return
        copy_text(self.screen, entry.id, "model id")

    def delete_selected(self) -> None:
        entry = self.selected
        if entry is None:
            self.notify("No model selected", severity="warning")
        elif not entry.served:
            self.notify(NOT_SERVED, title="Model not served", severity="warning")
        elif not entry.deletable:
            self.notify(NOT_DELETABLE[entry.kind], title="Cannot delete", severity="warning")
        else:
            self.delete_model(entry)

    # -- table events ---------------------------------------------------------------------------

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._update_detail()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.chat()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        toast_worker_error(self, event)  # the screen's handler never sees this pane's workers

    # -- status lines ---------------------------------------------------------------------------

    def _update_status(self) -> None:
        kind = KIND_CHOICES[self.kind_index] or "all kinds"
        if self.error:
            text = f"{kind} · {self.error}"
        elif not self.loaded:
            text = f"{kind} · loading models…"
        else:
            shown = self.table.row_count
            text = f"{kind} · {plural(shown, 'model')} · days left to shutdown, * = base's date"
            if self.inventory.notes:
                text += " · " + "; ".join(self.inventory.notes[:2])
        self.query_one("#models-status", Static).update(text)

    def _update_detail(self) -> None:
        entry = self.selected
        text = describe_model(entry, today_utc()) if entry else ""
        self.query_one("#model-detail", Static).update(text)

    def _show(self) -> None:
        kind = KIND_CHOICES[self.kind_index]
        entries = [
            e
            for e in self.inventory.entries
            if kind is None or e.kind == kind or (kind == FINE_TUNED and e.kind != BASE)
        ]
        self.table.show(entries, today_utc())
        self._update_status()
        self._update_detail()

    # -- workers --------------------------------------------------------------------------------

    @work(exclusive=True, group="models-list", exit_on_error=False, description="Listing models")
    async def load(self) -> None:
        self.error = ""
        self._update_status()
        try:
            inventory = await ModelInventoryService(
                await self._client(), deleted=self.deleted_models
            ).load()
            report_health(self, None)
        except Exception as exc:
            report_health(self, exc)
            self.error = f"not listed: {explain(exc, 'list models')}"
            self.loaded = True
            self._update_status()
            self.notify(explain(exc, "list models"), title="Models not listed", severity="error")
            return
        self.inventory = inventory
        self.loaded = True
        self._show()

    @work(exclusive=True, group="models-chat", exit_on_error=False, description="Open chat")
    async def open_chat(self, entry: ModelEntry) -> None:
        if not entry.served:
            self.notify(NOT_SERVED, title="Model not served", severity="warning")
            return
        try:
            client = await self._client()
            if entry.kind != CHECKPOINT:  # some backends serve checkpoints without listing them
                await client.models.retrieve(entry.id)
        except Exception as exc:
            from openai import NotFoundError

            if isinstance(exc, NotFoundError):
                self.notify(explain(exc, "chat"), title="Model not served", severity="warning")
                return
            log.info("could not check %s before chat: %s", entry.id, exc)
        ft_app(self).open_chat(entry.id)

    @work(exclusive=True, group="models-delete", exit_on_error=False, description="Delete model")
    async def delete_model(self, entry: ModelEntry) -> None:
        message = f"{entry.id}\nApps using this model stop working. This cannot be undone."
        confirmed = await self.app.push_screen_wait(
            ConfirmScreen("Delete fine-tuned model?", message, confirm_label="Delete", danger=True)
        )
        if not confirmed:
            return
        try:
            await ModelInventoryService(await self._client(), deleted=self.deleted_models).delete(
                entry.id
            )
        except Exception as exc:
            self.notify(explain(exc, "delete model"), title="Not deleted", severity="error")
            return
        self.inventory.entries = [e for e in self.inventory.entries if e.id != entry.id]
        self.table.remove_model(entry.id)
        self._update_status()
        self._update_detail()
        self.notify(f"Deleted {entry.id}", timeout=4)
