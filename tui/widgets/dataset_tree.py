"""A directory tree that shows only folders and dataset files (.jsonl, .json, .csv, .tsv, .xlsx)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.widgets import DirectoryTree
from textual.widgets.tree import TreeNode

from tui.core.plurals import middle_ellipsis

DATASET_SUFFIXES = {".jsonl", ".json", ".csv", ".tsv", ".xlsx"}


def is_dataset(path: Path) -> bool:
    return path.suffix.lower() in DATASET_SUFFIXES


class DatasetTree(DirectoryTree):
    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        shown = []
        for path in paths:
            if path.name.startswith("."):
                continue
            try:
                if path.is_dir() or is_dataset(path):
                    shown.append(path)
            except OSError:  # unreadable entries are simply not listed
                continue
        return shown

    def render_label(self, node: TreeNode[Any], base_style: Style, style: Style) -> Text:
        """Names too long for the column are cut in the middle, so the ends that tell
        `drone_training.train.jsonl` from `drone_training.valid.jsonl` stay visible."""
        label = super().render_label(node, base_style, style)
        depth = 0
        parent = node.parent
        while parent is not None:
            depth += 1
            parent = parent.parent
        available = self.scrollable_content_region.width - depth * self.guide_depth - 1
        name = str(node.label)
        prefix = len(label.plain) - len(name)
        if available <= prefix or label.cell_len <= available or prefix < 0:
            return label
        short = middle_ellipsis(name, available - prefix)
        if "…" not in short:
            return label
        start = len(short.split("…")[0])
        end = len(short) - start - 1
        return Text.assemble(label[: prefix + start], "…", label[len(label.plain) - end :])
