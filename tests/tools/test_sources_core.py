"""The source readers and mapping guess, used directly as the TUI uses them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tui.core.tools.convert import convert, preview_examples
from tui.core.tools.errors import Cancelled, ToolError
from tui.core.tools.mapping import guess_mapping, resolve_mapping
from tui.core.tools.sources import open_source


def test_json_array_streams_across_chunk_boundaries(tmp_path: Path) -> None:
    items = [
        {"question": f"q{i} " + "ü" * (i % 97), "answer": [i, {"n": i}], "x": None}
        for i in range(30_000)
    ]
    path = tmp_path / "big.json"
    path.write_text(json.dumps(items, ensure_ascii=False, indent=1), encoding="utf-8")
    assert path.stat().st_size > 3 << 20  # several read chunks
    source = open_source(path)
    assert source.kind == "json" and source.columns == ["question", "answer", "x"]
    got = [r.fields for r in source.records()]
    assert got == items
    last = list(source.records())[-1]
    assert last.where.startswith("item 30000 (line ")


def test_progress_reaches_the_end_and_cancel_leaves_no_output(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text(
        "prompt,completion\n" + "".join(f"p{i},c{i}\n" for i in range(5000)), encoding="utf-8"
    )
    source = open_source(path)
    mapping = resolve_mapping(source.columns, {})
    seen: list[tuple[int, int]] = []
    summary = convert(
        source, mapping, tmp_path / "out.jsonl", progress=lambda d, t: seen.append((d, t))
    )
    assert summary.written == 5000
    assert seen[-1] == (path.stat().st_size, path.stat().st_size)

    def stop(done: int, total: int) -> None:
        raise Cancelled

    with pytest.raises(Cancelled):
        convert(source, mapping, tmp_path / "stopped.jsonl", progress=stop)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "out.jsonl"]


def test_guess_prefers_specific_names_and_never_reuses_a_column() -> None:
    alpaca = guess_mapping(["instruction", "input", "output"])
    assert alpaca.user == ("instruction", "input") and alpaca.assistant == ("output",)
    qa = guess_mapping(["Context", "User Question", "Model_Answer"])
    assert qa.system == ("Context",)
    assert qa.user == ("User Question",) and qa.assistant == ("Model_Answer",)
    assert guess_mapping(["messages", "tools"]).passthrough
    assert "user ← instruction + input" in alpaca.describe()


def test_fixed_system_prompt_wins_over_a_guessed_system_column(tmp_path: Path) -> None:
    mapping = resolve_mapping(["system", "prompt", "completion"], {}, "Fixed.")
    assert mapping.system == () and mapping.system_prompt == "Fixed."
    with pytest.raises(ToolError, match="either a system column"):
        resolve_mapping(["system", "prompt", "completion"], {"system": ("system",)}, "Fixed.")


def test_jsonl_record_missing_a_mapped_field_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "pc.jsonl"
    path.write_text('{"prompt": "a", "completion": "b"}\n\n{"prompt": "c"}\n', encoding="utf-8")
    source = open_source(path)
    mapping = resolve_mapping(source.columns, {})
    with pytest.raises(ToolError, match="line 3: no field 'completion'"):
        convert(source, mapping, tmp_path / "out.jsonl")
    assert not (tmp_path / "out.jsonl").exists()
    assert len(preview_examples(source, mapping, limit=1)) == 1


def test_xlsx_without_openpyxl_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    path = tmp_path / "book.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # import openpyxl now fails
    with pytest.raises(ToolError, match=r"needs the optional package openpyxl: pip install"):
        open_source(path)
    monkeypatch.undo()
    with pytest.raises(ToolError, match="not a readable .xlsx workbook"):
        open_source(path)


def test_values_orjson_cannot_write_are_still_written(tmp_path: Path) -> None:
    path = tmp_path / "chat.jsonl"
    big = 2**70
    path.write_text(
        json.dumps({"messages": [{"role": "user", "content": "a"}], "meta": big}) + "\n",
        encoding="utf-8",
    )
    source = open_source(path)
    convert(source, resolve_mapping(source.columns, {}), tmp_path / "out.jsonl")
    assert json.loads((tmp_path / "out.jsonl").read_text(encoding="utf-8"))["meta"] == big


def test_an_explicit_empty_choice_overrides_the_guess() -> None:
    columns = ["context", "question", "answer"]
    assert resolve_mapping(columns, {}).system == ("context",)
    assert resolve_mapping(columns, {"system": ()}).system == ()
    with_prompt = resolve_mapping(columns, {"system": ()}, "Fixed.")
    assert with_prompt.system == () and with_prompt.system_prompt == "Fixed."
    with pytest.raises(ToolError, match="no column for the user message"):
        resolve_mapping(columns, {"user": ()})


def test_lint_tally_shows_the_first_example_of_each_rule() -> None:
    from tui.core.lint import Issue
    from tui.core.tools.example_lint import LintTally

    def issue(rule: str, severity: str, message: str) -> Issue:
        return Issue(None, rule, severity, message, "")

    tally = LintTally()
    for n in range(1, 13):
        tally.add(f"example {n}", [issue("no_system_message", "warning", "no system")])
    tally.add("example 13", [issue("missing_messages", "error", "no messages")])
    lines = tally.lines()
    assert lines[0] == "lint: 1 of 13 examples with errors, 12 with warnings"
    assert "  example 1: warning no_system_message: no system" in lines
    assert "  example 13: error missing_messages: no messages" in lines
    assert "  warning no_system_message: 12" in lines
