"""Mode 4, key `e`: export a fine-tune from the real local server (tiny model) through the form,
with its progress bar and the serve command at the end; an existing folder and an OpenAI model
(fake OpenAI) end in a toast, never a crash."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, ProgressBar, Select, Static

from screens.export_model import ExportModelScreen
from tests.app.helpers import text_of, wait_until
from tests.e2e.support import local_connection
from tests.fake_openai.fixture import fake_openai
from tests.fake_openai.server import FakeOpenAI
from tests.local.conftest import TINY, LocalServer, dataset, shared_server, tiny_model_dir
from tests.local.conftest import wait_for_status as wait_for_job
from tui.app import FtApp
from tui.services.connection import connection_for
from tui.widgets.models_table import ModelsTable

__all__ = ["fake_openai", "shared_server", "tiny_model_dir"]
pytestmark = pytest.mark.local


@pytest.fixture(scope="module")
def tuned_model(shared_server: LocalServer) -> str:
    client = shared_server.client()
    training = client.files.create(file=("train.jsonl", dataset(10)), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(
        model=TINY, training_file=training.id, hyperparameters={"n_epochs": 1}
    )
    done = wait_for_job(client, job.id, {"succeeded", "failed", "cancelled"})
    assert done.status == "succeeded", done.error
    return str(done.fine_tuned_model)


def _recording(app: FtApp) -> list[str]:
    toasts: list[str] = []
    original = app.notify

    def record(message: str, *args: Any, **kwargs: Any) -> None:
        toasts.append(f"{kwargs.get('title') or ''}: {message}")
        original(message, *args, **kwargs)

    app.notify = record  # type: ignore[method-assign]
    return toasts


async def _open_form(app: FtApp, pilot: Pilot[None], model: str) -> ExportModelScreen:
    await pilot.press("4")
    await wait_until(pilot, lambda: bool(app.screen.query(ModelsTable)))
    await pilot.press("m")
    table = app.screen.query_one(ModelsTable)
    await wait_until(pilot, lambda: any(key.value == model for key in table.rows), 30)
    table.move_cursor(row=table.get_row_index(model))
    await pilot.press("e")
    await wait_until(pilot, lambda: isinstance(app.screen, ExportModelScreen))
    screen = app.screen
    assert isinstance(screen, ExportModelScreen)
    return screen


async def test_export_form_shows_progress_and_the_serve_command(
    shared_server: LocalServer,
    tuned_model: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    app = FtApp(tmp_path, connection=local_connection(shared_server, monkeypatch))
    async with app.run_test(size=(110, 40)) as pilot:
        toasts = _recording(app)
        form = await _open_form(app, pilot, tuned_model)
        form.query_one("#export-format", Select).value = "gguf"
        out = form.query_one("#export-out", Input)
        await wait_until(pilot, lambda: out.value.endswith("-gguf"))  # the folder follows
        target = Path(out.value)
        await pilot.press("f5")
        serve = form.query_one("#export-serve", Static)
        status = form.query_one("#export-status", Static)
        await wait_until(pilot, lambda: "llama-server -m" in text_of(serve) or bool(toasts), 120)
        assert "llama-server -m" in text_of(serve), (toasts, text_of(status))
        assert f"llama-server -m {target / 'model-f16.gguf'}" in text_of(serve)
        assert form.query_one(ProgressBar).progress == 100
        assert (target / "model-f16.gguf").is_file() and (target / "README.md").is_file()
        assert any(t.startswith("Export done") for t in toasts)

        await pilot.press("f5")  # the same folder again, without "Replace"
        await wait_until(pilot, lambda: any("already exists" in t for t in toasts), 30)
        assert any(t.startswith("Export failed") for t in toasts)
        assert isinstance(app.screen, ExportModelScreen)  # the form stays to retry
        form.query_one("#export-force", Checkbox).value = True
        before = (target / "README.md").stat().st_ino  # the file, not its time: tar keeps seconds
        await pilot.press("f5")
        await wait_until(pilot, lambda: sum(t.startswith("Export done") for t in toasts) == 2, 120)
        assert (target / "README.md").stat().st_ino != before  # a new folder replaced the old
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ExportModelScreen))


async def test_openai_model_export_is_a_toast_with_the_record_hint(
    fake_openai: FakeOpenAI,  # noqa: F811 - the fixture
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job_id = fake_openai.add_job()
    fake_openai.run_to_end(job_id)
    model = str(fake_openai.job(job_id).data["fine_tuned_model"])
    monkeypatch.chdir(tmp_path)
    app = FtApp(tmp_path, connection=connection_for())
    async with app.run_test(size=(110, 40)) as pilot:
        toasts = _recording(app)
        await _open_form(app, pilot, model)
        await pilot.press("f5")
        await wait_until(pilot, lambda: any("cannot be exported" in t for t in toasts), 30)
        assert any("ft-tui record" in t for t in toasts)
        assert list(tmp_path.iterdir()) == []
