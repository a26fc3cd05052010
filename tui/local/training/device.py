"""Where models run: CUDA (bf16 when supported) if available, else CPU in fp32.

`FT_TUI_DEVICE` (e.g. `cpu`, `cuda`, `cuda:1`) overrides the choice."""

from __future__ import annotations

import os
from typing import Any


def pick_device() -> tuple[Any, Any]:
    """(torch.device, torch.dtype) for weights of the base model."""
    import torch

    wanted = os.environ.get("FT_TUI_DEVICE", "").strip()
    if wanted:
        device = torch.device(wanted)
    elif torch.cuda.is_available():
        device = torch.device("cuda")
    else:
        device = torch.device("cpu")
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return device, torch.bfloat16
    return device, torch.float32
