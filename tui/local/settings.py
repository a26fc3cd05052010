"""Configuration of the local server and the layout of its data directory.

<data_dir>/
  api_key            the generated key (mode 0600) when none is given on the command line
  server.sqlite3     files, jobs, events, checkpoints, models, uploads (WAL, user_version)
  server.log         the server's log, tracebacks included (the terminal gets one line)
  server.lock        held while a server runs: one server per data dir
  files/<file-id>    uploaded bytes and result CSVs, stored by id (names are only echoed)
  files/.uploads/    parts of pending Uploads API uploads
  jobs/<ftjob-id>/   the trainer's working dir: checkpoints, pause state, final adapter
  models/            base models prepared by the registry (converted GGUF files, chat-template
                     views); Hub models live in the Hugging Face cache ($HF_HOME/hub)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tui.local.ids import api_key as new_api_key
from tui.local.model_sources import ModelSpec

if TYPE_CHECKING:
    from tui.local.inference.defaults import Sampling

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_MAX_UPLOAD_BYTES = 512 * 1024 * 1024
DEFAULT_MAX_TOKENS = 2048
KEY_FILE = "api_key"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class ServerSettings:
    data_dir: Path
    api_key: str
    extra_models: dict[str, Path] = field(default_factory=dict)  # NAME -> folder or .gguf file
    # `--model SPEC` and `--chat-template NAME=FILE` (see tui/local/model_sources.py)
    models: tuple[ModelSpec, ...] = ()
    chat_templates: dict[str, Path] = field(default_factory=dict)
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    # Seconds a request body may send nothing before the server answers 408 (--body-timeout).
    body_timeout_s: float = 30.0
    # Seconds the trainer gets to stop on its own before it is killed.
    stop_grace_s: float = 3.0
    # Chat: the answer length of requests without max_tokens, and sampling defaults per base
    # model (`--sampling`); see tui/local/inference/defaults.py.
    max_tokens_default: int = DEFAULT_MAX_TOKENS
    sampling: dict[str, Sampling] = field(default_factory=dict)

    @property
    def db_path(self) -> Path:
        return self.data_dir / "server.sqlite3"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def jobs_dir(self) -> Path:
        return self.data_dir / "jobs"

    def job_dir(self, job_id: str) -> Path:
        return self.jobs_dir / job_id

    def ensure_dirs(self) -> None:
        for path in (self.data_dir, self.files_dir, self.jobs_dir):
            path.mkdir(parents=True, exist_ok=True)


def load_or_create_api_key(data_dir: Path) -> tuple[str, bool]:
    """The key stored in the data dir, or a new one written there with mode 0600.

    Returns (key, created)."""
    path = data_dir / KEY_FILE
    if path.is_file():
        key = path.read_text(encoding="utf-8").strip()
        if key:
            return key, False
    data_dir.mkdir(parents=True, exist_ok=True)
    key = new_api_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    os.chmod(path, 0o600)
    return key, True


def is_loopback(host: str) -> bool:
    return host in LOOPBACK_HOSTS or host.startswith("127.")
