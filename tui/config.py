"""Where ft-tui keeps its files (platformdirs), overridable for tests and power users.

`FT_TUI_CONFIG_DIR` and `FT_TUI_DATA_DIR` override the platform directories. Secrets never live
here: API keys stay in the environment.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "ft-tui"


def config_dir() -> Path:
    override = os.environ.get("FT_TUI_CONFIG_DIR")
    if override:
        return Path(override)
    from platformdirs import user_config_path

    return user_config_path(APP_NAME)


def data_dir() -> Path:
    override = os.environ.get("FT_TUI_DATA_DIR")
    if override:
        return Path(override)
    from platformdirs import user_data_path

    return user_data_path(APP_NAME)


def local_server_dir() -> Path:
    """Default data dir of `ft-tui serve`."""
    return data_dir() / "local"
