"""The Split and Fix dialogs, driven by keys on a minimal app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, ProgressBar

from screens.dataset_tools import FixResult, FixScreen, SplitResult, SplitScreen
from tests.app.helpers import wait_until
from tests.tools.cli_helpers import chat, write_jsonl
from tests.tools.dialog_helpers import DialogHost, preview_text, settle, status_text


async def _write_and_close(pilot: Pilot[None], app: DialogHost) -> None:
    await pilot.press("ctrl+r")
    await wait_until(pilot, lambda: "Done" in status_text(app))
    await pilot.press("enter")  # focus is on the Close button now
    await pilot.pause()


async def test_split_preview_count_and_reproducible_write(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "qa.jsonl", [chat(f"q{i}", f"a{i}") for i in range(50)])
    app = DialogHost(SplitScreen(data))
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        assert "50 examples → 45 training, 5 validation (seed 0)" in preview_text(app)
        bar = app.dialog.query_one("#tool-progress", ProgressBar)
        assert bar.total == 2 * data.stat().st_size  # pass 1 of 2 was reported
        await pilot.press("home", "ctrl+k", *"0.2")
        await settle(pilot)
        assert "50 examples → 40 training, 10 validation" in preview_text(app)
        await _write_and_close(pilot, app)
    result = app.results[0]
    assert isinstance(result, SplitResult)
    assert result.train == tmp_path / "qa.train.jsonl"
    valid = result.valid.read_text(encoding="utf-8").splitlines()
    assert len(valid) == 10 and len(result.train.read_text(encoding="utf-8").splitlines()) == 40
    from tui.core.tools.split import plan_split, split

    again = split(plan_split(data, ratio=0.2, seed=0), tmp_path / "t.jsonl", tmp_path / "v.jsonl")
    assert again.valid_path.read_text(encoding="utf-8").splitlines() == valid


async def test_split_grouping_and_bad_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [chat(f"q{i % 10}", f"a{i}") for i in range(40)]
    data = write_jsonl(tmp_path / "dup.jsonl", rows)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # a relative output is written beside the dataset
    app = DialogHost(SplitScreen(data))
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        await pilot.press("home", "ctrl+k", *"abc")
        await settle(pilot)
        assert "Validation: 'abc' is not a fraction like 0.1" in status_text(app)
        await pilot.press("home", "ctrl+k", *"0.25")
        app.dialog.query_one("#split-group").focus()
        await pilot.press("space")
        await settle(pilot)
        assert "identical prompts kept on one side" in preview_text(app)
        app.dialog.query_one("#split-valid", Input).value = "held-out.jsonl"
        app.dialog.query_one("#split-seed").focus()
        await _write_and_close(pilot, app)
    result = app.results[0]
    assert isinstance(result, SplitResult)
    assert result.valid == tmp_path / "held-out.jsonl"

    def prompts(path: Path) -> set[str]:
        lines = path.read_text(encoding="utf-8").splitlines()
        return {json.loads(x)["messages"][0]["content"] for x in lines}

    assert prompts(result.train).isdisjoint(prompts(result.valid))
    assert result.summary.valid % 4 == 0  # whole groups of four


async def test_fix_preview_is_a_dry_run_then_writes_and_keeps_rejects(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    good = json.dumps(chat("Hi", "Hello"))
    data.write_text(good + "\n" + good + "\n" + '{"messages": []}\n', encoding="utf-8")
    app = DialogHost(FixScreen(data))
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        assert "Tick at least one fix" in preview_text(app)
        app.dialog.query_one("#fix-dedupe").focus()
        await pilot.press("space")
        app.dialog.query_one("#fix-drop-invalid").focus()
        await pilot.press("space")
        await settle(pilot)
        text = preview_text(app)
        assert "dry run: nothing written" in text
        assert "remove exact duplicates: 1 line" in text and "line 2: same as line 1" in text
        assert "drop lines with errors (to the rejected file): 1 line" in text
        assert "line 3: missing_messages" in text
        assert not (tmp_path / "d.fixed.jsonl").exists()
        app.dialog.query_one("#fix-out").focus()
        await _write_and_close(pilot, app)
    result = app.results[0]
    assert isinstance(result, FixResult)
    assert result.output.read_text(encoding="utf-8") == good + "\n"
    assert result.rejected is not None
    assert result.rejected.read_text(encoding="utf-8") == '{"messages": []}\n'
    assert data.read_text(encoding="utf-8").count("\n") == 3  # the source is untouched


async def test_fix_in_place_only_when_asked_and_escape_cancels(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_bytes(b'\xef\xbb\xbf{"messages": [{"role": "user", "content": "a"}]}\r\n')
    app = DialogHost(FixScreen(data))
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        app.dialog.query_one("#fix-normalize").focus()
        await pilot.press("space")
        app.dialog.query_one("#fix-in-place").focus()
        await pilot.press("space")
        await settle(pilot)
        assert "(replacing the source)" in preview_text(app)
        assert "line 1: BOM removed, CRLF → LF" in preview_text(app)
        await _write_and_close(pilot, app)
    assert data.read_bytes() == b'{"messages": [{"role": "user", "content": "a"}]}\n'
    app = DialogHost(FixScreen(data))
    async with app.run_test(size=(120, 50)) as pilot:
        await settle(pilot)
        await pilot.press("escape")
        await pilot.pause()
    assert app.results == [None]
