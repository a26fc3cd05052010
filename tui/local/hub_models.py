"""Base models from the Hugging Face Hub: cache look-ups, reachability probes, downloads.

What `huggingface_hub` does (all of the transfer and the cache): `snapshot_download` resolves the
revision (`/api/models/{id}/revision/{rev}`), lists the repo's files, fetches each one
(`/{id}/resolve/{rev}/{file}`, or through its xet backend) into the shared Hugging Face cache
(`$HF_HOME/hub`, `HF_HUB_CACHE`), skips files already there, and with `local_files_only=True`
answers from the cache alone, refusing a snapshot its cached file listing shows incomplete. It
reads `HF_TOKEN` (gated and private models), `HF_ENDPOINT` and `HF_HUB_OFFLINE` itself.

What this module adds: the choice of files (weights in one format only: safetensors when the repo
has them; no ONNX, GGUF, TF/Flax or `original/` copies), a byte-level percentage for job events
(the file sizes from the repo's listing against the bytes present in the cache's `blobs/`, so it
does not depend on the library's progress-bar internals), errors worded for the API with a
specific code, and the one command that pre-downloads a model for offline use. A retry after an
interrupted download keeps every file that was already complete (the library restarts a file
that was cut off mid-way; its xet backend resumes by chunk).
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("ft_tui.server")

ALWAYS_IGNORED = [
    "*.gguf",
    "*.onnx",
    "*.onnx_data",
    "onnx/*",
    "*.h5",
    "*.msgpack",
    "*.ot",
    "*.tflite",
    "*.mlmodel",
    "*.mlpackage/*",
    "coreml/*",
    "openvino/*",
    "original/*",
    "*.md",
    ".gitattributes",
    "*.png",
    "*.jpg",
    "*.gif",
]
PYTORCH_WEIGHTS = ["*.bin", "*.pt", "*.pth"]
PROBE_TIMEOUT_S = 10.0
POLL_S = 0.5

Progress = Callable[[int, int], None]  # (bytes present, total bytes)


class HubError(Exception):
    """A Hub model that cannot be used now; `code` and `message` suit an API error."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def download_command(repo_id: str) -> str:
    """The one command that puts `repo_id` in the cache (the `hf` CLI of huggingface_hub)."""
    return f"hf download {repo_id}"


def is_offline() -> bool:
    """HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE), as huggingface_hub read it at import."""
    from huggingface_hub import is_offline_mode

    return bool(is_offline_mode())


def ignore_patterns(has_safetensors: bool) -> list[str]:
    return ALWAYS_IGNORED + (PYTORCH_WEIGHTS if has_safetensors else [])


def cached_snapshot(repo_id: str) -> Path | None:
    """The complete cached snapshot of `repo_id` (its default branch), without any network."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        # Which snapshot (config.json is enough to find it), then whether it is complete. The
        # weights format decides which files count: safetensors alone when present.
        first = Path(
            snapshot_download(repo_id, local_files_only=True, allow_patterns=["config.json"])
        )
        has_safetensors = any(first.glob("*.safetensors"))
        folder = Path(
            snapshot_download(
                repo_id, local_files_only=True, ignore_patterns=ignore_patterns(has_safetensors)
            )
        )
    except (LocalEntryNotFoundError, OSError, ValueError):
        return None
    return folder if _looks_complete(folder) else None


def _looks_complete(folder: Path) -> bool:
    """config.json and weights (every shard of an index) are there; for caches whose file listing
    the library did not keep."""
    if not (folder / "config.json").is_file():
        return False
    for index in (*folder.glob("*.safetensors.index.json"), *folder.glob("*.bin.index.json")):
        try:
            shards = set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values())
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return False
        return all((folder / shard).is_file() for shard in shards)
    return any(folder.glob("*.safetensors")) or any(folder.glob("*.bin"))


def _classify(repo_id: str, exc: BaseException) -> HubError:
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
    )

    command = download_command(repo_id)
    if isinstance(exc, OfflineModeIsEnabled):
        return HubError(
            "model_not_downloaded",
            f"Base model {repo_id!r} is not downloaded and the server is offline "
            f"(HF_HUB_OFFLINE is set). Download it first with: {command}",
        )
    if isinstance(exc, GatedRepoError) or (
        isinstance(exc, HfHubHTTPError)
        and exc.response is not None
        and exc.response.status_code in (401, 403)
    ):
        return HubError(
            "model_access_denied",
            f"Base model {repo_id!r} is gated or private on the Hugging Face Hub: accept its "
            "terms on huggingface.co and start the server with HF_TOKEN set (or run `hf auth "
            "login`).",
        )
    if isinstance(exc, RepositoryNotFoundError):
        return HubError(
            "model_not_found",
            f"Base model {repo_id!r} does not exist on the Hugging Face Hub.",
        )
    if isinstance(exc, HfHubHTTPError):
        return HubError(
            "model_download_failed",
            f"Downloading base model {repo_id!r} failed: {_first_line(exc)}. Create the job again "
            f"to retry (files already downloaded are kept), or run: {command}",
        )
    return HubError(
        "model_not_downloaded",
        f"Base model {repo_id!r} is not downloaded and the Hugging Face Hub cannot be reached "
        f"({_first_line(exc)}). Download it first with: {command}",
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def repo_files(repo_id: str, timeout: float = PROBE_TIMEOUT_S) -> list[str]:
    """The repo's file names, which also proves the Hub answers and grants access."""
    if is_offline():
        from huggingface_hub.errors import OfflineModeIsEnabled

        raise _classify(repo_id, OfflineModeIsEnabled("offline"))
    from huggingface_hub import HfApi

    try:
        info = HfApi().model_info(repo_id, timeout=timeout)
    except Exception as exc:  # httpx, OS and hub errors alike: classified for the user
        raise _classify(repo_id, exc) from exc
    return [s.rfilename for s in info.siblings or []]


def remote_has_chat_template(repo_id: str, files: list[str]) -> bool:
    """Whether the repo's tokenizer carries a chat template (fetches tokenizer_config.json only)."""
    if "chat_template.jinja" in files or "chat_template.json" in files:
        return True
    if "tokenizer_config.json" not in files:
        return False
    from huggingface_hub import hf_hub_download

    try:
        path = hf_hub_download(repo_id, "tokenizer_config.json")
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except Exception as exc:
        raise _classify(repo_id, exc) from exc
    return bool(isinstance(data, dict) and data.get("chat_template"))


@dataclass
class _Plan:
    total: int
    blobs: list[str]  # blob file names in the cache, one per file to download
    has_safetensors: bool


def _plan(repo_id: str) -> _Plan:
    from huggingface_hub import HfApi
    from huggingface_hub.hf_api import RepoFile
    from huggingface_hub.utils._paths import filter_repo_objects

    api = HfApi()
    sha = api.model_info(repo_id, timeout=PROBE_TIMEOUT_S).sha
    entries = [
        f
        for f in api.list_repo_tree(repo_id, recursive=True, revision=sha)
        if isinstance(f, RepoFile)
    ]
    has_safetensors = any(f.path.endswith(".safetensors") for f in entries)
    names = set(
        filter_repo_objects(
            [f.path for f in entries], ignore_patterns=ignore_patterns(has_safetensors)
        )
    )
    chosen = [f for f in entries if f.path in names]
    return _Plan(
        total=sum(int(f.size or 0) for f in chosen),
        blobs=[f.lfs.sha256 if f.lfs is not None else f.blob_id for f in chosen],
        has_safetensors=has_safetensors,
    )


def _cache_folder(repo_id: str) -> Path:
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE) / ("models--" + repo_id.replace("/", "--"))


def _bytes_present(blobs_dir: Path, blobs: list[str]) -> int:
    """Bytes of the planned files in the cache: complete blobs and their `.incomplete` parts."""
    present = 0
    for blob in blobs:
        done = blobs_dir / blob
        try:
            present += done.stat().st_size
            continue
        except OSError:
            pass
        largest = 0  # a killed process can leave an older part behind: count one part only
        for part in blobs_dir.glob(blob + ".*incomplete"):
            with contextlib.suppress(OSError):
                largest = max(largest, part.stat().st_size)
        present += largest
    return present


def download(repo_id: str, on_progress: Progress) -> Path:
    """Download `repo_id` into the Hugging Face cache, reporting bytes while it runs; return the
    snapshot folder. Raises HubError."""
    if is_offline():
        from huggingface_hub.errors import OfflineModeIsEnabled

        raise _classify(repo_id, OfflineModeIsEnabled("offline"))
    from huggingface_hub import snapshot_download
    from huggingface_hub.utils.tqdm import disable_progress_bars

    disable_progress_bars()  # the server's terminal shows no bars; progress goes to job events
    try:
        plan = _plan(repo_id)
    except Exception as exc:
        raise _classify(repo_id, exc) from exc
    blobs_dir = _cache_folder(repo_id) / "blobs"
    finished = threading.Event()

    def poll() -> None:
        while not finished.wait(POLL_S):
            on_progress(min(_bytes_present(blobs_dir, plan.blobs), plan.total), plan.total)

    on_progress(min(_bytes_present(blobs_dir, plan.blobs), plan.total), plan.total)
    poller = threading.Thread(target=poll, name=f"hub-progress-{repo_id}", daemon=True)
    poller.start()
    try:
        folder = snapshot_download(repo_id, ignore_patterns=ignore_patterns(plan.has_safetensors))
    except Exception as exc:
        raise _classify(repo_id, exc) from exc
    finally:
        finished.set()
        poller.join()
    on_progress(plan.total, plan.total)
    return Path(folder)


class Downloads:
    """One background download per Hub id at a time; callers poll `state()`.

    A failed attempt is remembered with the ids of the jobs that waited on it, so that those jobs
    fail with its error while a new job starts a fresh attempt (which keeps complete files)."""

    def __init__(self, on_progress: Callable[[str, int, int], None]) -> None:
        self._on_progress = on_progress
        self._lock = threading.Lock()
        self._running: dict[str, threading.Thread] = {}
        self._done: dict[str, Path] = {}
        self._failed: dict[str, tuple[HubError, frozenset[str]]] = {}
        self._waiters: dict[str, set[str]] = {}

    def waiting(self, repo_id: str) -> set[str]:
        with self._lock:
            return set(self._waiters.get(repo_id, ()))

    def state(self, repo_id: str, waiter: str) -> Path | HubError | None:
        """The snapshot when downloaded, the error of a failed attempt `waiter` waited on, or
        None while downloading (starting the download if none runs)."""
        with self._lock:
            if repo_id in self._done:
                return self._done[repo_id]
            failed = self._failed.get(repo_id)
            if failed is not None and waiter in failed[1]:
                return failed[0]
            self._waiters.setdefault(repo_id, set()).add(waiter)
            if repo_id not in self._running:
                thread = threading.Thread(
                    target=self._run, args=(repo_id,), name=f"hub-download-{repo_id}", daemon=True
                )
                self._running[repo_id] = thread
                thread.start()
            return None

    def forget(self, repo_id: str) -> None:
        with self._lock:
            self._done.pop(repo_id, None)

    def _run(self, repo_id: str) -> None:
        started = time.monotonic()
        try:
            folder = download(repo_id, lambda n, t: self._on_progress(repo_id, n, t))
        except HubError as exc:
            log.warning("downloading %s failed: %s", repo_id, exc.message)
            outcome: Path | HubError = exc
        except Exception as exc:  # never let the thread die silently
            log.exception("downloading %s failed", repo_id)
            outcome = HubError("model_download_failed", f"Downloading {repo_id!r} failed: {exc}")
        else:
            log.info("downloaded %s in %.0f s into %s", repo_id, time.monotonic() - started, folder)
            outcome = folder
        with self._lock:
            self._running.pop(repo_id, None)
            waiters = frozenset(self._waiters.pop(repo_id, set()))
            if isinstance(outcome, HubError):
                self._failed[repo_id] = (outcome, waiters)
            else:
                self._failed.pop(repo_id, None)
                self._done[repo_id] = outcome


def describe_size(n_bytes: int) -> str:
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n_bytes >= size:
            return f"{n_bytes / size:.1f} {unit}"
    return f"{n_bytes} B"
