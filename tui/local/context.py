"""Everything a request handler needs, built once per server process."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tui.local.base_models import BaseModelRegistry
from tui.local.drivers import InferenceDriver
from tui.local.runner import JobRunner
from tui.local.settings import ServerSettings
from tui.local.store import Store
from tui.local.uploads import UploadRecords


@dataclass
class ServerContext:
    settings: ServerSettings
    store: Store
    runner: JobRunner
    registry: BaseModelRegistry
    inference: InferenceDriver
    uploads: UploadRecords

    def file_path(self, file_id: str) -> Path:
        return self.settings.files_dir / file_id
