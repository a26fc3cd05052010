"""The Models tab of mode 4, as the base class of `screens.files.FilesScreen`: base models,
fine-tuned models and checkpoints with the job that made them and days left before shutdown;
chat with one (hand-off `FtApp.open_chat(<id>)`), delete a
fine-tuned model. Also the connection plumbing both tabs share."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from textual import work
from textual.widgets import Static

from screens.base import ModeScreen
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


class ModelsTabScreen(ModeScreen):
    """Models behaviour; the subclass composes `#models-status`, `ModelsTable`, `#model-detail`."""

    def __init__(self) -> None:
        super().__init__()
        self.kind_index = 0
        self.inventory = ModelInventory()
        self.models_loaded = False
        self.models_error = ""
        self.deleted_models: set[str] = set()

    def _report(self, error: Exception | None) -> None:
        """Let the header's connection health follow what this screen saw."""
        connection = getattr(self.app, "connection", None)
        try:
            if error is None:
                connection.report_success()  # type: ignore[union-attr]
            else:
                connection.report_failure(error)  # type: ignore[union-attr]
        except Exception as exc:  # a test double without health reporting is fine
            log.debug("health not reported: %s", exc)

    async def _client(self) -> AsyncOpenAI:
        return await self.app.connection.client()  # type: ignore[attr-defined, no-any-return]

    def _update_models_status(self) -> None:
        kind = KIND_CHOICES[self.kind_index] or "all kinds"
        if self.models_error:
            text = f"{kind} · {self.models_error}"
        elif not self.models_loaded:
            text = f"{kind} · loading models…"
        else:
            shown = self.query_one(ModelsTable).row_count
            text = f"{kind} · {plural(shown, 'model')} · days left to shutdown, * = base's date"
            if self.inventory.notes:
                text += " · " + "; ".join(self.inventory.notes[:2])
        self.query_one("#models-status", Static).update(text)

    def _update_model_detail(self) -> None:
        entry = self.query_one(ModelsTable).selected_model
        text = describe_model(entry, today_utc()) if entry else ""
        self.query_one("#model-detail", Static).update(text)

    @work(exclusive=True, group="models-list", exit_on_error=False, description="Listing models")
    async def load_models(self) -> None:
        self.models_error = ""
        self._update_models_status()
        try:
            inventory = await ModelInventoryService(
                await self._client(), deleted=self.deleted_models
            ).load()
            self._report(None)
        except Exception as exc:
            self._report(exc)
            self.models_error = f"not listed: {explain(exc, 'list models')}"
            self.models_loaded = True
            self._update_models_status()
            self.notify(explain(exc, "list models"), title="Models not listed", severity="error")
            return
        self.inventory = inventory
        self.models_loaded = True
        self._show_models()

    def _show_models(self) -> None:
        kind = KIND_CHOICES[self.kind_index]
        entries = [
            e
            for e in self.inventory.entries
            if kind is None or e.kind == kind or (kind == FINE_TUNED and e.kind != BASE)
        ]
        self.query_one(ModelsTable).show(entries, today_utc())
        self._update_models_status()
        self._update_model_detail()

    def action_kind(self) -> None:
        self.kind_index = (self.kind_index + 1) % len(KIND_CHOICES)
        self._show_models()

    def action_chat(self) -> None:
        entry = self.query_one(ModelsTable).selected_model
        if entry is None:
            self.notify("No model selected", severity="warning")
            return
        self.open_chat(entry)

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
            status = getattr(exc, "status_code", None)
            if status == 404:
                self.notify(explain(exc, "chat"), title="Model not served", severity="warning")
                return
            log.info("could not check %s before chat: %s", entry.id, exc)
        self.ft.open_chat(entry.id)

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
        self.query_one(ModelsTable).remove_model(entry.id)
        self._update_models_status()
        self._update_model_detail()
        self.notify(f"Deleted {entry.id}", timeout=4)

    def delete_selected_model(self) -> None:
        entry = self.query_one(ModelsTable).selected_model
        if entry is None:
            self.notify("No model selected", severity="warning")
        elif not entry.served:
            self.notify(NOT_SERVED, title="Model not served", severity="warning")
        elif not entry.deletable:
            self.notify(NOT_DELETABLE[entry.kind], title="Cannot delete", severity="warning")
        else:
            self.delete_model(entry)

    def action_export(self) -> None:
        """Export the selected fine-tune or checkpoint (adapter, merged, GGUF, Ollama)."""
        from pathlib import Path

        from screens.export_model import ExportModelScreen

        entry = self.query_one(ModelsTable).selected_model
        if entry is None:
            self.notify("No model selected", severity="warning")
            return
        if entry.kind == BASE:
            self.notify(NOT_EXPORTABLE, title="Cannot export", severity="warning")
            return
        start = Path(getattr(self.app, "start_path", Path.cwd())).expanduser().absolute()
        self.app.push_screen(ExportModelScreen(entry.id, start if start.is_dir() else start.parent))
