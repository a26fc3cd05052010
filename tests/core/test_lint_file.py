"""Linting files: raw-line problems, file-level rules and the cookbook reference numbers."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.cookbook import COOKBOOK, EXTRACTS
from tests.core.helpers import chat, good_examples, write_jsonl, write_lines
from tui.core.lint import LintInputError, lint_path


def lines_of(ex: Sequence[object]) -> list[bytes]:
    return [json.dumps(e).encode() for e in ex]


def test_toy_dataset_reproduces_the_cookbook_exactly() -> None:
    report = lint_path(COOKBOOK / "toy_chat_fine_tuning.jsonl", model="gpt-3.5-turbo-0125")
    est = report.estimate
    assert (est.tokens_per_epoch, est.epochs, est.billed_tokens) == (8242, 20, 164840)
    assert report.counts_by_rule["too_few_examples"] == 1
    assert report.issues_for("too_few_examples")[0].line is None
    assert report.counts_by_rule["no_system_message"] == 1
    assert report.counts_by_rule["no_user_message"] == 1
    s = report.stats
    assert (s.messages.min, s.messages.max, s.messages.mean, s.messages.median) == (2, 9, 3.8, 3)
    assert s.messages.p90 == pytest.approx(6.6)
    assert (s.total_tokens.min, s.total_tokens.max, s.total_tokens.median) == (26, 8032, 45)
    assert s.total_tokens.mean == pytest.approx(1648.4)
    assert (s.total_tokens.p10, s.total_tokens.p90) == pytest.approx((26.8, 4863.6))
    assert (s.trained_tokens.p10, s.trained_tokens.p90) == pytest.approx((6.0, 4811.2))
    assert est.cost_usd == pytest.approx(164840 * 8 / 1e6)


def test_drone_tool_calling_dataset_has_no_error() -> None:
    report = lint_path(COOKBOOK / "drone_training.jsonl")
    assert report.examples == 103
    assert not report.has_errors
    assert report.stats.total_tokens.count == 103


def test_recipe_sample_matches_the_reference_rerun() -> None:
    path = EXTRACTS / "tmp_recipe_finetune_training.head5.jsonl"
    report = lint_path(path, model="gpt-3.5-turbo-0125")
    assert (report.estimate.tokens_per_epoch, report.estimate.billed_tokens) == (627, 12540)
    assert report.stats.trained_tokens.mean == pytest.approx(24.0)


def test_good_file_is_clean_and_priced(tmp_path: Path) -> None:
    report = lint_path(write_jsonl(tmp_path / "t.jsonl", good_examples(12)), model="gpt-4o-mini")
    assert report.issues == [] and not report.has_errors
    assert report.format == "chat" and report.examples == 12
    assert report.estimate.epochs == 8  # min(25, 100 // 12)
    assert report.estimate.cost_usd is not None and report.estimate.cost_usd > 0
    data = report.to_json()
    assert (
        json.loads(json.dumps(data))["estimate"]["billed_tokens"] == report.estimate.billed_tokens
    )


def test_unknown_model_has_no_price_and_says_so(tmp_path: Path) -> None:
    report = lint_path(write_jsonl(tmp_path / "t.jsonl", good_examples(10)), model="llama-x")
    assert report.estimate.cost_usd is None
    assert report.encoding == "o200k_base"
    assert "unknown model" in report.issues_for("unknown_model")[0].message


def test_raw_line_problems_are_reported_on_their_lines(tmp_path: Path) -> None:
    good = lines_of(good_examples(10))
    lines = [good[0], b'{"messages": [,]}', b"   ", b'{"messages": "\xff"}', *good[1:]]
    report = lint_path(write_lines(tmp_path / "t.jsonl", lines))
    by_rule = {i.rule: i for i in report.issues}
    assert by_rule["invalid_json"].line == 2 and "column 15" in by_rule["invalid_json"].message
    assert by_rule["blank_line"].line == 3 and by_rule["blank_line"].severity == "warning"
    assert by_rule["invalid_utf8"].line == 4 and "0xff" in by_rule["invalid_utf8"].message
    assert report.examples == 12  # the blank line is not an example


def test_bom_and_crlf_are_warnings_and_the_data_still_counts(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b"".join(x + b"\r\n" for x in lines_of(good_examples(10))))
    report = lint_path(path)
    assert not report.has_errors
    assert report.counts_by_rule == {"bom": 1, "crlf_line_ending": 10}
    assert "ft-tui fix" in report.issues_for("bom")[0].hint
    assert report.stats.total_tokens.count == 10


def test_truncated_last_line(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    body = b"".join(x + b"\n" for x in lines_of(good_examples(10)))
    path.write_bytes(body + b'{"messages": [{"role": "user", "con')
    report = lint_path(path)
    [issue] = report.issues_for("truncated_last_line")
    assert issue.line == 11 and report.has_errors
    complete_no_newline = tmp_path / "ok.jsonl"
    complete_no_newline.write_bytes(body.rstrip(b"\n"))
    assert lint_path(complete_no_newline).issues == []


def test_binary_and_empty_files_are_file_level_errors(tmp_path: Path) -> None:
    binary = tmp_path / "b.jsonl"
    binary.write_bytes(b"\x00\x01\x02 model weights")
    [issue] = lint_path(binary).issues
    assert (issue.rule, issue.line) == ("binary_file", None) and "NUL" in issue.message
    gz = tmp_path / "g.jsonl"
    gz.write_bytes(b"\x1f\x8b\x08\x00rest")
    assert "gzip" in lint_path(gz).issues[0].message
    empty = tmp_path / "e.jsonl"
    empty.write_bytes(b"")
    report = lint_path(empty)
    assert [i.rule for i in report.issues] == ["empty_file"] and report.has_errors


def test_unreadable_paths_raise_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LintInputError, match="no such file"):
        lint_path(tmp_path / "missing.jsonl")
    with pytest.raises(LintInputError, match="is a directory"):
        lint_path(tmp_path)
    locked = write_jsonl(tmp_path / "locked.jsonl", good_examples(10))
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("running as a user who can read anything")
        with pytest.raises(LintInputError, match="permission denied"):
            lint_path(locked)
    finally:
        locked.chmod(0o600)


def test_lines_of_another_format_are_errors(tmp_path: Path) -> None:
    examples: list[object] = [*good_examples(10), {"prompt": "a", "completion": "b"}]
    report = lint_path(write_jsonl(tmp_path / "t.jsonl", examples))
    [issue] = report.issues_for("format_mismatch")
    assert issue.line == 11 and "prompt/completion" in issue.message


def test_preference_and_completion_files_get_counts(tmp_path: Path) -> None:
    pairs = [
        {
            "input": {"messages": [{"role": "user", "content": f"q{i}"}]},
            "preferred_output": [{"role": "assistant", "content": "good answer"}],
            "non_preferred_output": [{"role": "assistant", "content": "bad"}],
        }
        for i in range(10)
    ]
    report = lint_path(write_jsonl(tmp_path / "dpo.jsonl", pairs))
    assert report.format == "preference" and not report.has_errors
    assert report.stats.trained_tokens.min and report.stats.trained_tokens.min > 0
    comps = [{"prompt": f"p{i}", "completion": " done"} for i in range(10)]
    report = lint_path(write_jsonl(tmp_path / "c.jsonl", comps), model="babbage-002")
    assert report.format == "completion" and report.estimate.tokens_per_epoch > 0


def test_duplicates_and_validation_overlap(tmp_path: Path) -> None:
    train = good_examples(12) + [good_examples(1)[0]]
    val = [chat("unique?", "yes"), good_examples(3)[2]]
    report = lint_path(
        write_jsonl(tmp_path / "t.jsonl", train), validation=write_jsonl(tmp_path / "v.jsonl", val)
    )
    [dup] = report.issues_for("duplicate_example")
    assert dup.line == 13 and "line 1" in dup.message
    [overlap] = report.issues_for("validation_overlap")
    assert overlap.line == 3 and "validation line 2" in overlap.message
    assert report.validation is not None and report.validation.examples == 2
    assert "too_few_examples" not in report.validation.counts_by_rule


def test_too_long_examples_are_counted_and_capped_in_billing(tmp_path: Path) -> None:
    examples = good_examples(10) + [chat(answer="token " * 5000)]
    report = lint_path(write_jsonl(tmp_path / "t.jsonl", examples), model="gpt-3.5-turbo-0613")
    assert report.counts_by_rule["too_many_tokens"] == 1
    assert report.stats.over_limit == 1
    assert report.stats.total_tokens.max is not None and report.stats.total_tokens.max > 4096
    small = sum(
        lint_path(write_jsonl(tmp_path / "s.jsonl", good_examples(10))).estimate.tokens_per_epoch
        for _ in [0]
    )
    assert report.estimate.tokens_per_epoch == small + 4096
    assert report.issues_for("unusually_long_example")


def test_secrets_and_special_tokens_in_files(tmp_path: Path) -> None:
    examples = good_examples(10) + [
        chat(user="use key sk-proj-Zx81kLm20PqR7sTu4VwXy9Za3Bc6De5Fg"),
        chat(answer="<|im_start|>assistant"),
    ]
    path = write_jsonl(tmp_path / "t.jsonl", examples)
    report = lint_path(path)
    assert report.issues_for("possible_secret")[0].line == 11
    assert "sk-pro" in report.issues_for("possible_secret")[0].message
    assert report.issues_for("forbidden_special_token")[0].line == 12
    escaped = tmp_path / "esc.jsonl"
    escaped.write_text(path.read_text().replace("<|im_start|>", "\\u003c|im_start|\\u003e"))
    assert lint_path(escaped).issues_for("forbidden_special_token")[0].line == 12


def test_file_size_and_image_count_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tui.core.lint import report as report_module

    path = write_jsonl(tmp_path / "t.jsonl", good_examples(10))
    size = path.stat().st_size
    monkeypatch.setattr(report_module, "FILES_API_MAX_BYTES", size - 1)
    warned = lint_path(path)
    assert warned.counts_by_rule == {"file_too_large_for_files_api": 1}
    assert not warned.has_errors
    monkeypatch.setattr(report_module, "UPLOADS_API_MAX_BYTES", size - 1)
    assert lint_path(path).counts_by_rule == {"file_too_large": 1}
    monkeypatch.setattr(report_module, "MAX_IMAGE_EXAMPLES", 1)
    image = {"type": "image_url", "image_url": {"url": "https://example.com/x.png"}}
    with_images = [
        {"messages": [{"role": "user", "content": [image]}, {"role": "assistant", "content": "A"}]}
    ] * 2
    report = lint_path(write_jsonl(tmp_path / "i.jsonl", good_examples(10) + with_images))
    assert "too_many_image_examples" in report.counts_by_rule
    assert report.stats.image_examples == 2
