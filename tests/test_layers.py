"""The layers of DESIGN.md hold: headless code never imports Textual or Rich, and the CLI's
fast paths never import Textual or openai."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _modules(package: str) -> list[str]:
    pkg_path = ROOT / package.replace(".", "/")
    names = [package]
    for info in pkgutil.walk_packages([str(pkg_path)], prefix=package + "."):
        names.append(info.name)
    return names


def _imported_after(code: str) -> set[str]:
    probe = code + "\nimport sys\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return {line.split(".")[0] for line in out.stdout.splitlines()}


HEADLESS = [m for p in ("tui.core", "tui.services", "tui.local") for m in _modules(p)]


def test_headless_modules_never_import_textual_or_rich() -> None:
    # One process imports every headless module: if Textual and Rich stay out of it, no module
    # pulls them in. Only when one does are the modules imported one by one, to name it.
    loaded = _imported_after("\n".join(f"import {module}" for module in HEADLESS))
    if "textual" not in loaded and "rich" not in loaded:
        return
    culprits = [
        module for module in HEADLESS if {"textual", "rich"} & _imported_after(f"import {module}")
    ]
    assert culprits == [], f"these import textual or rich: {culprits}"


@pytest.mark.parametrize(
    "argv", [["--version"], ["lint", "--help"], ["lint", "/nonexistent.jsonl", "--json"]]
)
def test_cli_fast_paths_import_neither_textual_nor_openai(argv: list[str]) -> None:
    code = (
        "import sys\nfrom tui.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
    )
    loaded = _imported_after(code)
    assert "textual" not in loaded
    assert "openai" not in loaded
