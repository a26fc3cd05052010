"""Scan one byte range of a JSONL file line by line (in-process or in a worker process).

A range starts at a line start and ends after a newline (or at end of file). Line numbers in a
`ChunkResult` are local to the range (1-based); the runner adds the lines before it.
"""

from __future__ import annotations

import hashlib
import heapq
import threading
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field

import orjson

from tui.core.formats import Format
from tui.core.lint.content import raw_line_issues
from tui.core.lint.example import check_example
from tui.core.lint.outcome import ExampleOutcome
from tui.core.rules import RuleId
from tui.core.stats import Distribution
from tui.core.tokens import token_counter

ISSUES_KEPT_PER_RULE = 1000
MAX_LINE_BYTES = 64 * 1024 * 1024
HASH_BUCKETS = 64
BOM = b"\xef\xbb\xbf"
_CANCEL_CHECK_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ChunkTask:
    path: str
    start: int
    end: int
    file_format: Format
    encoding: str
    training_limit: int | None
    at_file_end: bool
    reinforcement: bool = False


@dataclass
class ChunkResult:
    start: int
    end: int
    lines: int = 0
    examples: int = 0
    counted: int = 0  # examples whose tokens could be counted
    image_examples: int = 0
    billable_tokens: int = 0  # sum of min(limit, tokens)
    issues: list[tuple[int, RuleId, str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    messages: Distribution = field(default_factory=Distribution)
    tokens: Distribution = field(default_factory=Distribution)
    trained: Distribution = field(default_factory=Distribution)
    longest: list[tuple[int, int]] = field(default_factory=list)  # (tokens, local line)
    hashes: list[array[int]] = field(default_factory=list)
    hash_lines: list[array[int]] = field(default_factory=list)
    cancelled: bool = False

    def add_issue(self, line: int | None, rule_id: RuleId, message: str) -> None:
        n = self.counts.get(rule_id, 0)
        self.counts[rule_id] = n + 1
        if n < ISSUES_KEPT_PER_RULE:
            self.issues.append((line or 0, rule_id, message))


def _decode_problem(raw: bytes, at_eof_without_newline: bool) -> tuple[RuleId, str]:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = raw[exc.start]
        return ("invalid_utf8", f"invalid UTF-8 byte 0x{bad:02x} at byte {exc.start + 1}")
    try:
        orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if at_eof_without_newline:
            return (
                "truncated_last_line",
                f"the file ends without a newline inside an incomplete example ({exc.msg})",
            )
        return ("invalid_json", f"invalid JSON at column {exc.colno}: {exc.msg}")
    return ("invalid_json", "invalid JSON")


def _skip_rest_of_line(read: Callable[[int], bytes]) -> int:
    skipped = 0
    while True:
        piece = read(1 << 20)
        skipped += len(piece)
        if not piece or piece.endswith(b"\n"):
            return skipped


def _record_counts(
    result: ChunkResult,
    outcome: ExampleOutcome,
    line_no: int,
    limit: int | None,
    longest: list[tuple[int, int]],
) -> None:
    tokens = outcome.total_tokens
    result.counted += 1
    result.messages.add(outcome.messages)
    result.tokens.add(tokens)
    result.trained.add(outcome.trained_tokens)
    if outcome.images:
        result.image_examples += 1
    if limit is not None and tokens > limit:
        result.add_issue(
            line_no,
            "too_many_tokens",
            f"{tokens} tokens, over the {limit}-token limit: truncated in training",
        )
        tokens = limit
    result.billable_tokens += tokens
    item = (outcome.total_tokens, line_no)  # keep the longest examples for the outlier rule
    if len(longest) < ISSUES_KEPT_PER_RULE:
        heapq.heappush(longest, item)
    elif item > longest[0]:
        heapq.heapreplace(longest, item)


def scan_chunk(task: ChunkTask, cancel: threading.Event | None = None) -> ChunkResult:
    """Lint the lines of one byte range; stops early (marked cancelled) once `cancel` is set."""
    result = ChunkResult(task.start, task.end)
    result.hashes = [array("Q") for _ in range(HASH_BUCKETS)]
    result.hash_lines = [array("I") for _ in range(HASH_BUCKETS)]
    counter = token_counter(task.encoding)
    longest: list[tuple[int, int]] = []
    pos = task.start
    next_cancel_check = pos + _CANCEL_CHECK_BYTES
    add = result.add_issue
    with open(task.path, "rb") as handle:
        handle.seek(task.start)
        read = handle.readline
        while pos < task.end:
            raw = read(MAX_LINE_BYTES + 1)
            if not raw:
                break
            line_no = result.lines + 1
            result.lines = line_no
            pos += len(raw)
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                pos += _skip_rest_of_line(read)
                result.examples += 1
                add(line_no, "line_too_long", "line is longer than 64 MiB; not checked")
                continue
            if pos > next_cancel_check:
                next_cancel_check = pos + _CANCEL_CHECK_BYTES
                if cancel is not None and cancel.is_set():
                    result.cancelled = True
                    break
            # Slicing a 50 MB line would copy it: work on a view without the line ending.
            size = len(raw)
            has_newline = raw.endswith(b"\n")
            if has_newline:
                size -= 1
                if size and raw[size - 1] == 13:  # "\r"
                    size -= 1
                    add(line_no, "crlf_line_ending", "line ends with CR LF")
            first = 0
            if line_no == 1 and task.start == 0 and raw.startswith(BOM):
                first = len(BOM)
                add(line_no, "bom", "the file starts with a UTF-8 byte order mark")
            if size <= first or (raw[first : first + 1].isspace() and not raw.strip()):
                add(line_no, "blank_line", "blank line")
                continue
            body = memoryview(raw)[first:size]
            result.examples += 1
            try:
                example = orjson.loads(body)
            except orjson.JSONDecodeError:
                eof = task.at_file_end and not has_newline and pos >= task.end
                add(line_no, *_decode_problem(bytes(body), eof))
                continue
            outcome = check_example(example, task.file_format, counter, task.reinforcement)
            for rule_id, message in outcome.issues:
                add(line_no, rule_id, message)
            for rule_id, message in raw_line_issues(raw, example):
                add(line_no, rule_id, message)
            digest = int.from_bytes(hashlib.blake2b(body, digest_size=8).digest(), "little")
            bucket = digest % HASH_BUCKETS
            result.hashes[bucket].append(digest)
            result.hash_lines[bucket].append(line_no)
            if isinstance(example, dict) and (outcome.messages or not outcome.issues):
                _record_counts(result, outcome, line_no, task.training_limit, longest)
    result.longest = sorted(longest, reverse=True)
    return result
