"""A directory tree that shows only folders and dataset files (.jsonl, .json, .csv, .tsv, .xlsx)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from textual.widgets import DirectoryTree

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
