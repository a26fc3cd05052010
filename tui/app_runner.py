"""Starts the Textual app for `ft-tui [PATH]` (the only entry that imports Textual)."""

from __future__ import annotations

import sys
from pathlib import Path


def run_app(path: str) -> int:
    target = Path(path).expanduser()
    if not target.exists():
        print(f"ft-tui: {path}: no such file or directory", file=sys.stderr)
        return 2
    from tui.core import log_buffer

    buffer = log_buffer.install()
    from tui.app import FtApp

    app = FtApp(target.resolve(), log_buffer=buffer)
    app.run()
    return app.return_code or 0
