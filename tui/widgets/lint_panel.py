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

from tui.core.lint import Issue, LintReport
from tui.core.plurals import plural

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
    LintPanel > #lint-title { text-wrap: nowrap; text-overflow: ellipsis; }
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
        bar = ProgressBar(total=100, show_eta=False, id="lint-progress")
        bar.display = False
        yield bar
        yield Static("Open a dataset to see its lint report.", id="lint-summary", classes="muted")
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

    def progress(self, done: int, total: int, partial: LintReport) -> None:
        self.query_one(ProgressBar).update(total=max(total, 1), progress=done)
        self.query_one("#lint-summary", Static).update(
            f"{plural(partial.examples, 'example')} so far · "
            f"{plural(partial.error_count, 'error')} · {plural(partial.warning_count, 'warning')}"
        )

    def failed(self, message: str) -> None:
        self.query_one(ProgressBar).display = False
        self.query_one("#lint-summary", Static).update(Text(message, style="bold red"))
        self.query_one(Tree).clear()

    def not_linted(self, name: str, message: str) -> None:
        """A file that is not a JSONL dataset (a table to convert): say so instead of linting."""
        self.query_one("#lint-title", Static).update(f"Lint · {name}")
        self.query_one(ProgressBar).display = False
        self.query_one("#lint-summary", Static).update(Text(message, style="yellow"))
        self.query_one(Tree).clear()

    def show_report(self, report: LintReport) -> None:
        """Render a finished report: summary, estimate, stats, and issues grouped by rule."""
        self.query_one(ProgressBar).display = False
        self.query_one("#lint-summary", Static).update(self._summary(report))
        tree = self.query_one(Tree)
        tree.clear()
        groups: dict[str, list[Issue]] = {}
        for issue in report.issues:
            groups.setdefault(issue.rule, []).append(issue)
        order = sorted(groups, key=lambda r: (groups[r][0].severity != "error", r))
        for rule in order:
            issues = groups[rule]
            severity = issues[0].severity
            total = report.counts_by_rule.get(rule, len(issues))
            label = Text()
            if severity == "error":
                label.append("✖ ", style="bold red")
            else:
                label.append("▲ ", style="bold yellow")
            label.append(f"{rule} ({total:,})  ", style="bold")
            label.append(issues[0].hint, style="dim")
            node = tree.root.add(label, expand=severity == "error" and len(order) <= 3)
            for issue in issues[:MAX_SHOWN_PER_RULE]:
                where = f"line {issue.line}" if issue.line is not None else "file"
                node.add_leaf(f"{where}: {issue.message}", data=IssueRef(issue.line))
            hidden = total - min(len(issues), MAX_SHOWN_PER_RULE)
            if hidden > 0:
                node.add_leaf(
                    Text(f"… {hidden:,} more (ft-tui lint --json lists them)", style="dim")
                )
        if not order:
            tree.root.add_leaf(Text("No issues found.", style="green"))

    @staticmethod
    def _summary(report: LintReport) -> Text:
        errors, warnings = report.error_count, report.warning_count
        text = Text()
        text.append(f"{plural(report.examples, 'example')} ({report.format}) · ")
        text.append(plural(errors, "error"), style="bold red" if errors else "green")
        text.append(" · ")
        text.append(plural(warnings, "warning"), style="bold yellow" if warnings else "green")
        est = report.estimate
        text.append(
            f"\nepochs {_fmt_int(est.epochs)} · tokens/epoch {_fmt_int(est.tokens_per_epoch)}"
            f" · billed {_fmt_int(est.billed_tokens)} · {_fmt_cost(est.cost_usd)}"
        )
        if report.model_note:
            text.append(f"\n{report.model_note}", style="italic")
        for label, summary in (
            ("tokens/example", report.stats.total_tokens),
            ("trained tokens", report.stats.trained_tokens),
        ):
            if summary.count and summary.median is not None:
                text.append(
                    f"\n{label}: min {_fmt_int(summary.min)} · median {summary.median:,.0f}"
                    f" · p90 {summary.p90 or 0:,.0f} · max {_fmt_int(summary.max)}",
                    style="dim",
                )
        if report.stats.over_limit:
            text.append(
                f"\n{plural(report.stats.over_limit, 'example')} over the model's limit",
                style="yellow",
            )
        return text

    def on_tree_node_selected(self, event: Tree.NodeSelected[IssueRef]) -> None:
        ref = event.node.data
        if ref is not None and ref.line is not None:
            event.stop()
            self.post_message(self.JumpTo(ref.line))
