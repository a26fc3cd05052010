"""`record_golden`: re-answer every prompt of a dataset with one model and keep the answers as
a chat JSONL, the "golden set" of that model (training data for a replacement, and an eval
reference once the model is gone).

Each output line is the input line with its final assistant message replaced by the model's
answer (messages after it are dropped; prompt/completion lines become a user and an assistant
message). Every output example is linted with the project's rules before it is kept; failed
calls and examples with lint errors go to `<out stem>.rejected.jsonl` with the reason.

Finished rows are journalled in a hidden `.<out name>.partial` file next to `out`, so
`resume=True` continues an interrupted recording without asking those rows again. `out` itself
is written atomically at the end and is never replaced unless `force=True`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tui.core.eval.rows import EvalRow
from tui.services.eval.backends import Backends, RetryPolicy
from tui.services.eval.dataset import load_examples
from tui.services.eval.types import Answer, EvalError, ModelRef, RecordResult

OnProgress = Callable[[int, int], None]


def rejected_path_for(out: Path) -> Path:
    return out.with_name(f"{out.stem}.rejected.jsonl")


def journal_path_for(out: Path) -> Path:
    return out.with_name(f".{out.name}.partial")


def golden_example(row: EvalRow, original: dict[str, Any], answer: Answer) -> dict[str, Any]:
    """The input line with its final assistant message replaced by `answer`."""
    message: dict[str, Any] = {"role": "assistant", "content": answer.text}
    if answer.tool_calls:
        message["tool_calls"] = answer.tool_calls
    if "messages" not in original:  # prompt/completion → chat
        return {"messages": [*row.prompt, message]}
    example = {k: v for k, v in original.items() if k != "messages"}
    example["messages"] = [*row.prompt, message]
    return example


def lint_reason(example: dict[str, Any]) -> str | None:
    """The lint errors of one output example, or None when it has none."""
    from tui.core.lint import lint_example

    check = lint_example(example, file_format="chat")
    errors = [f"{i.rule}: {i.message}" for i in check.issues if i.severity == "error"]
    return "; ".join(errors) if errors else None


def _check_paths(dataset: Path, out: Path, *, resume: bool, force: bool) -> None:
    from tui.core.tools.errors import ToolError
    from tui.core.tools.files import check_output

    journal = journal_path_for(out)
    if resume and not journal.exists():
        raise EvalError(f"--resume: no interrupted recording for {out} (no {journal.name})")
    try:
        check_output(out, [dataset], force=force)
    except ToolError as exc:
        raise EvalError(str(exc)) from None
    if not resume and journal.exists():
        raise EvalError(
            f"an interrupted recording of {out} exists ({journal.name}): "
            "continue it with --resume, or delete that file"
        )


def _read_journal(path: Path) -> dict[int, dict[str, Any]]:
    done: dict[int, dict[str, Any]] = {}
    with path.open("rb") as handle:
        for raw in handle:
            try:
                entry = json.loads(raw)
            except ValueError:
                continue  # a line cut by a kill: that row is asked again
            if isinstance(entry, dict) and isinstance(entry.get("line"), int):
                done[entry["line"]] = entry
    return done


async def record_golden(
    dataset: Path,
    model: ModelRef,
    out: Path,
    *,
    concurrency: int = 4,
    resume: bool = False,
    force: bool = False,
    on_progress: OnProgress | None = None,
    backends: Backends | None = None,
) -> RecordResult:
    """Record `model`'s answers to every prompt of `dataset` into `out`. Raises `EvalError`
    for bad input (before any call)."""
    if concurrency < 1:
        raise EvalError(f"--concurrency must be at least 1, got {concurrency}")
    _check_paths(dataset, out, resume=resume, force=force)
    rows = await asyncio.to_thread(load_examples, dataset)
    journal = journal_path_for(out)
    done = _read_journal(journal) if resume else {}
    skipped = len(done)
    todo = [(row, ex) for row, ex in rows if row.line not in done]
    own = backends is None
    pool = backends or Backends(concurrency, policy=RetryPolicy())
    try:
        pool.profile(model)  # an unknown profile is bad input, before any call
        with journal.open("a" if resume else "w", encoding="utf-8") as log:
            queue = iter(todo)
            finished = len(done)

            async def worker() -> None:
                nonlocal finished
                for row, original in queue:
                    entry = await _record_row(pool, model, row, original)
                    log.write(json.dumps(entry, ensure_ascii=False) + "\n")
                    log.flush()
                    done[row.line] = entry
                    finished += 1
                    if on_progress is not None:
                        on_progress(finished, len(rows))

            await asyncio.gather(*(worker() for _ in range(min(len(todo), concurrency * 2))))
    finally:
        if own:
            await pool.aclose()
    result = _write_outputs(out, [done[row.line] for row, _ in rows], skipped)
    journal.unlink(missing_ok=True)
    return result


async def _record_row(
    pool: Backends, model: ModelRef, row: EvalRow, original: dict[str, Any]
) -> dict[str, Any]:
    answer = await pool.chat(model, row.prompt, tools=row.tools)
    if answer.error is not None:
        return {"line": row.line, "reason": f"call failed: {answer.error}", "example": original}
    if not (answer.text or "").strip() and not answer.tool_calls:
        return {"line": row.line, "reason": "empty answer", "example": original}
    example = golden_example(row, original, answer)
    reason = lint_reason(example)
    if reason is not None:
        return {"line": row.line, "reason": f"lint: {reason}", "example": example}
    return {"line": row.line, "example": example}


def _write_outputs(out: Path, entries: list[dict[str, Any]], skipped: int) -> RecordResult:
    from tui.core.tools.files import atomic_output

    kept = [e for e in entries if "reason" not in e]
    rejected = [e for e in entries if "reason" in e]
    with atomic_output(out) as handle:
        for entry in kept:
            handle.write(json.dumps(entry["example"], ensure_ascii=False).encode() + b"\n")
    rejected_file = rejected_path_for(out)
    if rejected:
        with atomic_output(rejected_file) as handle:
            for entry in rejected:
                handle.write(json.dumps(entry, ensure_ascii=False).encode() + b"\n")
    else:
        with contextlib.suppress(OSError):
            rejected_file.unlink(missing_ok=True)  # a stale one from an earlier recording
    return RecordResult(
        out=out,
        written=len(kept),
        rejected=len(rejected),
        rejected_path=rejected_file if rejected else None,
        skipped=skipped,
    )
