"""The lint report beside the example: progress, issues grouped by rule, stats and estimate.

Issues arrive as a finished `LintReport` (progress updates carry only counts, so a huge file with
millions of issues never floods the UI). Selecting an issue posts `LintPanel.JumpTo` with its line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import ProgressBar, Static, Tree

MAX_SHOWN_PER_RULE = 200


@dataclass(frozen=True)
class IssueRef:
    line: int | None


def _fmt_int(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else "—"


def _fmt_cost(value: Any) -> str:
    return f"${value:,.2f}" if isinstance(value, (int, float)) else "unknown price"


class LintPanel(Vertical):
    DEFAULT_CSS = """
    LintPanel { height: 1fr; }
    LintPanel > #lint-summary { height: auto; padding: 0 1; }
    LintPanel > ProgressBar { padding: 0 1; }
    LintPanel > Tree { height: 1fr; }
    """

    class JumpTo(Message):
        def __init__(self, line: int) -> None:
            super().__init__()
            self.line = line

    def compose(self) -> ComposeResult:
        yield Static("Lint", classes="title", id="lint-title")
        yield ProgressBar(total=100, show_eta=False, id="lint-progress")
        yield Static("", id="lint-summary")
        tree: Tree[IssueRef] = Tree("issues", id="lint-tree")
        tree.show_root = False
        yield tree

    def start(self, name: str, model: str) -> None:
        self.query_one("#lint-title", Static).update(f"Lint · {name} · {model}")
        bar = self.query_one(ProgressBar)
        bar.update(total=100, progress=0)
        bar.display = True
        self.query_one("#lint-summary", Static).update(Text("Checking…", style="dim"))
        self.query_one(Tree).clear()

    def progress(self, done: int, total: int, examples: int, errors: int, warnings: int) -> None:
        self.query_one(ProgressBar).update(total=max(total, 1), progress=done)
        self.query_one("#lint-summary", Static).update(
            f"{examples:,} examples so far · {errors:,} errors · {warnings:,} warnings"
        )

    def failed(self, message: str) -> None:
        self.query_one(ProgressBar).display = False
        self.query_one("#lint-summary", Static).update(Text(message, style="bold red"))
        self.query_one(Tree).clear()

    def show_report(self, report: Any) -> None:
        """Render a finished `tui.core.lint.LintReport`."""
        self.query_one(ProgressBar).display = False
        self.query_one("#lint-summary", Static).update(self._summary(report))
        tree = self.query_one(Tree)
        tree.clear()
        groups: dict[str, list[Any]] = {}
        for issue in report.issues:
            groups.setdefault(issue.rule, []).append(issue)
        counts: dict[str, int] = dict(getattr(report, "counts_by_rule", {}) or {})
        order = sorted(groups, key=lambda r: (groups[r][0].severity != "error", r))
        for rule in order:
            issues = groups[rule]
            severity = issues[0].severity
            total = counts.get(rule, len(issues))
            label = Text()
            label.append(
                "✖ " if severity == "error" else "▲ ",
                style="bold red" if severity == "error" else "bold yellow",
            )
            label.append(f"{rule} ({total:,})  ", style="bold")
            label.append(issues[0].hint if getattr(issues[0], "hint", "") else "", style="dim")
            node = tree.root.add(label, expand=severity == "error" and len(order) <= 3)
            for issue in issues[:MAX_SHOWN_PER_RULE]:
                where = f"line {issue.line}" if issue.line is not None else "file"
                node.add_leaf(f"{where}: {issue.message}", data=IssueRef(issue.line))
            if total > MAX_SHOWN_PER_RULE:
                node.add_leaf(Text(f"… {total - MAX_SHOWN_PER_RULE:,} more", style="dim"))
        if not order:
            tree.root.add_leaf(Text("No issues found.", style="green"))

    def _summary(self, report: Any) -> Text:
        errors = sum(1 for i in report.issues if i.severity == "error")
        warnings = sum(1 for i in report.issues if i.severity != "error")
        counts = getattr(report, "counts_by_rule", None) or {}
        if counts:
            sev = {i.rule: i.severity for i in report.issues}
            errors = sum(n for r, n in counts.items() if sev.get(r) == "error")
            warnings = sum(n for r, n in counts.items() if sev.get(r) != "error")
        text = Text()
        text.append(f"{report.examples:,} examples · ")
        text.append(f"{errors:,} errors", style="bold red" if errors else "green")
        text.append(" · ")
        text.append(f"{warnings:,} warnings", style="bold yellow" if warnings else "green")
        est = report.estimate
        text.append(
            f"\nepochs {_fmt_int(getattr(est, 'epochs', None))} · "
            f"tokens/epoch {_fmt_int(getattr(est, 'tokens_per_epoch', None))} · "
            f"billed {_fmt_int(getattr(est, 'billed_tokens', None))} · "
            f"{_fmt_cost(getattr(est, 'cost_usd', None))}"
        )
        stats_line = self._stats_line(getattr(report, "stats", None))
        if stats_line:
            text.append("\n" + stats_line, style="dim")
        return text

    @staticmethod
    def _stats_line(stats: Any) -> str:
        if stats is None:
            return ""
        parts = []
        for attr, label in (
            ("total_tokens", "tokens/example"),
            ("assistant_tokens", "assistant tokens"),
        ):
            dist = getattr(stats, attr, None)
            if dist is None:
                continue
            try:
                parts.append(
                    f"{label} min {dist.min:,} · median {dist.median:,.0f} · "
                    f"p90 {dist.p90:,.0f} · max {dist.max:,}"
                )
            except (AttributeError, TypeError, ValueError):
                continue
        return "\n".join(parts)

    def on_tree_node_selected(self, event: Tree.NodeSelected[IssueRef]) -> None:
        ref = event.node.data
        if ref is not None and ref.line is not None:
            event.stop()
            self.post_message(self.JumpTo(ref.line))
