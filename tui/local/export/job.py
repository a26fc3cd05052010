"""Runs exports one at a time on a worker thread, off the request path.

Each export is built in `<data_dir>/exports/.<id>.partial/` and renamed to
`<data_dir>/exports/<id>/` only when every file is written, so a crash, a full disk or an error
never leaves a folder that looks complete. Progress (a fraction and a stage) goes to the store,
throttled.
"""

from __future__ import annotations

import errno
import logging
import queue
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tui.local.base_models import DEFAULT_BASE_MODEL, BaseModelError, BaseModelRegistry
from tui.local.export import ExportError
from tui.local.export.model_card import CardFacts, render
from tui.local.export.records import ExportRecords
from tui.local.export.source import ExportSource, gather
from tui.local.settings import ServerSettings
from tui.local.store import Store

log = logging.getLogger("ft_tui.server")
Progress = Callable[[float, str], None]
README = "README.md"
MODELFILE = "Modelfile"


def exports_dir(settings: ServerSettings) -> Path:
    return settings.data_dir / "exports"


def gguf_name(quantization: str) -> str:
    return f"model-{quantization}.gguf"


def _scaled(progress: Progress, start: float, end: float) -> Progress:
    return lambda fraction, stage: progress(start + (end - start) * fraction, stage)


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


class ExportRunner:
    def __init__(self, settings: ServerSettings, store: Store, registry: BaseModelRegistry) -> None:
        self._settings = settings
        self._store = store
        self._registry = registry
        self.records = ExportRecords(store)
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        for export_id in self.records.fail_unfinished():
            shutil.rmtree(exports_dir(self._settings) / f".{export_id}.partial", True)
        self._thread = threading.Thread(target=self._loop, name="ft-tui-export", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=2.0)  # a long conversion is left to die with the process
            self._thread = None

    def submit(self, export_id: str) -> None:
        self._queue.put(export_id)

    def _loop(self) -> None:
        while (export_id := self._queue.get()) is not None:
            try:
                self._run(export_id)
            except Exception:  # never kill the worker; _run records failures itself
                log.exception("export %s crashed", export_id)

    def _progress(self, export_id: str) -> Progress:
        last_at = [0.0]
        last_stage = [""]

        def report(fraction: float, stage: str) -> None:
            now = time.monotonic()
            if stage != last_stage[0] or now - last_at[0] > 0.5:
                last_at[0], last_stage[0] = now, stage
                self.records.progress(export_id, fraction, stage)

        return report

    def _run(self, export_id: str) -> None:
        record = self.records.get(export_id)
        if record is None or record["status"] != "queued":
            return
        staging = exports_dir(self._settings) / f".{export_id}.partial"
        final = exports_dir(self._settings) / export_id
        progress = self._progress(export_id)
        try:
            progress(0.0, "preparing")
            row = self._store.get_model(str(record["model"]))
            if row is None:
                raise ExportError("model_not_found", f"{record['model']} was deleted meanwhile")
            source = gather(self._store, self._settings.files_dir, row)
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            quantization = str(record.get("quantization") or "f16")
            fmt = str(record["format"])
            files, converter, reference = self._build(source, fmt, quantization, staging, progress)
            shown_quantization = quantization if fmt in ("gguf", "ollama") else None
            facts = CardFacts(
                source, fmt, shown_quantization, converter, sorted([*files, README]), reference
            )
            (staging / README).write_text(render(facts), encoding="utf-8")
            progress(0.99, "publishing")
            shutil.rmtree(final, ignore_errors=True)
            staging.rename(final)
            self.records.succeed(
                export_id,
                result_dir=str(final),
                files=facts.files,
                size=_folder_size(final),
                converter=converter,
            )
        except (ExportError, BaseModelError) as exc:
            self.records.fail(export_id, exc.code, exc.message)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                self.records.fail(
                    export_id, "disk_full", f"The server's disk is full ({staging.parent})."
                )
            else:
                self.records.fail(export_id, "export_failed", f"Could not write the export: {exc}")
        except Exception as exc:
            log.exception("export %s failed", export_id)
            self.records.fail(export_id, "server_error", f"The export failed: {exc}")
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _base_reference(self, base: str, base_dir: Path) -> str:
        """How an adapter names its base: a hub id for the default, else the directory."""
        return base if base == DEFAULT_BASE_MODEL else str(base_dir)

    def _build(
        self, source: ExportSource, fmt: str, quantization: str, out: Path, progress: Progress
    ) -> tuple[list[str], str, str]:
        """(files written, converter used, base model reference) of one export."""
        from tui.local.export.adapter import write_adapter

        progress(0.02, "preparing the base model")
        base_dir = self._registry.resolve(source.base)
        reference = self._base_reference(source.base, base_dir)
        if fmt == "adapter":
            return write_adapter(source.adapter_dir, reference, out), "", reference
        from tui.local.export.merged import write_merged

        if fmt == "merged":
            files = write_merged(base_dir, source.adapter_dir, out, progress)
            return files, "peft merge_and_unload", reference
        from tui.local.export.gguf_writer import write_gguf

        merged = out / ".merged"
        merged.mkdir()
        write_merged(base_dir, source.adapter_dir, merged, _scaled(progress, 0.0, 0.5))
        name = gguf_name(quantization)
        converter = write_gguf(merged, out / name, quantization, _scaled(progress, 0.5, 0.95))
        files = [name]
        if fmt == "ollama":
            files.append(self._write_modelfile(source, merged, out, name))
        shutil.rmtree(merged)
        return files, converter, reference

    def _write_modelfile(self, source: ExportSource, merged: Path, out: Path, name: str) -> str:
        from tui.core.system_prompts import most_common_system_prompt
        from tui.local.export.ollama import modelfile
        from tui.local.training.hf import load_tokenizer

        tokenizer = load_tokenizer(merged)
        system = most_common_system_prompt(source.training.path) if source.training else None
        text, _note = modelfile(name, merged, tokenizer, system)
        (out / MODELFILE).write_text(text, encoding="utf-8")
        return MODELFILE
