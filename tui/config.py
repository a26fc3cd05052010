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


def config_file() -> Path:
    override = os.environ.get("FT_TUI_CONFIG_FILE")
    return Path(override) if override else config_dir() / "config.toml"


class ConfigError(Exception):
    """The settings file cannot be used; the message names the file and the problem."""


def read_config() -> dict[str, object]:
    """The parsed settings file, or {} when there is none."""
    import tomllib

    path = config_file()
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None


def keymap() -> dict[str, str]:
    """`[keymap]` from the settings file: binding id -> comma-separated keys."""
    table = read_config().get("keymap", {})
    if not isinstance(table, dict):
        raise ConfigError(f'{config_file()}: [keymap] must be a table of id = "keys"')
    result: dict[str, str] = {}
    for binding_id, keys in table.items():
        if not isinstance(keys, str):
            raise ConfigError(f"{config_file()}: keymap.{binding_id} must be a string")
        result[str(binding_id)] = keys
    return result
