"""The new-job form: field checks, lint gate, estimate and confirmation, upload, launch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select

from screens.confirm import ConfirmScreen
from screens.job_detail import JobDetailScreen
from screens.new_job import NewJobScreen
from tests.app.helpers import text_of, wait_until
from tests.app.jobs_helpers import fast_polling, header_text, make_app, open_new_job_form
from tests.fake_openai.fixture import fake_openai
from tests.fake_openai.server import FakeOpenAI
from tui.app import FtApp

__all__ = ["fake_openai"]

MODEL = "gpt-4o-mini-2024-07-18"


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_polling(monkeypatch)


def _dataset(path: Path, n: int, broken: int = 0, no_system: int = 0) -> Path:
    lines = []
    for i in range(n):
        messages: list[dict[str, str]] = [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": f"What is {i} plus {i}?"},
        ][1 if i < no_system else 0 :]  # the first `no_system` examples lack a system prompt
        if i >= broken:  # the first `broken` examples lack the assistant reply
            messages.append({"role": "assistant", "content": f"{2 * i}."})
        lines.append(json.dumps({"messages": messages}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def _open_form(pilot: Pilot[Any], app: FtApp, path: Path | None = None) -> NewJobScreen:
    return await open_new_job_form(pilot, app, path, MODEL)


def _set(screen: NewJobScreen, field: str, value: str) -> None:
    screen.query_one(f"#{field}", Input).value = value


def _created(fake: FakeOpenAI) -> list[Any]:
    return [r for r in fake.requests if r.method == "POST" and r.path.endswith("/jobs")]


async def test_bad_fields_are_named_and_nothing_is_sent(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await _open_form(pilot, app)
        _set(screen, "training", str(tmp_path / "missing.jsonl"))
        _set(screen, "n_epochs", "99")
        _set(screen, "learning_rate_multiplier", "0")
        _set(screen, "seed", "abc")
        _set(screen, "metadata", "team=nlp, oops")
        await pilot.press("ctrl+l")
        problems = screen.query_one("#form-problems")
        await wait_until(pilot, lambda: "Epochs" in text_of(problems))
        text = text_of(problems)
        assert "missing.jsonl does not exist" in text
        assert "Epochs: must be from 1 to 50, got 99" in text
        assert "LR multiplier: must be more than 0" in text
        assert "seed: 'abc' is not a whole number" in text
        assert "metadata: 'oops' is not key=value" in text
        assert isinstance(app.screen, NewJobScreen)
        assert not _created(fake_openai)


async def test_launching_before_the_models_are_listed_asks_for_a_base_model(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await _open_form(pilot, app, _dataset(tmp_path / "ok.jsonl", 12))
        screen.query_one("#model", Select).clear()  # the state while the list is loading
        await pilot.press("ctrl+l")
        problems = screen.query_one("#form-problems")
        await wait_until(pilot, lambda: "base model" in text_of(problems))
        assert "base model: choose one" in text_of(problems)
        assert "NULL" not in text_of(problems)
        assert not _created(fake_openai)


async def test_lint_errors_block_the_launch(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    path = _dataset(tmp_path / "broken.jsonl", 12, broken=3)
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await _open_form(pilot, app, path)
        await pilot.press("ctrl+l")
        estimate = screen.query_one("#estimate")
        await wait_until(pilot, lambda: "Fix the errors first" in text_of(estimate), timeout=60)
        assert "3 errors" in text_of(estimate) or "errors" in text_of(estimate)
        assert isinstance(app.screen, NewJobScreen)
        assert not any(r.path.endswith("/files") for r in fake_openai.requests)
        assert not _created(fake_openai)


async def test_estimate_confirm_upload_and_launch(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    path = _dataset(tmp_path / "train.jsonl", 12, no_system=1)
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await _open_form(pilot, app, path)
        assert screen.query_one("#training", Input).value == str(path)
        _set(screen, "suffix", "adder")
        _set(screen, "n_epochs", "3")
        _set(screen, "seed", "42")
        _set(screen, "metadata", "team=nlp, run=1")
        await pilot.press("f2")
        estimate = screen.query_one("#estimate")
        await wait_until(pilot, lambda: "billed tokens" in text_of(estimate), timeout=60)
        assert "3 epochs" in text_of(estimate)
        assert "$" in text_of(estimate)
        # A warning does not block, but it is shown and named again in the confirmation.
        assert "1 warning\n" in text_of(estimate)
        assert "no_system_message (line 1" in text_of(estimate)
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), timeout=60)
        question = text_of(app.screen.query_one("#confirm-message"))
        assert f"Model: {MODEL}" in question
        assert "Epochs: 3" in question and "billed tokens" in question and "Cost ≈ $" in question
        assert "1 lint warning(s)" in question
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, JobDetailScreen))
        created = _created(fake_openai)
        assert len(created) == 1
        job_id = app.screen.job_id  # type: ignore[attr-defined]
        data = fake_openai.job(job_id).data
        assert data["user_provided_suffix"] == "adder"
        assert data["seed"] == 42
        assert data["metadata"] == {"team": "nlp", "run": "1"}
        assert data["method"]["supervised"]["hyperparameters"]["n_epochs"] == 3
        meta, content = fake_openai.state.files[data["training_file"]]
        assert meta["filename"] == "train.jsonl"
        assert content == path.read_bytes()
        await wait_until(pilot, lambda: job_id in header_text(app))


async def test_an_existing_file_id_is_used_as_is(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    file_id = fake_openai.add_file("remote.jsonl", b'{"messages": []}\n')
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await _open_form(pilot, app)
        _set(screen, "training", file_id)
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), timeout=60)
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, JobDetailScreen))
        job_id = app.screen.job_id  # type: ignore[attr-defined]
        assert fake_openai.job(job_id).data["training_file"] == file_id
        assert not any(
            r.method == "POST" and r.path.endswith("/files") for r in fake_openai.requests
        )


async def test_dpo_shows_beta_and_sends_the_dpo_method(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    file_id = fake_openai.add_file("prefs.jsonl", b'{"input": {}}\n')
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await _open_form(pilot, app)
        beta = screen.query_one("#field-beta")
        assert not beta.display  # supervised has no beta
        screen.query_one("#method", Select).value = "dpo"
        await wait_until(pilot, lambda: bool(beta.display))
        _set(screen, "training", file_id)
        _set(screen, "beta", "3")
        await pilot.press("ctrl+l")
        problems = screen.query_one("#form-problems")
        await wait_until(
            pilot, lambda: "DPO beta: must be more than 0 and at most 2, got 3" in text_of(problems)
        )
        _set(screen, "beta", "0.2")
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), timeout=60)
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, JobDetailScreen))
        job_id = app.screen.job_id  # type: ignore[attr-defined]
        method = fake_openai.job(job_id).data["method"]
        assert method["type"] == "dpo"
        assert method["dpo"]["hyperparameters"]["beta"] == 0.2


async def test_a_refused_upload_is_reported_in_the_form(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    path = _dataset(tmp_path / "train.jsonl", 12)
    fake_openai.fail_next(400, count=10, path_contains="/files")
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await _open_form(pilot, app, path)
        await pilot.press("ctrl+l")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen), timeout=60)
        await pilot.press("y")
        problems = screen.query_one("#form-problems")
        await wait_until(pilot, lambda: "Launch failed" in text_of(problems))
        assert isinstance(app.screen, NewJobScreen)  # still there, values kept, nothing created
        assert screen.query_one("#training", Input).value == str(path)
        assert not _created(fake_openai)
