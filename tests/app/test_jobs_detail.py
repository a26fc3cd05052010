"""The job view through a job's whole life on the fake OpenAI server: live loss, events, pause,
backoff on 429/500, checkpoints, the failed job's error, actions with confirmation."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.command import CommandPalette
from textual.widgets import OptionList

from screens.confirm import ConfirmScreen
from screens.job_detail import JobDetailScreen
from tests.app.helpers import wait_until
from tests.app.jobs_helpers import (
    chart_text,
    checkpoint_models,
    fast_polling,
    header_text,
    log_messages,
    make_app,
    open_job,
)
from tests.fake_openai.fixture import fake_openai
from tests.fake_openai.jobs import JobPlan
from tests.fake_openai.server import FakeOpenAI
from tui.widgets.event_log import EventLog
from tui.widgets.loss_chart import LossChart

__all__ = ["fake_openai"]


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_polling(monkeypatch)


def _event_requests(fake: FakeOpenAI, job_id: str) -> int:
    return sum(1 for r in fake.requests if f"{job_id}/events" in r.path)


async def test_a_job_from_validation_to_success(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    job_id = fake_openai.add_job(plan=JobPlan(total_steps=20, n_epochs=2, suffix="demo"))
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_job(pilot, app, job_id)
        assert "validating_files" in header_text(app)
        assert "No metrics yet" in chart_text(app)
        fake_openai.advance(job_id, 3)  # queued, running, first 5 steps
        await wait_until(pilot, lambda: "step 5/20" in header_text(app))
        await wait_until(pilot, lambda: "train" in chart_text(app))
        assert any(m.startswith("Step 5/20") for m in log_messages(app))
        assert "ETA" in header_text(app)
        fake_openai.advance(job_id, 2)  # steps 6-10, then the scripted pause
        await wait_until(pilot, lambda: "paused" in header_text(app))
        assert "Fine-tuning job paused" in log_messages(app)
        fake_openai.run_to_end(job_id)
        await wait_until(pilot, lambda: "succeeded" in header_text(app))
        await wait_until(pilot, lambda: len(checkpoint_models(app)) == 2)
        final = f"ft:gpt-4o-mini-2024-07-18:fake-org:demo:{job_id[-8:]}"
        assert final in header_text(app)
        assert final in checkpoint_models(app)
        assert "step 20/20" in header_text(app)
        assert "tokens 24,680" in header_text(app)
        assert "$0.07" in header_text(app)  # 24,680 tokens at $3/1M
        assert "valid" in chart_text(app) and "full valid" in chart_text(app)
        messages = log_messages(app)
        assert messages[-1] == "The job has successfully completed"
        assert len(messages) == len(set(app.screen.query_one(EventLog)._seen))
        # The accuracy view of the same job.
        await pilot.press("a")
        await wait_until(pilot, lambda: "token accuracy" in chart_text(app))


async def test_backoff_on_429_and_500_is_shown_then_recovers(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    job_id = fake_openai.add_job()
    fake_openai.advance(job_id, 3)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_job(pilot, app, job_id)
        await wait_until(pilot, lambda: "step 5/" in header_text(app))
        fake_openai.fail_next(429, count=12, path_contains=f"/fine_tuning/jobs/{job_id}")
        await wait_until(pilot, lambda: "retrying in" in header_text(app))
        fake_openai.state.faults.clear()
        fake_openai.advance(job_id)
        await wait_until(pilot, lambda: "step 10/" in header_text(app), timeout=30)
        assert "retrying" not in header_text(app)
        fake_openai.fail_next(500, count=12, path_contains=f"/fine_tuning/jobs/{job_id}")
        await wait_until(pilot, lambda: "retrying in" in header_text(app))
        fake_openai.state.faults.clear()
        await wait_until(pilot, lambda: "retrying" not in header_text(app), timeout=30)


async def test_failed_job_shows_its_error_code_and_message(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    job_id = fake_openai.add_job(script="failure")
    fake_openai.advance(job_id)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_job(pilot, app, job_id)
        await wait_until(pilot, lambda: "invalid_n_examples" in header_text(app))
        text = header_text(app)
        assert "failed" in text
        assert "must have at least 10 examples" in text
        assert "training_file" in text


async def test_cancel_asks_first_and_keep_changes_nothing(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    job_id = fake_openai.add_job()
    fake_openai.advance(job_id, 2)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_job(pilot, app, job_id)
        await wait_until(pilot, lambda: "running" in header_text(app))
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, JobDetailScreen))
        assert fake_openai.job(job_id).status == "running"
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: "cancelled" in header_text(app))
        assert fake_openai.job(job_id).status == "cancelled"
        # A cancelled job cannot be paused: the user is told, nothing is sent.
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, JobDetailScreen)


async def test_pause_and_resume_with_confirmation(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    job_id = fake_openai.add_job(plan=JobPlan(pause_half_way=False))
    fake_openai.advance(job_id, 3)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_job(pilot, app, job_id)
        await wait_until(pilot, lambda: "running" in header_text(app))
        await pilot.press("p")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: "paused" in header_text(app))
        await pilot.press("u")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: "queued" in header_text(app))
        assert fake_openai.job(job_id).status == "queued"


async def test_poller_stops_when_the_view_is_closed(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    job_id = fake_openai.add_job()
    fake_openai.advance(job_id, 2)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_job(pilot, app, job_id)
        await wait_until(pilot, lambda: _event_requests(fake_openai, job_id) >= 2)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, JobDetailScreen))
        await pilot.pause(0.3)
        before = _event_requests(fake_openai, job_id)
        await pilot.pause(1.0)
        assert _event_requests(fake_openai, job_id) == before


async def test_chart_is_legible_with_few_points_and_follows_only_at_bottom(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    job_id = fake_openai.add_job()
    fake_openai.advance(job_id, 2)
    fake_openai.add_metrics_steps(job_id, 3, total_steps=300)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_job(pilot, app, job_id)
        await wait_until(pilot, lambda: "step 3/300" in header_text(app))
        text = chart_text(app)
        assert "train" in text and "3 points" in text
        assert any(ch for ch in text if 0x2800 < ord(ch) <= 0x28FF)  # braille dots drawn
        log = app.screen.query_one(EventLog)
        fake_openai.add_metrics_steps(job_id, 40, total_steps=300)
        await wait_until(pilot, lambda: log.entry_count >= 45)
        assert log.is_vertical_scroll_end  # followed while at the bottom
        await pilot.resize_terminal(200, 50)  # a bigger terminal keeps following
        fake_openai.add_metrics_steps(job_id, 5, total_steps=300)
        await wait_until(pilot, lambda: log.entry_count >= 50)
        await wait_until(pilot, lambda: log.is_vertical_scroll_end)
        await pilot.resize_terminal(80, 24)
        log.scroll_home(animate=False, immediate=True)
        fake_openai.add_metrics_steps(job_id, 5, total_steps=300)
        count = log.entry_count
        await wait_until(pilot, lambda: log.entry_count > count)
        assert log.scroll_y == 0  # reading old events: not yanked to the bottom
        assert app.screen.query_one(LossChart).redraws >= 1


async def test_download_decodes_base64_and_never_overwrites_silently(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    from textual.widgets import Input

    from screens.save_path import SavePathScreen

    job_id = fake_openai.add_job()
    fake_openai.run_to_end(job_id)
    target = tmp_path / "out" / "results.csv"
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_job(pilot, app, job_id)
        await wait_until(pilot, lambda: "succeeded" in header_text(app))
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, SavePathScreen))
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))  # create out/?
        await pilot.press("y")
        await wait_until(pilot, lambda: target.exists())
        text = target.read_text(encoding="utf-8")
        assert text.startswith("step,train_loss,train_accuracy,valid_loss")  # decoded CSV
        assert len(text.splitlines()) == 21
        # Again to the same path: asked first; "Keep" leaves the file untouched.
        target.write_text("mine", encoding="utf-8")
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, SavePathScreen))
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, SavePathScreen))
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert target.read_text(encoding="utf-8") == "mine"


async def test_copy_ids_and_chat_with_model_or_checkpoint(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    from tui.widgets.checkpoints_table import CheckpointsTable

    job_id = fake_openai.add_job()
    fake_openai.run_to_end(job_id)
    app = make_app(tmp_path)
    copied: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        app.copy_to_clipboard = copied.append  # type: ignore[method-assign, assignment]
        await open_job(pilot, app, job_id)
        await wait_until(pilot, lambda: len(checkpoint_models(app)) == 2)
        await pilot.press("y")
        assert copied[-1] == job_id
        await pilot.press("m")
        final = f"ft:gpt-4o-mini-2024-07-18:fake-org:demo:{job_id[-8:]}"
        assert copied[-1] == final
        # Choosing the older checkpoint in its table hands that model to the chat mode.
        table = app.screen.query_one(CheckpointsTable)
        table.focus()
        table.move_cursor(row=1)
        older = table.checkpoints[1].model
        assert ":ckpt-step-" in older
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.current_mode == "chat")
        # The chat screen takes the hand-off and opens on that checkpoint.
        await wait_until(pilot, lambda: getattr(app.screen, "left", None) is not None)
        await wait_until(pilot, lambda: app.screen.left.model == older)  # type: ignore[attr-defined]
        assert app.handoffs.chat is None


async def test_copy_never_crashes(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    job_id = fake_openai.add_job()
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:

        def broken(_text: str) -> None:
            raise OSError("no terminal")

        app.copy_to_clipboard = broken  # type: ignore[method-assign, assignment]
        await open_job(pilot, app, job_id)
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, JobDetailScreen)


async def test_a_finished_job_reopens_from_the_cache_while_the_backend_is_down(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    from tui.widgets.job_table import JobTable

    job_id = fake_openai.add_job()
    fake_openai.run_to_end(job_id)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_job(pilot, app, job_id)
        await wait_until(pilot, lambda: len(checkpoint_models(app)) == 2)
        await pilot.press("escape")
        # The backend goes down: every request now fails.
        fake_openai.fail_next(503, count=10_000)
        table = app.screen.query_one(JobTable)
        table.move_cursor(row=table.get_row_index(job_id))
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, JobDetailScreen))
        await wait_until(pilot, lambda: "succeeded" in header_text(app))
        assert "20 points" in chart_text(app)
        assert len(checkpoint_models(app)) == 2
        assert "retrying" not in header_text(app)  # nothing left to fetch: it stays offline


async def test_the_list_falls_back_to_cached_jobs_when_the_backend_is_down(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    from screens.jobs import JobsScreen
    from tests.app.jobs_helpers import go_to_jobs, row_text

    job_id = fake_openai.add_job()
    fake_openai.run_to_end(job_id)
    first = make_app(tmp_path)
    async with first.run_test(size=(120, 40)) as pilot:
        await open_job(pilot, first, job_id)  # fills the cache
        await wait_until(pilot, lambda: "succeeded" in header_text(first))
    fake_openai.fail_next(503, count=10_000)
    second = make_app(tmp_path)
    async with second.run_test(size=(120, 40)) as pilot:
        table = await go_to_jobs(pilot, second)
        await wait_until(pilot, lambda: job_id in table.rows)
        assert "succeeded" in row_text(table, job_id)
        screen = second.screen
        assert isinstance(screen, JobsScreen)
        assert "cached jobs" in str(screen.query_one("#jobs-status").render())


async def test_download_to_a_new_folder_ending_in_slash_keeps_the_file_name(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    from textual.widgets import Input

    from screens.save_path import SavePathScreen

    job_id = fake_openai.add_job()
    fake_openai.run_to_end(job_id)
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_job(pilot, app, job_id)
        await wait_until(pilot, lambda: "succeeded" in header_text(app))
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, SavePathScreen))
        field = app.screen.query_one(Input)
        assert field.value == str(tmp_path / f"{job_id}_results.csv")  # the dataset root
        field.value = "new_folder/"  # relative: to the folder ft-tui was opened on
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        saved = tmp_path / "new_folder" / f"{job_id}_results.csv"
        await wait_until(pilot, lambda: saved.is_file())
        assert not (tmp_path / "new_folder").is_file()


async def test_a_profile_switch_in_another_mode_closes_the_job_view(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    """Through the palette's real "Use profile" command, made in mode 1 while mode 2 shows a
    job view: the view stops polling the old backend, and mode 2 shows the list again."""
    config = tmp_path / "fake-config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        f'[profiles.other]\nbase_url = "{fake_openai.base_url}"\napi_key_env = "OPENAI_API_KEY"\n'
    )
    job_id = fake_openai.add_job()
    fake_openai.advance(job_id, 2)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_job(pilot, app, job_id)
        await wait_until(pilot, lambda: _event_requests(fake_openai, job_id) >= 1)
        await pilot.press("1")
        await wait_until(pilot, lambda: app.current_mode == "datasets")
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"Use profile: other")
        options = app.screen.query_one(OptionList)
        await wait_until(pilot, lambda: options.highlighted is not None)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.connection.profile.name == "other")
        await pilot.pause(0.5)  # longer than two poll intervals of the old view
        before = _event_requests(fake_openai, job_id)
        await pilot.pause(0.6)
        assert _event_requests(fake_openai, job_id) == before  # the old view stopped polling
        await pilot.press("2")
        await wait_until(pilot, lambda: app.current_mode == "jobs")
        await wait_until(pilot, lambda: not isinstance(app.screen, JobDetailScreen))
        await wait_until(pilot, lambda: bool(app.screen.query("#job-table")))
