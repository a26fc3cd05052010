"""The Convert dialog, driven by keys on a minimal app."""

from __future__ import annotations

import json
from pathlib import Path

from screens.dataset_tools import ConvertResult, ConvertScreen
from tests.app.helpers import wait_until
from tests.tools.dialog_helpers import DialogHost, preview_text, settle, status_text


def _csv(tmp_path: Path) -> Path:
    src = tmp_path / "faq.csv"
    src.write_text(
        "question,answer,context\nWhat is 2+2?,4,Math tutor\nCapital of France?,Paris,Geo\n",
        encoding="utf-8",
    )
    return src


async def test_preview_shows_the_guess_and_enter_writes(tmp_path: Path) -> None:
    src = _csv(tmp_path)
    app = DialogHost(ConvertScreen(src))
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        text = preview_text(app)
        assert "system ← context, user ← question, assistant ← answer" in text
        assert "user: What is 2+2?" in text and "assistant: Paris" in text
        assert f"output: {tmp_path / 'faq.jsonl'}" in text
        await pilot.press("enter")  # the output field has focus: Enter writes
        await wait_until(pilot, lambda: "Done" in status_text(app))
        assert "wrote 2 examples" in preview_text(app)
        await pilot.press("escape")
        await pilot.pause()
    assert len(app.results) == 1
    result = app.results[0]
    assert isinstance(result, ConvertResult) and result.output == tmp_path / "faq.jsonl"
    rows = [json.loads(x) for x in result.output.read_text(encoding="utf-8").splitlines()]
    assert rows[0]["messages"][0] == {"role": "system", "content": "Math tutor"}


async def test_changing_the_mapping_and_system_prompt_by_keyboard(tmp_path: Path) -> None:
    src = _csv(tmp_path)
    app = DialogHost(ConvertScreen(src))
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        dialog = app.dialog
        dialog.query_one("#map-system").focus()
        await pilot.press("enter", "up", "up", "up", "enter")  # back to the blank "(none)"
        dialog.query_one("#convert-system").focus()
        await pilot.press(*"Be kind.")
        await settle(pilot)
        assert 'system ← "Be kind."' in preview_text(app)
        assert "system: Be kind." in preview_text(app)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Done" in status_text(app))
        await pilot.press("enter")
        await pilot.pause()
    rows = (tmp_path / "faq.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(rows[1])["messages"][0] == {"role": "system", "content": "Be kind."}


async def test_existing_output_is_not_overwritten_unless_ticked(tmp_path: Path) -> None:
    src = _csv(tmp_path)
    (tmp_path / "faq.jsonl").write_text("old\n", encoding="utf-8")
    app = DialogHost(ConvertScreen(src))
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        assert "exists: tick 'Overwrite' to replace it" in preview_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert "already exists" in status_text(app)
        assert (tmp_path / "faq.jsonl").read_text(encoding="utf-8") == "old\n"
        app.dialog.query_one("#convert-force").focus()
        await pilot.press("space")
        await settle(pilot)
        app.dialog.query_one("#convert-out").focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Done" in status_text(app))
    assert (tmp_path / "faq.jsonl").read_text(encoding="utf-8").count("\n") == 2


async def test_bad_source_shows_the_reason_and_escape_returns_none(tmp_path: Path) -> None:
    src = tmp_path / "ragged.csv"
    src.write_text("prompt,completion\na,b\nc,d,e\n", encoding="utf-8")
    app = DialogHost(ConvertScreen(src))
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        app.dialog.query_one("#convert-out").focus()
        await pilot.press("enter")
        await settle(pilot)
        # the preview reads only the first records; writing reaches the ragged row
        assert "line 3: the row has 3 fields" in status_text(app)
        assert not (tmp_path / "ragged.jsonl").exists()
        await pilot.press("escape")
        await pilot.pause()
    assert app.results == [None]


async def test_escape_during_a_write_cancels_it_and_writes_nothing(tmp_path: Path) -> None:
    src = tmp_path / "big.csv"
    with src.open("w", encoding="utf-8") as handle:
        handle.write("prompt,completion\n")
        for i in range(40_000):
            handle.write(f"Question {i} about something long enough,An answer {i} " * 1 + "\n")
    dialog = ConvertScreen(src)
    app = DialogHost(dialog)
    async with app.run_test(size=(120, 50)) as pilot:
        await wait_until(pilot, lambda: "user: Question 0" in preview_text(app))
        # Start writing without waiting (Pilot's press waits until the app is idle, which is
        # after the job), then press Escape while 40,000 rows are still being linted.
        dialog.action_write()
        assert dialog.running
        await pilot.press("escape")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert "Cancelled; nothing was written." in status_text(app)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["big.csv"]
        await pilot.press("escape")
        await pilot.pause()
    assert app.results == [None]


async def test_the_preview_says_when_the_mapping_is_the_guess(tmp_path: Path) -> None:
    app = DialogHost(ConvertScreen(_csv(tmp_path)))
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        assert "mapping (guessed from the column names): system ← context" in preview_text(app)
        app.dialog.query_one("#map-system").focus()
        await pilot.press("enter", "up", "up", "up", "enter")  # choose "(none)"
        await settle(pilot)
        assert "mapping: system ← (none), user ← question" in preview_text(app)


async def test_xlsx_sheet_is_chosen_by_name_after_a_clear_error(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Notes"
    data = book.create_sheet("Data")
    data.append(["prompt", "response"])
    data.append(["Capital of Italy?", "Rome"])
    book.save(tmp_path / "book.xlsx")
    app = DialogHost(ConvertScreen(tmp_path / "book.xlsx"))
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        assert "sheet 'Notes' is empty" in status_text(app)
        app.dialog.query_one("#convert-sheet").focus()
        await pilot.press(*"Data")
        await settle(pilot)
        assert "user: Capital of Italy?" in preview_text(app)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "Done" in status_text(app))
    rows = (tmp_path / "book.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(rows[0])["messages"][1] == {"role": "assistant", "content": "Rome"}
