"""The one rule for where a save dialog writes, used by every "save to…" prompt in the app.

- A path ending in `/` (or the OS separator), or naming an existing folder, means "this folder,
  keep the file's own name".
- Anything else is the file to write.
- A relative path is relative to `base` (the folder ft-tui was opened on, not the process's
  working directory).
- A folder that does not exist yet is reported in `SavePlan.missing_folder`, so the dialog can
  ask before creating it; an existing file is reported in `SavePlan.exists`, so it can ask before
  replacing it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


class SavePathError(ValueError):
    """The typed path cannot be written; the message says why in the user's terms."""


@dataclass(frozen=True)
class SavePlan:
    path: Path  # the file that will be written
    missing_folder: Path | None  # a folder to create first (after asking), or None
    exists: bool  # the file exists: replacing it needs a confirmation


def root_folder(start: Path) -> Path:
    """The folder relative paths resolve against: the dataset root ft-tui was opened on."""
    start = start.expanduser()
    return start if start.is_dir() else start.parent


def resolve_user_path(text: str, base: Path) -> Path:
    """`text` expanded (`~`) and made absolute against `base` when relative."""
    path = Path(text.strip()).expanduser()
    return path if path.is_absolute() else base / path


def plan_save(text: str, file_name: str, base: Path) -> SavePlan:
    """Where `text` (as typed) saves a file whose own name is `file_name`."""
    raw = text.strip()
    if not raw:
        raise SavePathError("Type a path, or press Escape to cancel.")
    path = resolve_user_path(raw, base)
    as_folder = raw.endswith(("/", os.sep)) or path.is_dir()
    target = path / file_name if as_folder else path
    folder = target.parent
    if target.is_dir():
        raise SavePathError(f"{target} is a folder; type a file name or end the path with /.")
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise SavePathError(f"{existing} is a file, not a folder.")
    if not os.access(existing, os.W_OK):
        raise SavePathError(f"{existing} is not writable.")
    missing = None if folder.is_dir() else folder
    return SavePlan(target, missing, target.exists())


def create_folder(folder: Path) -> None:
    """Create `folder` and its parents; raises SavePathError with the OS reason."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SavePathError(f"Could not create {folder}: {exc.strerror or exc}") from exc
