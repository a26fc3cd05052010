"""One eval row read closely: the reference and each model's answer side by side, the words
where an answer differs from the reference highlighted."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from tui.services.eval.types import RowResult
from tui.services.eval_browse import answer_text, diff_spans, passed, row_reference

DIFF_STYLE = "bold red underline"


def answer_view(row: RowResult, label: str, scorer: str) -> tuple[str, Text]:
    """(title, body) of one model's answer: differing words highlighted."""
    answer = row.answers.get(label)
    verdict = passed(answer, scorer)
    mark = "✓" if verdict else "…" if verdict is None else "✗"
    if answer is None:
        return f"{mark} {label}", Text("(not answered yet)", style="dim")
    if answer.error is not None:
        return f"{mark} {label}", Text(f"error: {answer.error}", style="red")
    body = Text()
    for piece, differs in diff_spans(answer_text(answer), row_reference(row)):
        body.append(piece, style=DIFF_STYLE if differs else "")
    scores = " ".join(f"{k} {v:.2f}" for k, v in answer.scores.items())
    return f"{mark} {label} · {scores}" if scores else f"{mark} {label}", body


class EvalAnswers(Horizontal):
    DEFAULT_CSS = """
    EvalAnswers { height: 7; }
    EvalAnswers > Static {
        width: 1fr; height: 100%; border: round $panel; padding: 0 1; overflow-y: auto;
    }
    EvalAnswers > Static.reference { border: round $accent; }
    """

    def compose(self) -> ComposeResult:
        yield Static(Text("Select a row.", style="dim"), classes="reference")

    async def show(self, row: RowResult | None, labels: Sequence[str], scorer: str) -> None:
        panes = list(self.query_children(Static))
        wanted = 1 + len(labels)
        if len(panes) != wanted:
            await self.query_children(Static).remove()
            panes = [Static(classes="reference")] + [Static() for _ in labels]
            await self.mount_all(panes)
        if row is None:
            panes[0].update(Text("No row selected.", style="dim"))
            panes[0].border_title = "reference"
            for pane in panes[1:]:
                pane.update("")
            return
        panes[0].border_title = f"reference · line {row.line}"
        panes[0].update(Text(row_reference(row)))
        for pane, label in zip(panes[1:], labels, strict=True):
            title, body = answer_view(row, label, scorer)
            pane.border_title = title
            pane.update(body)
