"""One rule for every save dialog: a trailing / or an existing folder keeps the file's name,
relative paths start at the dataset root, a missing folder is reported (to ask), not guessed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.core.save_paths import SavePathError, create_folder, plan_save, root_folder


def test_trailing_slash_for_a_missing_folder_keeps_the_name(tmp_path: Path) -> None:
    plan = plan_save(str(tmp_path / "out") + "/", "results.csv", tmp_path)
    assert plan.path == tmp_path / "out" / "results.csv"
    assert plan.missing_folder == tmp_path / "out"
    assert not plan.exists


def test_an_existing_folder_keeps_the_name_with_or_without_slash(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    for typed in ("out", "out/"):
        plan = plan_save(typed, "results.csv", tmp_path)
        assert plan.path == tmp_path / "out" / "results.csv"
        assert plan.missing_folder is None


def test_a_file_path_is_the_file_and_relative_paths_start_at_the_base(tmp_path: Path) -> None:
    plan = plan_save("deep/er/x.csv", "results.csv", tmp_path)
    assert plan.path == tmp_path / "deep" / "er" / "x.csv"
    assert plan.missing_folder == tmp_path / "deep" / "er"
    create_folder(tmp_path / "deep" / "er")
    (tmp_path / "deep" / "er" / "x.csv").write_text("old")
    assert plan_save("deep/er/x.csv", "results.csv", tmp_path).exists


def test_bad_paths_are_refused_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    with pytest.raises(SavePathError, match="not a folder"):
        plan_save("afile/x.csv", "r.csv", tmp_path)
    with pytest.raises(SavePathError, match="Type a path"):
        plan_save("  ", "r.csv", tmp_path)


def test_the_root_of_a_file_is_its_folder(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text("")
    assert root_folder(data) == tmp_path
    assert root_folder(tmp_path) == tmp_path
