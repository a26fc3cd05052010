"""Job view: elapsed counts from creation and training time is shown; the ETA comes from step
times so a pause does not move it; only the actions the status allows are offered."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.app.helpers import wait_until
from tests.app.jobs_helpers import fast_polling, header_text, make_app, open_job
from tests.fake_openai.fixture import fake_openai
from tests.fake_openai.server import FakeOpenAI
from tui.core.step_timing import step_timing
from tui.widgets.job_header import JobSummary, eta_seconds, header_lines

__all__ = ["fake_openai"]


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_polling(monkeypatch)


def test_elapsed_counts_from_creation_and_eta_from_step_times() -> None:
    now = 10_000.0
    steps = [(s, now - 3600 - 200 + 10 * s) for s in range(1, 11)]  # 10 s a step, then a pause
    timing = step_timing(steps)
    summary = JobSummary(
        job_id="ftjob-1",
        status="running",  # just resumed: no new step yet
        model="m",
        step=10,
        total_steps=40,
        created_at=int(now - 4000),
        started_at=now - 5,  # the old header counted from here after a status change
        seconds_per_step=timing.seconds_per_step,
        training_seconds=timing.training_seconds,
        estimated_finish=int(now + 6000),  # a server estimate skewed by the pause
    )
    text = header_lines(summary, now)[0].plain
    assert "elapsed 1h06m" in text  # 4000 s since creation
    assert "training 1m30s" in text  # 9 gaps of 10 s
    assert eta_seconds(summary, now) == 300  # 30 steps × 10 s


async def test_finished_jobs_offer_no_cancel_pause_or_resume(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    job_id = fake_openai.add_job()
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_job(pilot, app, job_id)
        fake_openai.advance(job_id, 3)
        await wait_until(pilot, lambda: "running" in header_text(app))

        def actions() -> set[str]:
            return {a.binding.description for a in app.screen.active_bindings.values()}

        await wait_until(pilot, lambda: {"Cancel job", "Pause"} <= actions())
        assert "Resume" not in actions()
        fake_openai.run_to_end(job_id)
        await wait_until(pilot, lambda: "succeeded" in header_text(app))
        await wait_until(pilot, lambda: not {"Cancel job", "Pause", "Resume"} & actions())
        assert "Download" in actions()
        shown: dict[str, str] = {}  # the footer shows each action once, with its first key
        for active in app.screen.active_bindings.values():
            if active.binding.show and active.binding.action not in shown:
                display = app.get_key_display(active.binding)
                shown[active.binding.action] = f"{display} {active.binding.description}"
        footer = "  ".join(shown.values())
        assert len(footer) <= 80, footer
