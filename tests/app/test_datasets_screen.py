"""The Datasets screen as a user meets it: pick a file, read examples, see the lint report."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import pytest
from textual.widgets import Static, Tree

from tests.app.helpers import text_of, wait_until
from tui.app import FtApp
from tui.widgets.lint_panel import LintPanel

GOOD = {
    "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Capital of France?"},
        {"role": "assistant", "content": "Paris."},
    ]
}


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FT_TUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FT_TUI_CONFIG_DIR", str(tmp_path / "config"))


def _write(path: Path, rows: Sequence[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _body(app: FtApp) -> str:
    return text_of(app.screen.query_one("#example-body", Static))


def _title(app: FtApp) -> str:
    return text_of(app.screen.query_one("#example-title", Static))


def _summary(app: FtApp) -> str:
    return text_of(app.screen.query_one("#lint-summary", Static))


async def test_opening_a_file_shows_its_first_example_and_navigates(tmp_path: Path) -> None:
    rows = [
        dict(
            GOOD,
            messages=GOOD["messages"][:2]
            + [{"role": "assistant", "content": f"Answer number {i}"}],
        )
        for i in range(12)
    ]
    path = _write(tmp_path / "train.jsonl", rows)
    app = FtApp(path)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: "Answer number 0" in _body(app))
        assert "line 1 of" in _title(app)
        await pilot.press("n")
        await wait_until(pilot, lambda: "Answer number 1" in _body(app))
        await pilot.press("g")
        await pilot.press(*"11", "enter")
        await wait_until(pilot, lambda: "Answer number 10" in _body(app))
        assert "line 11 of 12" in _title(app)
        await pilot.press("p")
        await wait_until(pilot, lambda: "Answer number 9" in _body(app))


async def test_lint_report_streams_in_and_enter_jumps_to_the_line(tmp_path: Path) -> None:
    rows: list[object] = [GOOD] * 11
    path = _write(tmp_path / "mixed.jsonl", rows)
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"messages": [{"role": "user", "content": "cut off\n')
    app = FtApp(path)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: " error" in _summary(app) and "so far" not in _summary(app))
        assert "12 examples" in _summary(app) or "11 examples" in _summary(app)
        tree = app.screen.query_one("#lint-tree", Tree)
        labels = [str(node.label) for node in tree.root.children]
        assert any("json" in label.lower() for label in labels), labels
        # Walk to the first issue under the first (error) group and press Enter.
        tree.focus()
        group = tree.root.children[0]
        group.expand()
        await pilot.pause()
        tree.select_node(group.children[0])
        await pilot.press("enter")
        await wait_until(pilot, lambda: "line 12 of" in _title(app))
        assert "not valid JSON" in _body(app)


@pytest.mark.parametrize("kind", ["binary", "empty", "unreadable"])
async def test_bad_files_get_a_clear_message_not_a_crash(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"{kind}.jsonl"
    if kind == "binary":
        path.write_bytes(b"\x00\x01\x02\xff" * 100)
    elif kind == "empty":
        path.write_bytes(b"")
    else:
        path.write_text(json.dumps(GOOD) + "\n")
        path.chmod(0)
        if os.access(path, os.R_OK):  # root ignores permissions
            path.chmod(0o644)
            pytest.skip("running as root: permissions are not enforced")
    app = FtApp(path)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(
            pilot,
            lambda: (
                bool(_summary(app))
                and "Checking" not in _summary(app)
                and "so far" not in _summary(app)
            ),
        )
        if kind == "empty":
            assert "empty" in _body(app).lower()
        summary = _summary(app).lower()
        assert "error" in summary or "cannot read" in summary


async def test_narrow_terminal_hides_the_tree_until_asked(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.jsonl", [GOOD] * 10)
    app = FtApp(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: "Paris." in _body(app))
        tree = app.screen.query_one("#dataset-tree")
        assert not tree.display or tree.region.width == 0
        await pilot.press("t")
        await pilot.pause()
        assert app.screen.query_one("#dataset-tree").region.width > 0


async def test_tree_lists_only_datasets_and_opens_the_selected_one(tmp_path: Path) -> None:
    _write(tmp_path / "one.jsonl", [GOOD] * 10)
    (tmp_path / "notes.txt").write_text("not a dataset")
    app = FtApp(tmp_path)
    async with app.run_test(size=(140, 40)) as pilot:
        tree = app.screen.query_one("#dataset-tree", Tree)
        await wait_until(pilot, lambda: len(tree.root.children) > 0)
        names = [str(node.label) for node in tree.root.children]
        assert any("one.jsonl" in n for n in names)
        assert not any("notes.txt" in n for n in names)
        node = next(n for n in tree.root.children if "one.jsonl" in str(n.label))
        tree.focus()
        tree.select_node(node)
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Paris." in _body(app))
        assert isinstance(app.screen.query_one(LintPanel), LintPanel)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (b"\xef\xbb\xbf" + json.dumps(GOOD).encode() + b"\n", "Paris."),  # BOM: still readable
        (json.dumps(GOOD).encode() + b"\r\n", "Paris."),  # CRLF
        (b"\xff\xfe not utf-8\n", "not valid UTF-8"),
        (b"   \n", "blank"),
        (b'{"messages": [', "not valid JSON"),  # truncated last line
    ],
)
async def test_odd_lines_are_shown_with_what_is_wrong(
    tmp_path: Path, raw: bytes, shown: str
) -> None:
    path = tmp_path / "odd.jsonl"
    path.write_bytes(raw + b"".join(json.dumps(GOOD).encode() + b"\n" for _ in range(10)))
    app = FtApp(path)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: shown in _body(app))
        await wait_until(
            pilot, lambda: "so far" not in _summary(app) and "examples" in _summary(app)
        )
        await pilot.press("n")  # the good examples after the odd line are there to read
        await wait_until(pilot, lambda: "Paris." in _body(app))


async def test_a_50_mb_line_is_shown_as_a_prefix_without_loading_it_whole(tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    big = json.dumps(
        {
            "messages": [
                {"role": "user", "content": "x" * 50_000_000},
                {"role": "assistant", "content": "ok"},
            ]
        }
    )
    path.write_text(big + "\n" + "".join(json.dumps(GOOD) + "\n" for _ in range(10)))
    app = FtApp(path)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(pilot, lambda: "MB; showing its beginning" in _body(app), timeout=60)
        await pilot.press("n")
        await wait_until(pilot, lambda: "Paris." in _body(app))


async def test_a_file_big_enough_for_the_process_pool_lints_inside_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The pool spawns processes; inside a Textual app stderr has no file descriptor, which
    # once made every big file's lint fail. Lower the threshold to keep the file small.
    from tui.core.lint import runner

    monkeypatch.setattr(runner, "IN_PROCESS_MAX_BYTES", 64 * 1024)
    monkeypatch.setattr(runner, "MIN_CHUNK_BYTES", 32 * 1024)
    path = _write(tmp_path / "big.jsonl", [GOOD] * 2000)
    assert path.stat().st_size > 2 * 64 * 1024
    app = FtApp(path)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_until(
            pilot,
            lambda: "2,000 examples" in _summary(app) and "so far" not in _summary(app),
            timeout=60,
        )
        assert "0 errors" in _summary(app)
