"""The job view's header: status, progress, timing, tokens, cost, the error of a failed job and
whether polling is backing off."""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui.core.job_status import is_terminal
from tui.widgets.job_table import STATUS_STYLES, format_tokens


@dataclass(frozen=True)
class JobSummary:
    """Everything the header shows; built by the job screen from the job, events and poller."""

    job_id: str
    status: str
    model: str
    fine_tuned_model: str | None = None
    step: int | None = None
    total_steps: int | None = None
    created_at: int | None = None
    started_at: float | None = None
    finished_at: int | None = None
    estimated_finish: int | None = None
    seconds_per_step: float | None = None  # median time per step (pauses left out)
    training_seconds: float | None = None  # time spent training so far
    trained_tokens: int | None = None
    cost: str = ""
    error_code: str | None = None
    error_message: str | None = None
    error_param: str | None = None
    backoff: str = ""


def format_duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def eta_seconds(summary: JobSummary, now: float) -> float | None:
    """Seconds to the end: steps left × the time per step (pauses do not count), else the
    server's `estimated_finish`, else the step rate since the first step."""
    if is_terminal(summary.status) or summary.status == "paused":
        return None
    if summary.seconds_per_step and summary.step and summary.total_steps:
        return summary.seconds_per_step * max(0, summary.total_steps - summary.step)
    if summary.estimated_finish:
        return max(0.0, summary.estimated_finish - now)
    if (
        summary.step
        and summary.total_steps
        and summary.started_at
        and summary.step < summary.total_steps
        and now > summary.started_at
    ):
        rate = (now - summary.started_at) / summary.step
        return rate * (summary.total_steps - summary.step)
    return None


def header_lines(summary: JobSummary, now: float) -> list[Text]:
    """The header's lines; pure so it can be checked without a terminal."""
    first = Text(no_wrap=True, overflow="ellipsis")
    first.append(f"● {summary.status or '?'}", style=STATUS_STYLES.get(summary.status, "italic"))
    if summary.total_steps:
        step = summary.step or 0
        first.append(f"  step {step:,}/{summary.total_steps:,} ({step / summary.total_steps:.0%})")
    elif summary.step:
        first.append(f"  step {summary.step:,}")
    if summary.created_at:  # since creation: a status change never resets it
        end = summary.finished_at or now
        first.append(f"  elapsed {format_duration(end - summary.created_at)}")
    if summary.training_seconds:
        first.append(f"  training {format_duration(summary.training_seconds)}")
    eta = eta_seconds(summary, now)
    if eta is not None:
        first.append(f"  ETA {format_duration(eta)}")
    first.append(f"  tokens {format_tokens(summary.trained_tokens)}")
    if summary.cost:
        first.append(f"  cost {summary.cost}")

    second = Text(no_wrap=True, overflow="ellipsis")
    second.append(summary.job_id, style="bold")
    second.append(f"  {summary.model}", style="dim")
    lines = [first, second]
    if summary.fine_tuned_model:  # on its own line: ft: names are long
        model = Text("→ ", no_wrap=True, overflow="ellipsis")
        model.append(summary.fine_tuned_model, style="green")
        lines.append(model)

    if summary.error_code or summary.error_message:
        error = Text(overflow="fold")
        error.append("error", style="bold red")
        if summary.error_code:
            error.append(f" [{summary.error_code}]", style="red")
        if summary.error_param:
            error.append(f" ({summary.error_param})", style="dim")
        error.append(f": {summary.error_message or 'no message'}", style="red")
        lines.append(error)
    if summary.backoff:
        lines.append(Text(f"⚠ {summary.backoff}", style="yellow", no_wrap=True))
    return lines


class JobHeader(Widget):
    DEFAULT_CSS = """
    JobHeader { height: auto; padding: 0 1; background: $panel; }
    """

    summary: reactive[JobSummary | None] = reactive(None, layout=True)

    def on_mount(self) -> None:
        self.set_interval(1.0, self.refresh)  # elapsed and ETA tick

    def render(self) -> Text:
        if self.summary is None:
            return Text("Loading job…", style="dim")
        return Text("\n").join(header_lines(self.summary, time.time()))
