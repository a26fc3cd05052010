"""How a trainer process that failed tells the server why: a `TrainingError` with a code.

The trainer processes (the spawned child in `drivers.py`, each rank in `worker.py`) catch
everything their run raises and call `training_failure(exc)`. Running out of memory is the one
failure a user can fix by changing the job, so it gets its own code, `out_of_memory`, and a
message saying what to lower. torch reports it in three shapes: `torch.OutOfMemoryError` (CUDA,
XPU), a `RuntimeError` from the CPU allocator ("DefaultCPUAllocator: can't allocate memory",
what a `ulimit -v` or an exhausted box gives) or from MPS ("MPS backend out of memory"), and
Python's own `MemoryError`. Anything else is `server_error`, naming the exception.

A trainer the kernel's out-of-memory killer ends gets SIGKILL and cannot say anything;
`ended_silently` words the driver's report for that case (`trainer_killed`).
"""

from __future__ import annotations

import re
import signal
import traceback
from typing import Any

from tui.local.training.interface import TrainingError

OUT_OF_MEMORY = "out_of_memory"
OUT_OF_MEMORY_HINT = (
    "lower batch_size or max_seq_length (or FT_TUI_TRAIN_TOKEN_BUDGET, the tokens per forward "
    "pass), or use a smaller model or quantization on a GPU"
)
_ALLOCATOR_PHRASES = ("can't allocate memory", "not enough memory", "out of memory")
_CPU_BYTES = re.compile(r"tried to allocate (\d+) bytes", re.IGNORECASE)
_GPU_SIZE = re.compile(r"tried to allocate ([\d.]+ [KMGT]i?B)", re.IGNORECASE)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not s for s in seen):
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    if any(cls.__name__ == "OutOfMemoryError" for cls in type(exc).__mro__):
        return True  # torch.OutOfMemoryError (= torch.cuda.OutOfMemoryError)
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and any(p in text for p in _ALLOCATOR_PHRASES)


def _size(text: str) -> str | None:
    cpu = _CPU_BYTES.search(text)
    if cpu:
        return f"{int(cpu.group(1)) / 2**30:.1f} GiB"
    gpu = _GPU_SIZE.search(text)
    return gpu.group(1) if gpu else None


def out_of_memory_error(exc: BaseException) -> TrainingError | None:
    """The `out_of_memory` error for an exception (or one it was raised from), else None."""
    for link in _chain(exc):
        if isinstance(link, TrainingError):
            return link if link.code == OUT_OF_MEMORY else None
        if _is_out_of_memory(link):
            size = _size(str(link))
            what = f" (one allocation of {size} failed)" if size else ""
            return TrainingError(
                OUT_OF_MEMORY, f"Out of memory while training{what}: {OUT_OF_MEMORY_HINT}."
            )
    return None


def training_failure(exc: BaseException, details: str) -> TrainingError:
    """What the server reports for a run that raised `exc`; `details` says where the full
    traceback went."""
    if isinstance(exc, TrainingError):
        return exc
    memory = out_of_memory_error(exc)
    if memory is not None:
        return memory
    detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return TrainingError(
        "server_error", f"The trainer failed unexpectedly: {detail} (details in {details})"
    )


# What a rank says when another rank died under it: a consequence, not the cause.
_LOST_PEER = ("connection closed by peer", "connection reset by peer", "remote worker crash")


def root_failure(failures: list[tuple[int, dict[str, Any]]]) -> tuple[int, dict[str, Any]]:
    """The failure to report among several ranks' (rank, {error_code, error_message}), lowest
    rank first: a specific code beats `server_error`, and an error that is not a lost peer
    beats one that is (rank 0 blocked in an all-reduce learns only that a peer went away)."""

    def lost_peer(item: tuple[int, dict[str, Any]]) -> bool:
        return any(p in str(item[1].get("error_message", "")).lower() for p in _LOST_PEER)

    specific = [f for f in failures if f[1].get("error_code") != "server_error"]
    causes = [f for f in failures if not lost_peer(f)]
    return (specific or causes or failures)[0]


def ended_silently(exit_code: int | None) -> TrainingError:
    """The failure of a trainer that ended without saying why (`exit_code` as Popen gives it):
    `trainer_killed` for a signal, naming the kernel's out-of-memory killer for SIGKILL."""
    if exit_code is not None and exit_code < 0:
        try:
            name = signal.Signals(-exit_code).name
        except ValueError:
            name = f"signal {-exit_code}"
        text = f"The trainer process was killed by {name}."
        if -exit_code == signal.SIGKILL:
            text += (
                " On Linux this is usually the kernel's out-of-memory killer (see `dmesg`); "
                f"if so, {OUT_OF_MEMORY_HINT}."
            )
        return TrainingError("trainer_killed", text)
    return TrainingError(
        "server_error", f"The trainer process exited unexpectedly (exit code {exit_code})."
    )
