"""Evaluation services: run models over a held-out dataset, score, store, record golden sets.

Public API (the Eval screen and the CLI build on these names):

- `types`: `ModelRef`, `EvalSpec`, `Answer`, `RowResult`, `ModelSummary`, `PairwiseSummary`,
  `RunSummary`, `RecordResult`, `EvalError`, `RunStatus`, `DEFAULT_SCORERS`.
- `store.EvalStore(path=None)`: SQLite under `tui.config.data_dir()/eval.sqlite`.
- `runner.run_eval(spec, *, store, resume_run_id=None, on_row=None, cancel=None)`.
- `record.record_golden(dataset, model, out, *, concurrency, resume, force, on_progress)`.

None of them imports openai at import time.
"""

from tui.services.eval.record import record_golden
from tui.services.eval.runner import run_eval
from tui.services.eval.store import EvalStore
from tui.services.eval.types import (
    DEFAULT_SCORERS,
    RUN_STATUSES,
    Answer,
    EvalError,
    EvalSpec,
    ModelRef,
    ModelSummary,
    PairwiseSummary,
    RecordResult,
    RowResult,
    RunStatus,
    RunSummary,
)

__all__ = [
    "DEFAULT_SCORERS",
    "RUN_STATUSES",
    "Answer",
    "EvalError",
    "EvalStore",
    "EvalSpec",
    "ModelRef",
    "ModelSummary",
    "PairwiseSummary",
    "RecordResult",
    "RowResult",
    "RunStatus",
    "RunSummary",
    "record_golden",
    "run_eval",
]
