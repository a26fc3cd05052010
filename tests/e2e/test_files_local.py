"""Mode 4 against the real local server (`ft-tui serve` subprocess, tiny random model): a real
job's files and models, previewed, downloaded and deleted from the screen; the server's own
refusals (a file used by an unfinished job, a base model) reach the user with a hint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

from screens.confirm import ConfirmScreen
from screens.model_picker import PickerScreen
from screens.path_prompt import PathPrompt
from screens.save_path import SavePathScreen
from tests.app.helpers import text_of, wait_until
from tests.e2e.support import local_connection
from tests.local.conftest import (
    TINY,
    LocalServer,
    dataset,
    wait_for_status,
)
from tui.app import FtApp
from tui.widgets.file_preview import FilePreview
from tui.widgets.files_table import FilesTable
from tui.widgets.models_table import ModelsTable


async def test_files_and_models_of_a_real_local_job(
    local_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FT_TUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FT_TUI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)
    client = local_server.client()
    trained = client.files.create(file=("train.jsonl", dataset(12)), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(
        model=TINY,
        training_file=trained.id,
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2}}},
    )
    done = wait_for_status(client, job.id, {"succeeded", "failed", "cancelled"})
    assert done.status == "succeeded", done.error
    model = str(done.fine_tuned_model)
    result_id = done.result_files[0]
    busy = client.files.create(file=("busy.jsonl", dataset(12)), purpose="fine-tune")
    long_job = client.fine_tuning.jobs.create(
        model=TINY,
        training_file=busy.id,
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 50}}},
    )

    app = FtApp(tmp_path, connection=local_connection(local_server, monkeypatch))
    toasts: list[str] = []
    original = app.notify

    def record(message: str, *args: Any, **kwargs: Any) -> None:
        toasts.append(f"{kwargs.get('title') or ''}: {message}")
        original(message, *args, **kwargs)

    app.notify = record  # type: ignore[method-assign]
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.press("4")
            await wait_until(pilot, lambda: bool(app.screen.query(FilesTable)))
            table = app.screen.query_one(FilesTable)
            await wait_until(pilot, lambda: {trained.id, busy.id, result_id} <= _ids(table))

            # the server refuses to delete a file an unfinished job trains on
            table.move_cursor(row=table.get_row_index(busy.id))
            await pilot.press("x")
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            question = text_of(app.screen.query_one("#confirm-message", Static))
            assert long_job.id in question
            await pilot.press("y")
            await wait_until(pilot, lambda: any("Not deleted" in t for t in toasts))
            assert any("cancel the job" in t for t in toasts)
            assert busy.id in _ids(table)

            # the result CSV: preview, then download next to the user's files
            await pilot.press("p")  # a picker of the purposes present
            await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
            await pilot.press(*"results", "enter")
            await wait_until(pilot, lambda: _ids(table) == {result_id})
            await pilot.press("enter")
            preview = app.screen.query_one(FilePreview)
            await wait_until(pilot, lambda: "step,train_loss" in preview.body_text)
            await pilot.press("d")
            await wait_until(pilot, lambda: isinstance(app.screen, (PathPrompt, SavePathScreen)))
            await pilot.press("enter")
            await wait_until(pilot, lambda: any("Saved" in t for t in toasts))
            saved = [p for p in tmp_path.iterdir() if p.suffix == ".csv"]
            assert len(saved) == 1
            assert saved[0].read_text().startswith("step,train_loss")

            # models: the fine-tune with its job, its checkpoint, the base model
            await pilot.press("m")
            models = app.screen.query_one(ModelsTable)
            await wait_until(pilot, lambda: models.row_count > 0)
            rows = [models.row_text(i) for i in range(models.row_count)]
            assert models.selected_model is not None
            assert models.selected_model.id == model and rows[0][3] == job.id
            assert any(r[2].startswith("ckpt") and r[3] == job.id for r in rows)
            assert rows[-1][0] == TINY and rows[-1][2] == "base"
            detail = text_of(app.screen.query_one("#model-detail", Static))
            assert f"base {TINY}" in detail and "no shutdown date announced" in detail

            await pilot.press("x")
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("y")
            await wait_until(pilot, lambda: any(f"Deleted {model}" in t for t in toasts))
            assert model not in {m.id for m in client.models.list().data}
    finally:
        client.fine_tuning.jobs.cancel(long_job.id)


def _ids(table: FilesTable) -> set[str]:
    return {f.id for f in table.files}
