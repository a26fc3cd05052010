"""What checking one example yields: its issues and its token counts."""

from __future__ import annotations

from tui.core.rules import RuleId


class ExampleOutcome:
    """Issues found in one example (rule id, one-line message) and its counts."""

    __slots__ = ("issues", "total_tokens", "trained_tokens", "messages", "images")

    def __init__(self) -> None:
        self.issues: list[tuple[RuleId, str]] = []
        self.total_tokens = 0
        self.trained_tokens = 0
        self.messages = 0
        self.images = 0

    def add(self, rule_id: RuleId, message: str) -> None:
        self.issues.append((rule_id, message))
