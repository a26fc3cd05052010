"""What a failed trainer reports: the exceptions torch raises when memory runs out, on every
device, become `out_of_memory`; several ranks' failures reduce to their cause."""

from __future__ import annotations

import signal
from typing import Any

import pytest
import torch

from tui.local.training.failures import (
    OUT_OF_MEMORY,
    ended_silently,
    out_of_memory_error,
    root_failure,
    training_failure,
)
from tui.local.training.interface import TrainingError

CPU = (
    "[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: "
    "you tried to allocate 17179869184 bytes. Error code 12 (Cannot allocate memory)"
)
CUDA = (
    "CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 79.10 GiB of "
    "which 1.06 GiB is free."
)
MPS = "MPS backend out of memory (MPS allocated: 17.00 GB, other allocations: 1.00 GB)"


def test_a_real_cpu_allocation_failure_is_out_of_memory() -> None:
    try:
        torch.empty(2**62, dtype=torch.uint8)  # no machine has 4 EiB: the allocator refuses
    except RuntimeError as exc:
        error = out_of_memory_error(exc)
    else:  # pragma: no cover - the allocation cannot succeed
        pytest.fail("allocated 4 EiB")
    assert error is not None and error.code == OUT_OF_MEMORY
    assert "EiB" not in error.message and "lower batch_size" in error.message


@pytest.mark.parametrize(
    ("exc", "size"),
    [
        (RuntimeError(CPU), "16.0 GiB"),
        (torch.OutOfMemoryError(CUDA), "2.00 GiB"),
        (RuntimeError(MPS), None),
        (MemoryError(), None),
    ],
)
def test_every_device_s_out_of_memory_names_what_to_lower(
    exc: BaseException, size: str | None
) -> None:
    error = training_failure(exc, "trainer-error.log")
    assert error.code == OUT_OF_MEMORY
    assert error.message.startswith("Out of memory while training")
    assert "batch_size" in error.message and "max_seq_length" in error.message
    assert (f"one allocation of {size} failed" in error.message) == (size is not None)
    assert "alloc_cpu" not in error.message and "GPU 0" not in error.message


def test_an_out_of_memory_wrapped_by_another_exception_is_still_found() -> None:
    try:
        try:
            raise torch.OutOfMemoryError(CUDA)
        except RuntimeError as inner:
            raise ValueError("collate failed") from inner
    except ValueError as outer:
        assert training_failure(outer, "log").code == OUT_OF_MEMORY


def test_other_failures_are_server_errors_pointing_at_the_details() -> None:
    error = training_failure(RuntimeError("shape mismatch"), "/data/jobs/x/trainer-error.log")
    assert error.code == "server_error"
    assert "RuntimeError: shape mismatch" in error.message
    assert "/data/jobs/x/trainer-error.log" in error.message
    own = TrainingError("invalid_training_file", "line 3: no assistant message")
    assert training_failure(own, "log") is own


def test_a_signal_is_named_and_sigkill_points_at_the_oom_killer() -> None:
    killed = ended_silently(-signal.SIGKILL)
    assert killed.code == "trainer_killed"
    assert "SIGKILL" in killed.message and "out-of-memory killer" in killed.message
    assert "out-of-memory" not in ended_silently(-signal.SIGSEGV).message
    assert ended_silently(3).code == "server_error"


def _failure(code: str, message: str) -> dict[str, Any]:
    return {"error_code": code, "error_message": message}


def test_the_cause_among_several_ranks_failures_is_reported() -> None:
    lost = _failure("server_error", "RuntimeError: Connection closed by peer [127.0.0.1]:1234")
    oom = _failure("out_of_memory", "Out of memory while training")
    crash = _failure("server_error", "RuntimeError: shape mismatch")
    assert root_failure([(0, lost), (1, oom)]) == (1, oom)
    assert root_failure([(0, lost), (1, crash)]) == (1, crash)
    assert root_failure([(0, crash), (1, lost)]) == (0, crash)
    assert root_failure([(0, lost), (1, lost)]) == (0, lost)
