"""Pane titles that tell models apart when the columns are narrow.

Two fine-tunes of one base share a long common prefix (`ft:HuggingFaceTB/SmolLM2-135M-Ins…`),
so cutting the full name from the right shows the same text twice. The label puts what differs
first: the suffix, the tail of the model id, `ckpt N`, or "base", then the full name.
Parsing is `tui.core.model_names`'; this module only orders the parts for display.
"""

from __future__ import annotations

from tui.core.model_names import parse_model_name

ID_TAIL = 6


def distinguishing_label(name: str) -> str:
    """`units · 3f9a1c · ckpt 40 · ft:Base…`, or `base · gpt-4o-mini` for a base model."""
    if not name:
        return ""
    parsed = parse_model_name(name)
    if parsed is None:
        return f"base · {name}"
    parts = [p for p in (parsed.suffix, parsed.model_id[-ID_TAIL:]) if p]
    if parsed.checkpoint_step is not None:
        parts.append(f"ckpt {parsed.checkpoint_step}")
    return " · ".join([*parts, name])
