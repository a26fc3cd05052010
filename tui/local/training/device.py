"""Where models run: CUDA (bf16 when supported) if available, else CPU in fp32.

`FT_TUI_DEVICE` (e.g. `cpu`, `cuda`, `cuda:1`) overrides the choice. `FT_TUI_TORCH_THREADS` sets
torch's intra-op threads: on a busy shared CPU, 1 thread avoids idle-spinning thread barriers and
can be several times faster for small models."""

from __future__ import annotations

import os
from typing import Any


class DeviceError(Exception):
    """The configured device cannot be used."""


def pick_device() -> tuple[Any, Any]:
    """(torch.device, torch.dtype) for weights of the base model."""
    import torch

    threads = os.environ.get("FT_TUI_TORCH_THREADS", "").strip()
    if threads.isdigit() and int(threads) > 0 and torch.get_num_threads() != int(threads):
        torch.set_num_threads(int(threads))
    wanted = os.environ.get("FT_TUI_DEVICE", "").strip()
    if wanted:
        try:
            device = torch.device(wanted)
        except RuntimeError:
            raise DeviceError(
                f"FT_TUI_DEVICE={wanted!r} is not a device (try cpu or cuda)"
            ) from None
        if device.type == "cuda" and not torch.cuda.is_available():
            raise DeviceError(f"FT_TUI_DEVICE={wanted!r} but no CUDA device is available")
        if device.type not in ("cpu", "cuda"):
            raise DeviceError(f"FT_TUI_DEVICE={wanted!r}: only cpu and cuda are supported")
    elif torch.cuda.is_available():
        device = torch.device("cuda")
    else:
        device = torch.device("cpu")
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return device, torch.bfloat16
    return device, torch.float32
