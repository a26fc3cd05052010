"""Tables (CSV, TSV, XLSX, a JSON array) are shown as tables with the guessed roles and `c` as
the next step, not linted as broken JSONL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import Static

from tests.app.helpers import text_of, wait_until
from tui.app import FtApp


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FT_TUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FT_TUI_CONFIG_DIR", str(tmp_path / "config"))


def _csv(path: Path, sep: str = ",") -> Path:
    rows = ["instruction", "output"], ["Capital of France?", "Paris."], ["2+2?", "4"]
    path.write_text("".join(sep.join(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _array(path: Path) -> Path:
    items = [
        {"question": "Capital of France?", "answer": "Paris."},
        {"question": "2+2?", "answer": "4"},
    ]
    path.write_text(json.dumps(items, indent=2), encoding="utf-8")
    return path


def _xlsx(path: Path) -> Path:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["prompt", "response"], ["Capital of France?", "Paris."], ["2+2?", "4"]):
        sheet.append(row)
    book.save(path)
    return path


@pytest.mark.parametrize(
    ("name", "make", "user", "assistant"),
    [
        ("data.csv", _csv, "instruction", "output"),
        ("data.tsv", lambda p: _csv(p, "\t"), "instruction", "output"),
        ("data.json", _array, "question", "answer"),
        ("data.xlsx", _xlsx, "prompt", "response"),
    ],
)
async def test_a_table_is_shown_as_a_table_with_roles_and_convert_next(
    tmp_path: Path, name: str, make: object, user: str, assistant: str
) -> None:
    path = make(tmp_path / name)  # type: ignore[operator]
    app = FtApp(path)
    async with app.run_test(size=(120, 30)) as pilot:

        def body() -> str:
            return text_of(app.screen.query_one("#example-body", Static))

        await wait_until(pilot, lambda: "Capital of France?" in body())
        shown = body()
        assert user in shown and assistant in shown  # the column names
        assert "Paris." in shown and "2+2?" in shown  # the first rows
        assert f"user ← {user}" in shown and f"assistant ← {assistant}" in shown
        assert "press c to convert" in shown
        assert "not valid JSON" not in shown
        summary = text_of(app.screen.query_one("#lint-summary", Static))
        assert "Not linted" in summary and "errors" not in summary
        await pilot.press("l")  # re-lint does not lint a table as JSONL either
        await pilot.pause()
        assert "Not linted" in text_of(app.screen.query_one("#lint-summary", Static))


async def test_a_json_file_of_objects_per_line_is_still_read_as_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "lines.json"
    row = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]}
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    app = FtApp(path)
    async with app.run_test(size=(120, 30)) as pilot:

        def summary() -> str:
            return text_of(app.screen.query_one("#lint-summary", Static))

        await wait_until(pilot, lambda: "1 example" in summary())
