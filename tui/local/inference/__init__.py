"""Chat inference for local base models and their LoRA fine-tunes."""

from tui.local.inference.engine import InferenceEngine
from tui.local.inference.types import (
    ChatJob,
    Finish,
    GenerationParams,
    InferenceError,
    Item,
    Piece,
    TokenLogprob,
    TopLogprob,
    Usage,
)

__all__ = [
    "ChatJob",
    "Finish",
    "GenerationParams",
    "InferenceEngine",
    "InferenceError",
    "Item",
    "Piece",
    "TokenLogprob",
    "TopLogprob",
    "Usage",
]
