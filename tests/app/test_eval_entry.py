"""The ways into an evaluation from the other modes: `E` on a dataset (mode 1), `e` on a
finished job (mode 2: the fine-tune against its base model on the validation file, or on a
held-out split of the training file), `g` on a model with a shutdown date (mode 4: record a
golden set)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Input, SelectionList

from screens.eval_form import NewEvalScreen
from screens.eval_record import RecordGoldenScreen
from tests.app.eval_helpers import BASE, held_out
from tests.app.helpers import wait_until
from tests.app.jobs_helpers import open_job
from tests.eval.conftest import oracle, sentiment_rows
from tests.fake_openai.fixture import fake_openai  # noqa: F401
from tests.fake_openai.server import FakeOpenAI
from tui.app import FtApp
from tui.core.lint import lint_path
from tui.services.connection import connection_for


def _selected(form: NewEvalScreen) -> list[str]:
    return list(form.query_one("#form-models", SelectionList).selected)


async def test_E_on_a_dataset_opens_the_form_on_that_file(
    tmp_path: Path,
    fake_openai: FakeOpenAI,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = held_out(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # a typed relative path is read beside the opened file
    app = FtApp(data, connection=connection_for())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: getattr(app.screen, "path", None) == data)
        await pilot.press("E")
        await wait_until(pilot, lambda: isinstance(app.screen, NewEvalScreen))
        assert app.current_mode == "eval"
        form = app.screen
        assert form.query_one("#form-dataset", Input).value == str(data.resolve())
        assert isinstance(form, NewEvalScreen)
        form.query_one("#form-dataset", Input).value = data.name
        form.query_one("#form-extra", Input).value = BASE
        assert form.spec().dataset == data


def _jsonl(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


async def test_e_on_a_finished_job_compares_the_fine_tune_with_its_base(
    tmp_path: Path,
    fake_openai: FakeOpenAI,  # noqa: F811
) -> None:
    valid = fake_openai.add_file("valid.jsonl", _jsonl(sentiment_rows(6)))
    with_valid = fake_openai.add_job(validation_file=valid)
    fake_openai.run_to_end(with_valid)
    tuned = str(fake_openai.job(with_valid).data["fine_tuned_model"])
    train = fake_openai.add_file("train.jsonl", _jsonl(sentiment_rows(20)))
    without = fake_openai.add_job(training_file=train)
    fake_openai.run_to_end(without)
    app = FtApp(tmp_path, connection=connection_for())
    async with app.run_test(size=(80, 24)) as pilot:
        await open_job(pilot, app, with_valid)
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, NewEvalScreen))
        form = app.screen
        assert isinstance(form, NewEvalScreen)
        dataset = Path(form.query_one("#form-dataset", Input).value)
        assert dataset.read_bytes() == _jsonl(sentiment_rows(6))  # the validation file
        assert _selected(form) == [tuned, "gpt-4o-mini-2024-07-18"]
        await pilot.press("escape")

        await pilot.press("2", "escape")  # back from the first job's view to the list
        await open_job(pilot, app, without)
        await pilot.press("e")
        await wait_until(
            pilot, lambda: isinstance(app.screen, NewEvalScreen) and app.screen is not form
        )
        held = Path(app.screen.query_one("#form-dataset", Input).value)
        lines = held.read_text().splitlines()
        assert len(lines) == 4  # 20% of the 20 training rows, split by the split tool
        assert set(lines) <= {json.dumps(r) for r in sentiment_rows(20)}


@pytest.mark.parametrize("typed", ["absolute", "relative"])
async def test_g_records_a_golden_set_of_a_model_with_a_shutdown_date(
    tmp_path: Path,
    fake_openai: FakeOpenAI,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    typed: str,
) -> None:
    fake_openai.chat.responder = oracle
    data = held_out(tmp_path, 12)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # relative paths are read in the folder ft-tui was opened on
    app = FtApp(tmp_path, connection=connection_for())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await wait_until(pilot, lambda: app.current_mode == "files")
        await pilot.press("m")
        screen: Any = app.screen
        table = screen.query_one("#models-table")
        await wait_until(pilot, lambda: table.row_count > 0)
        table.move_cursor(row=[table.row_text(i)[0] for i in range(table.row_count)].index(BASE))
        assert table.selected_model.shutdown_date is not None
        await pilot.press("g")
        await wait_until(pilot, lambda: isinstance(app.screen, RecordGoldenScreen))
        dialog = app.screen
        dialog.query_one("#record-dataset", Input).value = (
            str(data) if typed == "absolute" else data.name
        )
        out = tmp_path / f"held.golden-{BASE}.jsonl"  # offered beside the dataset
        offered = str(out) if typed == "absolute" else out.name
        await wait_until(pilot, lambda: dialog.query_one("#record-out", Input).value == offered)
        await pilot.press("f5")
        await wait_until(pilot, lambda: app.screen is screen, timeout=30)
    golden = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(golden) == 12
    assert golden[1]["messages"][-1] == {"role": "assistant", "content": "negative"}
    report = lint_path(out)
    assert not [i for i in report.issues if i.severity == "error"]
