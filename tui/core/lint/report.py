"""The lint report and how chunk results merge into it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tui.core.lint.dedup import HashIndex
from tui.core.lint.scan import HASH_BUCKETS, ISSUES_KEPT_PER_RULE, ChunkResult
from tui.core.models_catalog import ModelInfo
from tui.core.pricing import training_cost_usd
from tui.core.rules import RULES, RuleId
from tui.core.stats import Distribution, Estimate, Summary, default_epochs, summarize

MIN_EXAMPLES = 10
FILES_API_MAX_BYTES = 512 * 1024 * 1024
UPLOADS_API_MAX_BYTES = 8 * 1024 * 1024 * 1024
MAX_IMAGE_EXAMPLES = 50_000
LONG_EXAMPLE_MIN_TOKENS = 2048
LONG_EXAMPLE_MEDIAN_FACTOR = 8


@dataclass(frozen=True)
class Issue:
    line: int | None  # 1-based; None for the file as a whole
    rule: str
    severity: str
    message: str
    hint: str

    def to_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "hint": self.hint,
        }


def make_issue(line: int | None, rule_id: RuleId, message: str) -> Issue:
    r = RULES[rule_id]
    return Issue(line, rule_id, r.severity, message, r.hint)


@dataclass(frozen=True)
class DatasetStats:
    messages: Summary
    total_tokens: Summary
    trained_tokens: Summary
    token_histogram: list[tuple[int, int, int]]
    over_limit: int
    image_examples: int

    def to_json(self) -> dict[str, Any]:
        return {
            "messages_per_example": self.messages.to_json(),
            "tokens_per_example": self.total_tokens.to_json(),
            "trained_tokens_per_example": self.trained_tokens.to_json(),
            "token_histogram": [list(b) for b in self.token_histogram],
            "examples_over_limit": self.over_limit,
            "examples_with_images": self.image_examples,
        }


@dataclass
class LintReport:
    path: str
    format: str
    model: str
    encoding: str
    training_limit: int | None
    model_note: str
    size_bytes: int
    done_bytes: int
    examples: int
    counted_examples: int
    issues: list[Issue]
    counts_by_rule: dict[str, int]
    stats: DatasetStats
    estimate: Estimate
    complete: bool = True
    cancelled: bool = False
    validation: LintReport | None = None

    @property
    def has_errors(self) -> bool:
        return any(RULES[r].severity == "error" for r, n in self.counts_by_rule.items() if n)

    @property
    def error_count(self) -> int:
        return sum(n for r, n in self.counts_by_rule.items() if RULES[r].severity == "error")

    @property
    def warning_count(self) -> int:
        return sum(n for r, n in self.counts_by_rule.items() if RULES[r].severity == "warning")

    def issues_for(self, rule_id: str) -> list[Issue]:
        return [i for i in self.issues if i.rule == rule_id]

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "model": {
                "name": self.model,
                "encoding": self.encoding,
                "training_example_limit": self.training_limit,
                "note": self.model_note or None,
            },
            "size_bytes": self.size_bytes,
            "complete": self.complete,
            "cancelled": self.cancelled,
            "examples": self.examples,
            "counted_examples": self.counted_examples,
            "has_errors": self.has_errors,
            "errors": self.error_count,
            "warnings": self.warning_count,
            "counts_by_rule": dict(sorted(self.counts_by_rule.items())),
            "issues_kept_per_rule": ISSUES_KEPT_PER_RULE,
            "issues": [i.to_json() for i in self.issues],
            "stats": self.stats.to_json(),
            "estimate": self.estimate.to_json(),
            "validation": self.validation.to_json() if self.validation else None,
        }


@dataclass
class ReportBuilder:
    """Merges chunk results in file order and finishes the report."""

    path: str
    file_format: str
    model: ModelInfo
    size_bytes: int
    lines: int = 0
    examples: int = 0
    counted: int = 0
    image_examples: int = 0
    billable: int = 0
    done_bytes: int = 0
    cancelled: bool = False
    issues: list[tuple[int | None, RuleId, str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    messages: Distribution = field(default_factory=Distribution)
    tokens: Distribution = field(default_factory=Distribution)
    trained: Distribution = field(default_factory=Distribution)
    longest: list[tuple[int, int]] = field(default_factory=list)
    hashes: HashIndex = field(default_factory=lambda: HashIndex(HASH_BUCKETS))

    def add_issue(self, line: int | None, rule_id: RuleId, message: str) -> None:
        n = self.counts.get(rule_id, 0)
        self.counts[rule_id] = n + 1
        if n < ISSUES_KEPT_PER_RULE:
            self.issues.append((line, rule_id, message))

    def add_chunk(self, chunk: ChunkResult) -> None:
        offset = self.lines
        kept: dict[str, int] = {}
        for line, rule_id, message in chunk.issues:
            n = self.counts.get(rule_id, 0) + kept.get(rule_id, 0)
            kept[rule_id] = kept.get(rule_id, 0) + 1
            if n < ISSUES_KEPT_PER_RULE:
                self.issues.append((offset + line if line else None, rule_id, message))
        for counted_rule, n in chunk.counts.items():
            self.counts[counted_rule] = self.counts.get(counted_rule, 0) + n
        self.lines += chunk.lines
        self.examples += chunk.examples
        self.counted += chunk.counted
        self.image_examples += chunk.image_examples
        self.billable += chunk.billable_tokens
        self.done_bytes += chunk.end - chunk.start
        self.cancelled = self.cancelled or chunk.cancelled
        self.messages.merge(chunk.messages)
        self.tokens.merge(chunk.tokens)
        self.trained.merge(chunk.trained)
        merged = self.longest + [(t, offset + ln) for t, ln in chunk.longest]
        self.longest = sorted(merged, reverse=True)[:ISSUES_KEPT_PER_RULE]
        self.hashes.add_chunk(offset, chunk.hashes, chunk.hash_lines)

    def _estimate(self) -> Estimate:
        epochs = default_epochs(self.counted)
        billed = epochs * self.billable
        return Estimate(epochs, self.billable, billed, training_cost_usd(self.model.prices, billed))

    def snapshot(self, complete: bool = False) -> LintReport:
        issues = [make_issue(line, r, m) for line, r, m in self.issues]
        issues.sort(key=lambda i: (i.line or 0, i.rule))
        return LintReport(
            path=self.path,
            format=self.file_format,
            model=self.model.name,
            encoding=self.model.encoding,
            training_limit=self.model.training_limit,
            model_note=self.model.note,
            size_bytes=self.size_bytes,
            done_bytes=self.done_bytes,
            examples=self.examples,
            counted_examples=self.counted,
            issues=issues,
            counts_by_rule=dict(self.counts),
            stats=DatasetStats(
                messages=summarize(self.messages),
                total_tokens=summarize(self.tokens),
                trained_tokens=summarize(self.trained),
                token_histogram=self.tokens.histogram(),
                over_limit=self.counts.get("too_many_tokens", 0),
                image_examples=self.image_examples,
            ),
            estimate=self._estimate(),
            complete=complete,
            cancelled=self.cancelled,
        )

    def finish_file_checks(self, validation: bool = False) -> None:
        """File-level rules that need every chunk: counts, sizes, duplicates, outliers."""
        if self.cancelled:
            return
        if self.examples < MIN_EXAMPLES and not validation:
            self.add_issue(
                None,
                "too_few_examples",
                f"the file has {self.examples} example(s); OpenAI requires at least {MIN_EXAMPLES}",
            )
        if self.size_bytes > UPLOADS_API_MAX_BYTES:
            self.add_issue(None, "file_too_large", f"{self.size_bytes / 2**30:.1f} GiB > 8 GB")
        elif self.size_bytes > FILES_API_MAX_BYTES:
            self.add_issue(
                None, "file_too_large_for_files_api", f"{self.size_bytes / 2**20:.0f} MiB > 512 MB"
            )
        if self.image_examples > MAX_IMAGE_EXAMPLES:
            self.add_issue(
                None,
                "too_many_image_examples",
                f"{self.image_examples} examples with images (limit {MAX_IMAGE_EXAMPLES})",
            )
        if not self.model.known and not validation:
            self.add_issue(None, "unknown_model", self.model.note)
        for line, first in self.hashes.duplicates():
            self.add_issue(line, "duplicate_example", f"same as line {first}")
        median = self.tokens.quantiles((0.5,))[0]
        if median is not None:
            threshold = max(LONG_EXAMPLE_MIN_TOKENS, LONG_EXAMPLE_MEDIAN_FACTOR * median)
            for tokens, line in sorted(self.longest, key=lambda t: t[1]):
                if tokens > threshold:
                    self.add_issue(
                        line,
                        "unusually_long_example",
                        f"{tokens} tokens, {tokens / max(median, 1):.0f}x the median "
                        f"({median:.0f})",
                    )
            extra = self.tokens.count_above(threshold) - self.counts.get(
                "unusually_long_example", 0
            )
            if extra > 0:  # counted beyond the kept longest examples
                self.counts["unusually_long_example"] = (
                    self.counts.get("unusually_long_example", 0) + extra
                )

    def add_overlap(self, validation: HashIndex) -> None:
        for line, other in self.hashes.overlap(validation):
            self.add_issue(line, "validation_overlap", f"same as validation line {other}")
