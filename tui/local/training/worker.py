"""One rank of a multi-process training run, started by `accelerate launch` (see launch.py).

    python -m tui.local.training.worker RUN_DIR DB_PATH

RUN_DIR holds `request.json` (the `TrainingRequest`), `control` (the server writes `cancel` or
`pause` there) and, when the run ends, `result.json` written by rank 0 (and `error-rankN.json`
from any other rank that failed). Every rank trains (the
Trainer and accelerate do the distribution); only rank 0 has a sink that writes events and
checkpoints to the server's SQLite file, and only it reads the control file — the bridge
broadcasts its decision to the other ranks.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from tui.local.progress import JobProgress, ProgressSink
from tui.local.store import Store
from tui.local.training.interface import (
    Hyperparameters,
    StopKind,
    TrainingError,
    TrainingOutcome,
    TrainingRequest,
)

REQUEST_FILE = "request.json"
CONTROL_FILE = "control"
RESULT_FILE = "result.json"
RANK_ERROR_GLOB = "error-rank*.json"


def rank_error_file(rank: int) -> str:
    return f"error-rank{rank}.json"


def request_to_json(request: TrainingRequest) -> str:
    def plain(value: Any) -> Any:
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, tuple):
            return list(value)
        return value

    data = {f.name: plain(getattr(request, f.name)) for f in dataclasses.fields(request)}
    data["hyperparameters"] = {
        f.name: plain(getattr(request.hyperparameters, f.name))
        for f in dataclasses.fields(request.hyperparameters)
    }
    return json.dumps(data)


def request_from_json(text: str) -> TrainingRequest:
    data = json.loads(text)
    hp = dict(data.pop("hyperparameters"))
    hp["lora_target_modules"] = tuple(hp.get("lora_target_modules") or ())
    paths = ("model_dir", "training_file", "validation_file", "work_dir", "init_adapter")
    for key in paths:
        if data.get(key) is not None:
            data[key] = Path(data[key])
    return TrainingRequest(hyperparameters=Hyperparameters(**hp), **data)


def outcome_to_json(outcome: TrainingOutcome) -> dict[str, Any]:
    return {
        "status": outcome.status,
        "trained_tokens": outcome.trained_tokens,
        "adapter_dir": str(outcome.adapter_dir) if outcome.adapter_dir else None,
        "result_csv": str(outcome.result_csv) if outcome.result_csv else None,
    }


def outcome_from_json(data: dict[str, Any]) -> TrainingOutcome:
    return TrainingOutcome(
        status=data["status"],
        trained_tokens=int(data["trained_tokens"]),
        adapter_dir=Path(data["adapter_dir"]) if data.get("adapter_dir") else None,
        result_csv=Path(data["result_csv"]) if data.get("result_csv") else None,
    )


class _RankZeroSink(ProgressSink):
    """Events and checkpoints into the server's database; stop requests from the control file."""

    def __init__(self, db_path: Path, job_id: str, control: Path) -> None:
        super().__init__(JobProgress(Store(db_path), job_id))
        self._control = control

    def stop_requested(self) -> StopKind | None:
        try:
            text = self._control.read_text(encoding="utf-8").strip()
        except OSError:
            return None
        if text == "cancel":
            return "cancel"
        if text == "pause":
            return "pause"
        return None


class _OtherRankSink:
    """Ranks other than 0 report nothing (the bridge never calls them)."""

    def event(self, message: str, **_: Any) -> None:
        return None

    def checkpoint(self, **_: Any) -> None:
        return None

    def stop_requested(self) -> StopKind | None:
        return None


def _refuse(message: str) -> int:
    print(f"ft-tui worker: {message}", file=sys.stderr)
    return 2


def _join_problem(run_dir: Path, db_path: Path) -> str | None:
    """Why a rank must not start (a command typed on another machine), or None."""
    from tui.local.child_process import server_pid_from_env

    if "RANK" not in os.environ and server_pid_from_env() is None:
        # Not started by a distributed launcher, nor by the server: it would train alone and
        # report as rank 0 (an accelerate config whose launcher starts one untied process).
        return (
            "not started as a rank of a distributed run (no RANK from the launcher); the "
            "accelerate config must use distributed_type MULTI_GPU (torchrun, gloo on CPU), "
            "the same as the server's"
        )
    if not (run_dir / REQUEST_FILE).is_file():
        return (
            f"no training run is starting in {run_dir} ({REQUEST_FILE} is missing): run this "
            "once the server has started the job, with the folder its event names"
        )
    if not db_path.is_file():
        return f"{db_path} is not the server's database (no such file)"
    return None


def main(argv: list[str]) -> int:
    from tui.local.child_process import prepare_trainer_child
    from tui.local.training.failures import training_failure
    from tui.local.training.run import run_training

    if len(argv) != 2:
        return _refuse("usage: python -m tui.local.training.worker RUN_DIR DB_PATH")
    run_dir, db_path = Path(argv[0]), Path(argv[1])
    problem = _join_problem(run_dir, db_path)
    if problem:
        return _refuse(problem)
    prepare_trainer_child()  # the server's pid comes from the launcher's environment
    rank_zero = int(os.environ.get("RANK", "0") or 0) == 0
    request = request_from_json((run_dir / REQUEST_FILE).read_text(encoding="utf-8"))
    sink: Any = (
        _RankZeroSink(db_path, request.job_id, run_dir / CONTROL_FILE)
        if rank_zero
        else _OtherRankSink()
    )
    result: dict[str, Any]
    try:
        result = {"outcome": outcome_to_json(run_training(request, sink))}
    except BaseException as exc:  # the server turns this into a failed job
        if not isinstance(exc, TrainingError):
            traceback.print_exc()  # into launcher.log
        failure = training_failure(exc, str(run_dir / "launcher.log"))
        result = {"error_code": failure.code, "error_message": failure.message}
    # Rank 0 writes the result; another rank that fails writes its own error, because the
    # launcher may end rank 0 (blocked in a collective) before it can say anything.
    name = RESULT_FILE if rank_zero else None
    if name is None and "outcome" not in result:
        name = rank_error_file(int(os.environ.get("RANK", "0") or 0))
    if name is not None:
        staging = run_dir / (name + ".partial")
        staging.write_text(json.dumps(result), encoding="utf-8")
        staging.replace(run_dir / name)
    return 0 if "outcome" in result else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
