"""Chat inference for local base models and their LoRA fine-tunes."""

from tui.local.inference.engine import (
    GenerationParams,
    InferenceEngine,
    InferenceError,
    Usage,
)

__all__ = ["GenerationParams", "InferenceEngine", "InferenceError", "Usage"]
