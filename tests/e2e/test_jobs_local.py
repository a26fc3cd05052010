"""Mode 2 end to end against the real local server (`ft-tui serve` subprocess, tiny random model):
lint → upload → launch from the form → loss points appear live → succeeded → the model is
listed by the server and in the job list."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, Select

from screens.confirm import ConfirmScreen
from screens.job_detail import JobDetailScreen
from screens.new_job import NewJobScreen
from tests.app.helpers import text_of, wait_until
from tests.app.jobs_helpers import chart_text, checkpoint_models, fast_polling, header_text
from tests.e2e.support import local_connection
from tests.local.conftest import (
    TINY,
    LocalServer,
    dataset,
)
from tui.app import FtApp
from tui.widgets.job_table import JobTable


async def test_launch_follow_and_finish_a_real_local_job(
    local_server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FT_TUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FT_TUI_CONFIG_DIR", str(tmp_path / "config"))
    fast_polling(monkeypatch)
    train = tmp_path / "train.jsonl"
    train.write_bytes(dataset(24))
    app = FtApp(tmp_path, connection=local_connection(local_server, monkeypatch))
    async with app.run_test(size=(120, 40)) as pilot:
        app.handoffs.new_job_file = train
        await pilot.press("2")
        await wait_until(pilot, lambda: isinstance(app.screen, NewJobScreen))
        form = app.screen
        select = form.query_one("#model", Select)
        await wait_until(pilot, lambda: isinstance(select.value, str))
        # The server's own models come before the OpenAI catalog.
        served_before = {m.id for m in local_server.client().models.list().data}
        assert select.value in served_before and TINY in served_before
        select.value = TINY
        form.query_one("#n_epochs", Input).value = "3"
        form.query_one("#suffix", Input).value = "e2e"
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), timeout=60)
        assert "Epochs: 3" in text_of(app.screen.query_one("#confirm-message"))
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, JobDetailScreen), timeout=60)
        job_id = app.screen.job_id  # type: ignore[attr-defined]
        # Loss points arrive while the job runs, then it finishes with its model.
        await wait_until(pilot, lambda: "train" in chart_text(app), timeout=180)
        await wait_until(pilot, lambda: "succeeded" in header_text(app), timeout=240)
        await wait_until(pilot, lambda: bool(checkpoint_models(app)), timeout=30)
        client = local_server.client()
        job = client.fine_tuning.jobs.retrieve(job_id)
        assert job.fine_tuned_model and job.fine_tuned_model in header_text(app)
        assert ":e2e:" in job.fine_tuned_model
        served = {m.id for m in client.models.list().data}
        assert job.fine_tuned_model in served
        assert f"{job.method.supervised.hyperparameters.n_epochs}" == "3"
        # Back in the list, the job is there as succeeded.
        await pilot.press("escape")
        table = app.screen.query_one(JobTable)
        await wait_until(pilot, lambda: job_id in table.rows)
        await wait_until(pilot, lambda: "succeeded" in str(table.get_row(job_id)[0]))
