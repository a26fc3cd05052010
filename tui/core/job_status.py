"""Fine-tuning job statuses, as OpenAI's API and the local server name them (the one owner).

`validating_files → queued → running → succeeded | failed | cancelled`, plus `paused` (the local
server, and OpenAI's pause/resume). Backends may send statuses not listed here (e.g.
"moderating"); callers show those as they come and treat them as still moving.
"""

from __future__ import annotations

from typing import Literal

JobStatus = Literal[
    "validating_files", "queued", "running", "paused", "succeeded", "failed", "cancelled"
]

ACTIVE_STATUSES: tuple[JobStatus, ...] = ("validating_files", "queued", "running")
TERMINAL_STATUSES: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})
FAST_POLL_STATUSES: frozenset[str] = frozenset({"running"})


def is_terminal(status: str | None) -> bool:
    """True once a job can change no more (its model, if any, exists or never will)."""
    return status in TERMINAL_STATUSES
