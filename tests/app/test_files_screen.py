"""Mode 4 as a user meets it, against the fake OpenAI server over loopback: list, filter,
preview, download, delete and upload files; list models with days left, chat, copy, delete."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from screens.confirm import ConfirmScreen
from screens.model_picker import PickerScreen
from screens.path_prompt import PathPrompt
from screens.save_path import SavePathScreen
from tests.app.helpers import text_of, wait_until
from tests.fake_openai.fixture import fake_openai
from tests.fake_openai.server import FakeOpenAI
from tui.app import FtApp
from tui.services.connection import connection_for
from tui.widgets.file_preview import FilePreview
from tui.widgets.files_table import FilesTable
from tui.widgets.models_table import ModelsTable

__all__ = ["fake_openai"]

CSV = "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n1,1.52347,0.0,,\n"
EXAMPLE = {
    "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Capital of France?"},
        {"role": "assistant", "content": "Paris."},
    ]
}


class Session:
    """A running app on the Files screen, recording every toast it shows."""

    def __init__(self, app: FtApp, pilot: Pilot[None]) -> None:
        self.app = app
        self.pilot = pilot
        self.toasts: list[str] = []
        original = app.notify

        def record(message: str, *args: Any, **kwargs: Any) -> None:
            self.toasts.append(f"{kwargs.get('title') or ''}: {message}")
            original(message, *args, **kwargs)

        app.notify = record  # type: ignore[method-assign]

    @property
    def files(self) -> FilesTable:
        return self.app.screen.query_one(FilesTable)

    @property
    def models(self) -> ModelsTable:
        return self.app.screen.query_one(ModelsTable)

    def status(self, which: str = "files") -> str:
        return text_of(self.app.screen.query_one(f"#{which}-status", Static))

    async def until(self, predicate: Any, timeout: float = 20.0) -> None:
        await wait_until(self.pilot, predicate, timeout)

    def toasted(self, text: str) -> bool:
        return any(text in toast for toast in self.toasts)

    async def answer_prompt(self, value: str | None = None) -> None:
        await self.until(lambda: isinstance(self.app.screen, (PathPrompt, SavePathScreen)))
        if value is not None:
            self.app.screen.query_one(Input).value = value
        await self.pilot.press("enter")

    async def confirm(self, key: str) -> str:
        await self.until(lambda: isinstance(self.app.screen, ConfirmScreen))
        message = text_of(self.app.screen.query_one("#confirm-message", Static))
        await self.pilot.press(key)
        await self.until(lambda: not isinstance(self.app.screen, ConfirmScreen))
        return message


@pytest.fixture
async def session(
    fake_openai: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Session]:
    monkeypatch.chdir(tmp_path)
    app = FtApp(tmp_path, connection=connection_for())
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("4")
        session = Session(app, pilot)
        await session.until(lambda: bool(app.screen.query(FilesTable)))
        yield session


def _select(table: FilesTable | ModelsTable, key: str) -> None:
    table.move_cursor(row=table.get_row_index(key))


async def test_lists_every_file_with_its_details_and_count(
    fake_openai: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [fake_openai.add_file(f"set{i}.jsonl", b"{}\n" * (i + 1)) for i in range(250)]
    broken = fake_openai.state.files[ids[-1]][0]
    broken.update(status="error", status_details="Example 3 cannot be parsed")
    monkeypatch.chdir(tmp_path)
    app = FtApp(tmp_path, connection=connection_for())
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("4")
        s = Session(app, pilot)
        await s.until(lambda: "250 files" in s.status())
        assert "more loading" not in s.status()
        assert s.files.row_count == 250
        first = [str(c) for c in s.files.get_row_at(0)]
        assert first[0] == "set249.jsonl" and first[1] == "fine-tune" and first[2] == "750 B"
        assert first[4] == "error" and first[5] == ids[-1]
        # the selected file's full id and why it failed processing
        assert s.status().endswith(f"{ids[-1]} · error: Example 3 cannot be parsed")


async def test_a_listing_failure_is_explained_and_keeps_what_arrived(
    fake_openai: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_openai.fail_next(401, count=5, path_contains="/files")
    monkeypatch.chdir(tmp_path)
    app = FtApp(tmp_path, connection=connection_for())
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("4")
        s = Session(app, pilot)
        await s.until(lambda: "listing stopped" in s.status())
        assert "API key" in s.status()
        assert app.connection.health.state == "down"  # what the header's health reads


async def test_purpose_filter_and_base64_result_preview(
    session: Session, fake_openai: FakeOpenAI
) -> None:
    fake_openai.add_file("train.jsonl", json.dumps(EXAMPLE).encode() + b"\n")
    results = fake_openai.add_file(
        "step_metrics.csv", base64.b64encode(CSV.encode()), "fine-tune-results"
    )
    await session.pilot.press("r")
    await session.until(lambda: session.files.row_count == 2)
    await session.pilot.press("p")  # a picker of the purposes present, with counts
    await session.until(lambda: isinstance(session.app.screen, PickerScreen))
    options = session.app.screen.query_one(OptionList)
    await session.until(lambda: options.option_count == 3)  # all, fine-tune, fine-tune-results
    labels = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
    assert any("fine-tune-results" in label and "1 file" in label for label in labels)
    assert not any("batch" in label for label in labels)  # absent purposes are not offered
    await session.pilot.press(*"results", "enter")
    await session.until(lambda: "fine-tune-results · 1 file" in session.status())
    assert session.files.selected_file is not None
    assert session.files.selected_file.id == results
    await session.pilot.press("enter")
    preview = session.app.screen.query_one(FilePreview)
    await session.until(lambda: "decoded from base64" in preview.summary)
    assert "1,1.52347,0.0,," in preview.body_text
    await session.pilot.press("escape")
    assert not preview.shown


async def test_download_asks_before_replacing_a_file(
    session: Session, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    fake_openai.add_file("step_metrics.csv", base64.b64encode(CSV.encode()), "fine-tune-results")
    await session.pilot.press("r")
    await session.until(lambda: session.files.row_count == 1)
    await session.pilot.press("d")
    await session.answer_prompt()  # the suggestion: ./step_metrics.csv
    await session.until(lambda: session.toasted("Saved"))
    assert (tmp_path / "step_metrics.csv").read_text() == CSV
    assert session.toasted("decoded from base64")

    (tmp_path / "step_metrics.csv").write_text("keep me")
    await session.pilot.press("d")
    await session.answer_prompt(str(tmp_path / "step_metrics.csv"))
    question = await session.confirm("n")
    assert "already exists" in question
    assert (tmp_path / "step_metrics.csv").read_text() == "keep me"

    await session.pilot.press("d")
    await session.answer_prompt(str(tmp_path / "step_metrics.csv"))
    await session.confirm("y")
    await session.until(lambda: (tmp_path / "step_metrics.csv").read_text() == CSV)


async def test_delete_confirms_names_running_jobs_and_removes_the_row(
    session: Session, fake_openai: FakeOpenAI
) -> None:
    busy = fake_openai.add_file("busy.jsonl", b"{}\n")
    job_id = fake_openai.add_job(training_file=busy)
    fake_openai.advance(job_id, 2)
    await session.pilot.press("r")
    await session.until(lambda: session.files.row_count == 1)
    await session.pilot.press("x")
    message = await session.confirm("n")
    assert job_id in message and "busy.jsonl" in message
    assert session.files.row_count == 1

    fake_openai.fail_next(403, path_contains="/files/")
    await session.pilot.press("x")
    await session.confirm("y")
    await session.until(lambda: session.toasted("Not deleted"))
    assert session.toasted("write access")

    await session.pilot.press("x")
    await session.confirm("y")
    await session.until(lambda: session.files.row_count == 0)
    assert busy not in fake_openai.state.files
    assert "0 files" in session.status()


async def test_upload_lints_first_then_sends_with_progress(
    session: Session, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": "nope"}\n' * 12)
    await session.pilot.press("u")
    await session.answer_prompt(str(bad))
    await session.until(lambda: session.toasted("Upload blocked by lint errors"))
    assert not fake_openai.state.files

    rows = [
        {
            "messages": [
                {"role": "user", "content": f"Question {i}?"},
                {"role": "assistant", "content": f"Answer {i}."},
            ]
        }
        for i in range(12)
    ]
    good = tmp_path / "good.jsonl"
    good.write_text("".join(json.dumps(row) + "\n" for row in rows))
    await session.pilot.press("u")
    await session.answer_prompt(str(good))
    question = await session.confirm("n")  # warnings are shown and must be accepted
    assert "no_system_message ×12" in question
    assert not fake_openai.state.files

    await session.pilot.press("u")
    await session.answer_prompt(str(good))
    await session.confirm("y")
    await session.until(lambda: session.toasted("Upload done"))
    uploaded = session.files.selected_file
    assert uploaded is not None and uploaded.filename == "good.jsonl"
    assert fake_openai.state.files[uploaded.id][1] == good.read_bytes()


async def test_models_show_jobs_checkpoints_days_left_and_open_chat(
    session: Session, fake_openai: FakeOpenAI
) -> None:
    job_id = fake_openai.add_job()
    fake_openai.run_to_end(job_id)
    model = str(fake_openai.job(job_id).data["fine_tuned_model"])
    await session.pilot.press("m")
    await session.until(lambda: session.models.row_count > 0)
    selected = session.models.selected_model
    assert selected is not None and selected.id == model
    shown, left, kind, job = session.models.row_text(0)[:4]
    assert shown.startswith("ft:gpt-4o-mini") and shown.endswith(model[-8:])
    assert kind == "fine-tuned" and job == job_id
    assert left.endswith(" d")  # the base model's shutdown date, as days left
    detail = text_of(session.app.screen.query_one("#model-detail", Static))
    assert model in detail and "shuts down 2027-01-14" in detail and job_id in detail
    rows = [session.models.row_text(i) for i in range(session.models.row_count)]
    assert any(r[2].startswith("ckpt ") and r[3] == job_id for r in rows)
    assert "gpt-4.1-nano-2025-04-14" in [r[0] for r in rows]

    await session.pilot.press("y")
    await session.until(lambda: session.toasted(f"Copied model id: {model}"))

    await session.pilot.press("k")  # fine-tuned only
    await session.until(lambda: "fine-tuned ·" in session.status("models"))
    assert all(session.models.row_text(i)[2] != "base" for i in range(session.models.row_count))
    await session.pilot.press("c")
    await session.until(lambda: session.app.current_mode == "chat")
    chat: Any = session.app.screen
    await session.until(lambda: getattr(getattr(chat, "left", None), "model", None) == model)
    assert session.app.handoffs.chat is None


async def test_deleting_a_model_needs_the_owner_role_and_base_models_are_refused(
    session: Session, fake_openai: FakeOpenAI
) -> None:
    job_id = fake_openai.add_job()
    fake_openai.run_to_end(job_id)
    model = str(fake_openai.job(job_id).data["fine_tuned_model"])
    await session.pilot.press("m")
    await session.until(lambda: session.models.row_count > 0)
    fake_openai.fail_next(403, path_contains="/models/")
    await session.pilot.press("x")
    await session.confirm("y")
    await session.until(lambda: session.toasted("Not deleted"))
    assert session.toasted("Owner role")

    await session.pilot.press("x")
    await session.confirm("y")
    await session.until(lambda: session.toasted(f"Deleted {model}"))
    assert model in fake_openai.state.deleted_models
    await session.pilot.press("r")  # its job still names it; it must not come back
    await session.until(lambda: session.models.row_count > 0)
    await session.pilot.pause(0.2)
    assert model not in [entry.id for entry in session.models.models]

    _select(session.models, "gpt-4o-mini-2024-07-18")
    await session.pilot.press("x")
    await session.until(lambda: session.toasted("Base models belong to the provider"))
    assert not isinstance(session.app.screen, ConfirmScreen)


async def test_small_terminal_keeps_the_table_and_keys_usable(
    fake_openai: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_openai.add_file("train.jsonl", b"{}\n")
    monkeypatch.chdir(tmp_path)
    app = FtApp(tmp_path, connection=connection_for())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        s = Session(app, pilot)
        await s.until(lambda: "1 file" in s.status())
        assert s.files.size.height >= 5 and s.files.region.width >= 78
        await pilot.press("enter")
        preview = app.screen.query_one(FilePreview)
        await s.until(lambda: "1 lines" in preview.summary)
        assert s.files.size.height >= 3 and preview.size.height >= 3


async def test_a_model_not_served_yet_is_explained_and_chat_stays_closed(
    session: Session, fake_openai: FakeOpenAI
) -> None:
    job_id = fake_openai.add_job()
    fake_openai.run_to_end(job_id)
    await session.pilot.press("m")
    await session.until(lambda: session.models.row_count > 0)
    fake_openai.fail_next(404, path_contains="/models/ft:")
    await session.pilot.press("c")
    await session.until(lambda: session.toasted("Model not served"))
    assert session.toasted("few minutes")
    assert session.app.current_mode == "files"
    assert session.app.handoffs.chat is None

    model = str(fake_openai.job(job_id).data["fine_tuned_model"])
    fake_openai.state.deleted_models.add(model)  # the job succeeded; the model is not listed yet
    await session.pilot.press("r")
    await session.until(lambda: session.models.row_text(0)[2] == "not served yet")
    session.toasts.clear()
    await session.pilot.press("c")
    await session.until(lambda: session.toasted("Model not served"))
    assert session.toasted("Press r to refresh") and session.app.current_mode == "files"


async def test_only_jsonl_files_are_offered_for_fine_tuning(
    session: Session, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    table = tmp_path / "data.csv"
    table.write_text("prompt,completion\nhi,there\n")
    await session.pilot.press("u")
    await session.answer_prompt(str(tmp_path / "missing.jsonl"))
    assert isinstance(session.app.screen, PathPrompt)  # refused in place, with the reason
    error = text_of(session.app.screen.query_one("#path-error", Static))
    assert "does not exist" in error
    session.app.screen.query_one(Input).value = str(table)
    await session.pilot.press("enter")
    await session.until(lambda: session.toasted("Cannot upload"))
    assert session.toasted("ft-tui convert")
    assert not fake_openai.state.files


async def test_coming_back_to_the_mode_adds_new_files_without_moving_the_cursor(
    session: Session, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("screens.files.RECHECK_SECONDS", 0.0)
    first = fake_openai.add_file("a.jsonl", b"{}\n")
    second = fake_openai.add_file("b.jsonl", b"{}\n")
    await session.pilot.press("r")
    await session.until(lambda: session.files.row_count == 2)
    _select(session.files, first)
    await session.pilot.press("1")
    newer = fake_openai.add_file("step_metrics.csv", b"step\n", "fine-tune-results")
    await session.pilot.press("4")
    await session.until(lambda: session.files.row_count == 3)
    assert [f.id for f in session.files.files] == [newer, second, first]
    selected = session.files.selected_file
    assert selected is not None and selected.id == first
    assert "3 files" in session.status()


async def test_download_to_a_missing_folder_asks_and_keeps_the_name(
    session: Session, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    fake_openai.add_file("step_metrics.csv", base64.b64encode(CSV.encode()), "fine-tune-results")
    await session.pilot.press("r")
    await session.until(lambda: session.files.row_count == 1)
    await session.pilot.press("d")
    await session.answer_prompt("exports/")  # a folder that does not exist yet
    question = await session.confirm("y")
    assert "does not exist" in question and "Create" in question
    await session.until(lambda: (tmp_path / "exports" / "step_metrics.csv").is_file())
    assert (tmp_path / "exports" / "step_metrics.csv").read_text() == CSV
