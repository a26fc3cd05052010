"""The dataset tool dialogs the Datasets screen opens: Convert, Split and Fix.

Each is a `ModalScreen` built on `ToolDialog`: keyboard-only, a preview of what will be written,
Enter to write, Escape to cancel; work runs in thread workers with a progress bar. Each dismisses
with its typed result (`ConvertResult`, `SplitResult`, `FixResult`) once files were written,
otherwise with None.
"""

from __future__ import annotations

from screens.tool_convert import ConvertResult, ConvertScreen
from screens.tool_fix import FixResult, FixScreen
from screens.tool_split import SplitResult, SplitScreen

__all__ = [
    "ConvertResult",
    "ConvertScreen",
    "FixResult",
    "FixScreen",
    "SplitResult",
    "SplitScreen",
]
