"""Locate files shipped in `assets/` (repo checkout) or `tui/_assets` (installed wheel)."""

from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def assets_dir() -> Path:
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "_assets", here.parent / "assets"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("ft-tui assets not found; reinstall the package")


def asset(*parts: str) -> Path:
    return assets_dir().joinpath(*parts)
