"""The shape of a per-example linter as the tools use it, and a tally of what it found."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol


class IssueLike(Protocol):
    @property
    def rule(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def message(self) -> str: ...


ExampleLinter = Callable[[dict[str, object]], Sequence[IssueLike]]

FIRST_ISSUES = 10


@dataclass
class LintTally:
    """Counts of examples with errors / warnings, per rule, and the first issue of each rule."""

    examples: int = 0
    with_errors: int = 0
    with_warnings: int = 0
    by_rule: Counter[tuple[str, str]] = field(default_factory=Counter)
    first: list[str] = field(default_factory=list)

    def add(self, where: str, issues: Sequence[IssueLike]) -> bool:
        """Record one example's issues; True when it has an error."""
        self.examples += 1
        severities = {issue.severity for issue in issues}
        has_error = "error" in severities
        self.with_errors += has_error
        self.with_warnings += "warning" in severities
        for issue in issues:
            key = (issue.severity, issue.rule)
            if key not in self.by_rule and len(self.first) < FIRST_ISSUES:  # first of each rule
                self.first.append(f"{where}: {issue.severity} {issue.rule}: {issue.message}")
            self.by_rule[key] += 1
        return has_error

    def lines(self) -> list[str]:
        if not self.examples:
            return []
        if not self.by_rule:
            return [
                "lint: the example passes"
                if self.examples == 1
                else f"lint: all {self.examples} examples pass"
            ]
        out = [
            f"lint: {self.with_errors} of {self.examples} examples with errors, "
            f"{self.with_warnings} with warnings"
        ]
        for (severity, rule), count in sorted(self.by_rule.items()):
            out.append(f"  {severity:<7} {rule}: {count}")
        out.extend(f"  {line}" for line in self.first)
        return out
