"""`ft-tui convert` through the real CLI: formats, mapping, and every kind of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cookbook import COOKBOOK, EXTRACTS
from tests.tools.cli_helpers import read_jsonl, run_cli


def _messages(example: dict[str, object]) -> list[tuple[str, str]]:
    messages = example["messages"]
    assert isinstance(messages, list)
    return [(m["role"], m["content"]) for m in messages]


def test_csv_with_guessed_mapping_and_fixed_system_prompt(tmp_path: Path) -> None:
    src = tmp_path / "faq.csv"
    src.write_text(
        'Question,Answer,notes\nWhat is 2+2?,4,x\n"Two\nlines, quoted",yes,y\n,,\nHi,Hello,z\n',
        encoding="utf-8",
    )
    result = run_cli("convert", src, "faq.jsonl", "--system", "Be brief.", cwd=tmp_path)
    assert result.code == 0, result.err
    assert "user ← Question" in result.out and "assistant ← Answer" in result.out
    assert "wrote 3 examples" in result.out
    rows = read_jsonl(tmp_path / "faq.jsonl")
    assert _messages(rows[1]) == [
        ("system", "Be brief."),
        ("user", "Two\nlines, quoted"),
        ("assistant", "yes"),
    ]


def test_tsv_json_array_and_explicit_joined_columns(tmp_path: Path) -> None:
    tsv = tmp_path / "a.tsv"
    tsv.write_text("instr\tctx\treply\nSum\t1 and 2\t3\n", encoding="utf-8")
    result = run_cli(
        "convert", tsv, "a.jsonl", "--map", "user=instr+ctx", "--map", "assistant=reply",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.code == 0, result.err
    assert _messages(read_jsonl(tmp_path / "a.jsonl")[0]) == [
        ("user", "Sum\n\n1 and 2"),
        ("assistant", "3"),
    ]
    arr = tmp_path / "b.json"
    arr.write_text(json.dumps([{"input": "x", "output": 1, "system": "S"}]), encoding="utf-8")
    result = run_cli("convert", arr, "b.jsonl", cwd=tmp_path)
    assert result.code == 0, result.err
    assert _messages(read_jsonl(tmp_path / "b.jsonl")[0]) == [
        ("system", "S"),
        ("user", "x"),
        ("assistant", "1"),
    ]


def test_legacy_prompt_completion_from_the_openapi_spec(tmp_path: Path) -> None:
    src = EXTRACTS / "spec_FineTuneCompletionRequestInput.example.jsonl"
    expected = json.loads(src.read_text(encoding="utf-8"))
    result = run_cli("convert", src, "chat.jsonl", cwd=tmp_path)
    assert result.code == 0, result.err
    assert _messages(read_jsonl(tmp_path / "chat.jsonl")[0]) == [
        ("user", expected["prompt"]),
        ("assistant", expected["completion"]),
    ]


def test_chat_file_passes_through_and_gains_the_system_prompt(tmp_path: Path) -> None:
    src = COOKBOOK / "toy_chat_fine_tuning.jsonl"
    result = run_cli("convert", src, "toy.jsonl", "--system", "Be happy.", cwd=tmp_path)
    assert result.code == 0, result.err
    original = read_jsonl(src)
    converted = read_jsonl(tmp_path / "toy.jsonl")
    assert len(converted) == len(original) == 5
    for before, after in zip(original, converted, strict=True):
        roles = [role for role, _ in _messages(before)]
        if "system" in roles:
            assert after == before
        else:
            assert _messages(after)[0] == ("system", "Be happy.")
            assert _messages(after)[1:] == _messages(before)


def test_xlsx_named_sheet_and_missing_sheet(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Notes"
    sheet = book.create_sheet("Data")
    sheet.append(["prompt", "response", None])
    sheet.append(["Capital of France?", "Paris", None])
    sheet.append([None, None, None])
    sheet.append(["Year?", 2024, None])
    book.save(tmp_path / "book.xlsx")
    result = run_cli("convert", "book.xlsx", "x.jsonl", "--sheet", "Data", cwd=tmp_path)
    assert result.code == 0, result.err
    rows = read_jsonl(tmp_path / "x.jsonl")
    assert [_messages(r) for r in rows] == [
        [("user", "Capital of France?"), ("assistant", "Paris")],
        [("user", "Year?"), ("assistant", "2024")],
    ]
    result = run_cli("convert", "book.xlsx", "y.jsonl", "--sheet", "Nope", cwd=tmp_path)
    assert result.code == 2
    assert "no sheet named 'Nope'; sheets: Notes, Data" in result.err


def test_encodings_wrong_one_is_reported_and_can_be_chosen(tmp_path: Path) -> None:
    src = tmp_path / "latin.csv"
    src.write_bytes("prompt,completion\nok,fine\ncafé,crème\n".encode("cp1252"))
    result = run_cli("convert", src, "out.jsonl", cwd=tmp_path)
    assert result.code == 2
    assert "line 3 is not valid utf-8" in result.err and "--encoding" in result.err
    assert not (tmp_path / "out.jsonl").exists()
    result = run_cli("convert", src, "out.jsonl", "--encoding", "cp1252", cwd=tmp_path)
    assert result.code == 0, result.err
    assert _messages(read_jsonl(tmp_path / "out.jsonl")[1])[0] == ("user", "café")
    wide = tmp_path / "excel.tsv"  # Excel's "Unicode text" export: UTF-16 with a BOM
    wide.write_bytes("question\tanswer\r\nNaïve?\tOui\r\n".encode("utf-16"))
    result = run_cli("convert", wide, "wide.jsonl", cwd=tmp_path)
    assert result.code == 0, result.err
    assert _messages(read_jsonl(tmp_path / "wide.jsonl")[0]) == [
        ("user", "Naïve?"),
        ("assistant", "Oui"),
    ]


@pytest.mark.parametrize(
    ("name", "content", "extra", "message"),
    [
        (
            "ragged.csv",
            "question,answer\n1,2\n3,4,5\n",
            [],
            "line 3: the row has 3 fields but the header has 2",
        ),
        ("empty.csv", "", [], "empty.csv is empty"),
        ("nohint.csv", "foo,bar\n1,2\n", [], "no column for the user message"),
        ("m.csv", "q,a\n1,2\n", ["--map", "user=nope"], "no column 'nope'; columns: q, a"),
        ("m2.csv", "q,a\n1,2\n", ["--map", "speaker=q"], "role must be one of"),
        ("bad.jsonl", '{"prompt": "a", "completion": "b"}\n{"prompt": \n', [], "line 2 is not"),
        ("arr.json", '[{"prompt": 1, "answer": 2}, 3]', [], "item 2 (line 1) is a JSON int"),
        ("quote.csv", 'prompt,answer\n"x"y,2\n', [], "line 2: malformed row"),
        ("data.txt", "q,a\n", [], "pass --format"),
    ],
)
def test_bad_input_gets_a_clear_message_and_exit_2(
    tmp_path: Path, name: str, content: str, extra: list[str], message: str
) -> None:
    (tmp_path / name).write_text(content, encoding="utf-8")
    result = run_cli("convert", name, "out.jsonl", *extra, cwd=tmp_path)
    assert result.code == 2
    assert message in result.err
    assert result.err.startswith("ft-tui convert: error:")
    assert not (tmp_path / "out.jsonl").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_directory_same_file_and_overwrite_are_refused(tmp_path: Path) -> None:
    src = tmp_path / "a.csv"
    src.write_text("prompt,completion\nx,y\n", encoding="utf-8")
    result = run_cli("convert", tmp_path, "out.jsonl", cwd=tmp_path)
    assert result.code == 2 and "is a directory" in result.err
    result = run_cli("convert", src, src, cwd=tmp_path)
    assert result.code == 2 and "is the input file" in result.err
    assert src.read_text(encoding="utf-8") == "prompt,completion\nx,y\n"
    (tmp_path / "out.jsonl").write_text("keep me\n", encoding="utf-8")
    result = run_cli("convert", src, "out.jsonl", cwd=tmp_path)
    assert result.code == 2 and "--force" in result.err
    assert (tmp_path / "out.jsonl").read_text(encoding="utf-8") == "keep me\n"
    result = run_cli("convert", src, "out.jsonl", "--force", cwd=tmp_path)
    assert result.code == 0, result.err
    assert len(read_jsonl(tmp_path / "out.jsonl")) == 1


def test_dry_run_shows_mapping_and_first_examples_without_writing(tmp_path: Path) -> None:
    src = tmp_path / "a.csv"
    src.write_text("query,reply\nq1,r1\nq2,r2\nq3,r3\nq4,r4\n", encoding="utf-8")
    result = run_cli("convert", src, "out.jsonl", "--dry-run", cwd=tmp_path)
    assert result.code == 0, result.err
    shown = [json.loads(line) for line in result.out.splitlines() if line.startswith("{")]
    assert len(shown) == 3 and _messages(shown[0]) == [("user", "q1"), ("assistant", "r1")]
    assert "guessed from column names: user, assistant" in result.out
    assert not (tmp_path / "out.jsonl").exists()


def test_every_written_example_is_linted_and_counted_in_the_summary(tmp_path: Path) -> None:
    src = tmp_path / "qa.csv"
    src.write_text(
        "question,answer\nWhat?,This.\nWhy?,\nHow?,So.\n,Alone.\n",
        encoding="utf-8",
    )
    result = run_cli("convert", src, "qa.jsonl", "--system", "Answer briefly.", cwd=tmp_path)
    assert result.code == 0, result.err
    assert "wrote 4 examples" in result.out
    assert "lint: 0 of 4 examples with errors, 2 with warnings" in result.out
    assert "warning empty_assistant_message: 1" in result.out
    assert "example 2, line 3: warning empty_assistant_message" in result.out
    assert "warning empty_content: 1" in result.out  # the row with no question


def test_preference_pairs_become_sft_on_the_preferred_reply(tmp_path: Path) -> None:
    src = COOKBOOK / "dpo_pairs.jsonl"
    pair = json.loads(src.read_text(encoding="utf-8"))
    result = run_cli("convert", src, "sft.jsonl", cwd=tmp_path)
    assert result.code == 0, result.err
    assert "preference pairs: input messages + preferred output" in result.out
    assert "wrote 1 example to" in result.out and "lint: the example passes" in result.out
    [example] = read_jsonl(tmp_path / "sft.jsonl")
    assert example == {"messages": pair["input"]["messages"] + pair["preferred_output"]}
