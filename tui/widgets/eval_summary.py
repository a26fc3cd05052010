"""The summary of an eval run: models × scorers (mean and 95% interval), errors (and latency
on wide terminals), then the pairwise win rates. Re-rendered as rows stream in (cheap)."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from tui.services.eval.types import RunSummary


def _short(value: float) -> str:
    """0.15 → .15; 1.00 stays."""
    text = f"{value:.2f}"
    return text[1:] if text.startswith("0.") else text


def _interval(lo: float, hi: float) -> str:
    return f"{_short(lo)}–{_short(hi)}"


def summary_table(summary: RunSummary, width: int = 80) -> Table:
    """Models × scorers; the latency column only where there is room (over 100 columns)."""
    table = Table(box=None, padding=(0, 1), show_edge=False, expand=False, header_style="bold")
    table.add_column("model", no_wrap=True, overflow="ellipsis", max_width=24)
    scorers = list(summary.spec.scorers)
    if summary.spec.judge is not None and "judge" not in scorers:
        scorers.append("judge")
    for name in scorers:
        table.add_column(name, no_wrap=True, overflow="ellipsis")
    table.add_column("err", justify="right", no_wrap=True)
    wide = width > 100
    if wide:
        table.add_column("s/answer", justify="right", no_wrap=True)
    for model in summary.models:
        cells: list[Text | str] = [model.label]
        for name in scorers:
            value = model.scores.get(name)
            if value is None:
                cells.append(Text("–", style="dim"))
                continue
            cell = Text(f"{value:.2f} ", style="bold")
            lo, hi = model.ci95.get(name, (value, value))
            cell.append(_interval(lo, hi), style="dim")
            cells.append(cell)
        cells.append(Text(str(model.errors), style="red" if model.errors else "dim"))
        latency = model.mean_latency_s
        if wide:
            cells.append("–" if latency is None else f"{latency:.2f}")
        table.add_row(*cells)
    return table


def _name(label: str, room: int = 22) -> str:
    return label if len(label) <= room else label[: room - 1] + "…"


def pairwise_text(summary: RunSummary) -> Text:
    """One line per pair: each side's share of the rows it won, then ties and the counts."""
    text = Text()
    decider = "judge" if summary.spec.judge is not None else summary.spec.scorers[0]
    for pair in summary.pairwise:
        total = pair.wins_a + pair.wins_b + pair.ties
        if total == 0:
            continue
        if text:
            text.append("\n")
        text.append(f"{_name(pair.a)} ", style="bold")
        text.append(f"{pair.wins_a / total:.0%}", style="green")
        text.append(f" vs {_name(pair.b)} ", style="bold")
        text.append(f"{pair.wins_b / total:.0%}", style="green")
        text.append(f" · {pair.ties} ties ({decider})", style="dim")
    return text


class EvalSummary(Static):
    DEFAULT_CSS = """
    EvalSummary { height: auto; max-height: 9; padding: 0 1; }
    """

    def show(self, summary: RunSummary | None) -> None:
        if summary is None or not summary.models:
            self.update(Text("No rows yet.", style="dim"))
            return
        self.update(Group(summary_table(summary, self.size.width), pairwise_text(summary)))
