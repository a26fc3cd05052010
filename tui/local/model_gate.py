"""Holds a queued job until its base model is downloaded, and reports the download as job events.

The runner asks `gate(job_id, model)` before it starts a job: True when the model's files are
there, False while a Hub model downloads (the download starts on the first ask, in the
background), and `JobFailure` when the download failed. Every job waiting on a download gets
`Downloading base model X: 45% (…)` events (at each 10 %) and the server log gets the same lines.
"""

from __future__ import annotations

import logging
import threading
import time

from tui.local.base_models import BaseModelRegistry
from tui.local.file_validation import JobFailure
from tui.local.hub_models import Downloads, describe_size
from tui.local.store import Store

log = logging.getLogger("ft_tui.server")
STEP_PERCENT = 10
QUIET_EVENT_S = 60.0  # below 10 % steps, still one event a minute on slow links


class ModelGate:
    def __init__(self, registry: BaseModelRegistry, store: Store) -> None:
        self._registry = registry
        self._store = store
        self._downloads = Downloads(self._progress)
        self._lock = threading.Lock()
        self._reported: dict[str, tuple[int, float]] = {}  # repo -> (percent, when)
        self._announced: set[tuple[str, str]] = set()  # (job, repo)

    def __call__(self, job_id: str, model: str) -> bool:
        spec = self._registry.spec(model)
        if spec is None or spec.kind != "hub" or self._registry.downloaded(model):
            return True
        state = self._downloads.state(spec.source, job_id)
        if isinstance(state, Exception):
            raise JobFailure(state.code, state.message, "model")
        if state is not None:
            return True
        key = (job_id, spec.source)
        if key not in self._announced:
            self._announced.add(key)
            self._event(job_id, f"Downloading base model {spec.source} from the Hugging Face Hub")
        return False

    def _progress(self, repo_id: str, present: int, total: int) -> None:
        percent = int(present * 100 / total) if total else 100
        now = time.monotonic()
        with self._lock:
            last = self._reported.get(repo_id)
            due = (
                last is None
                or percent >= last[0] + STEP_PERCENT
                or (percent == 100 and last[0] < 100)
                or (percent > last[0] and now - last[1] >= QUIET_EVENT_S)
            )
            if not due:
                return
            if percent == 100:
                self._reported.pop(repo_id, None)
            else:
                step = percent - percent % STEP_PERCENT if last is not None else percent
                self._reported[repo_id] = (step, now)
        message = (
            f"Downloading base model {repo_id}: {percent}% "
            f"({describe_size(present)} of {describe_size(total)})"
        )
        log.info("%s", message)
        for job_id in self._downloads.waiting(repo_id):
            self._event(job_id, message)

    def _event(self, job_id: str, message: str) -> None:
        job = self._store.get_job(job_id)
        if job is not None and job["status"] in ("validating_files", "queued"):
            self._store.add_event(job_id, message)
