"""The new-job form's values checked against the API's rules, with one message per bad field.

Pure (no Textual, no I/O beyond checking that a path exists), so every rule is testable alone;
each problem names its field, where `tui.services.jobs.JobSpec` stops at the first one.
Ranges follow the fine-tuning spec: n_epochs 1–50, batch_size 1–256, learning_rate_multiplier
> 0, DPO beta in (0, 2]; suffix 1–64 characters; metadata at most 16 pairs, keys ≤ 64 and
values ≤ 512 characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tui.core.hyperparameters import DPO_KEYS, FLOAT_RANGES, INT_RANGES, OPENAI_KEYS
from tui.core.save_paths import resolve_user_path

if TYPE_CHECKING:
    from tui.services.jobs import JobSpec

FILE_ID = re.compile(r"^file[-_][A-Za-z0-9_-]+$")
SUFFIX_MAX = 64
METADATA_MAX_PAIRS = 16

# How the form names each hyperparameter in its messages.
HYPER_LABELS = {
    "n_epochs": "Epochs",
    "batch_size": "Batch size",
    "learning_rate_multiplier": "LR multiplier",
    "beta": "DPO beta",
}


def _rule(name: str) -> tuple[bool, float, float, bool]:
    """(integer?, low, high, low inclusive), from the one owner of the ranges."""
    if name in INT_RANGES:
        low, high = INT_RANGES[name]
        return True, low, high, True
    low_f, high_f, low_exclusive = FLOAT_RANGES[name]
    return False, low_f, high_f, not low_exclusive


HYPER_RULES = {name: _rule(name) for name in OPENAI_KEYS + DPO_KEYS}
METHOD_HYPERS = {
    "supervised": ("n_epochs", "batch_size", "learning_rate_multiplier"),
    "dpo": ("n_epochs", "batch_size", "learning_rate_multiplier", "beta"),
}


@dataclass(frozen=True)
class FileChoice:
    """A dataset given as a local path (linted, then uploaded) or an existing file id."""

    path: Path | None = None
    file_id: str | None = None

    @property
    def label(self) -> str:
        return str(self.path) if self.path else str(self.file_id)


@dataclass
class JobRequest:
    model: str
    method: str
    training: FileChoice
    validation: FileChoice | None = None
    suffix: str | None = None
    seed: int | None = None
    hyperparameters: dict[str, int | float | str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)

    def spec(self, training_id: str, validation_id: str | None) -> JobSpec:
        """The service's request once the files have ids (uploaded or given)."""
        from tui.services.jobs import JobSpec

        return JobSpec(
            model=self.model,
            training_file=training_id,
            validation_file=validation_id,
            method=self.method,
            hyperparameters={k: v for k, v in self.hyperparameters.items() if v != "auto"},
            suffix=self.suffix,
            seed=self.seed,
            metadata=self.metadata,
        )


def parse_file(
    text: str, what: str, required: bool, base: Path | None = None
) -> tuple[FileChoice | None, str]:
    """A path (relative to `base`, the dataset root; else the working directory) or a file id."""
    value = text.strip()
    if not value:
        return None, f"{what}: required (a .jsonl path or a file id)" if required else ""
    root = base or Path.cwd()
    if FILE_ID.match(value) and not resolve_user_path(value, root).exists():
        return FileChoice(file_id=value), ""
    path = resolve_user_path(value, root)
    if not path.exists():
        return None, f"{what}: {path} does not exist (and is not a file id like file-abc123)"
    if not path.is_file():
        return None, f"{what}: {path} is not a file"
    if path.suffix.lower() != ".jsonl":
        return None, f"{what}: fine-tuning takes .jsonl files (convert it in 1 Datasets with c)"
    return FileChoice(path=path), ""


def parse_hyper(name: str, text: str) -> tuple[int | float | str | None, str]:
    """Problems are worded for the form (its field names, plain ranges), not for the API."""
    label = HYPER_LABELS.get(name, name)
    value = text.strip().lower() or "auto"
    if value == "auto":
        return "auto", ""
    integer, low, high, low_inclusive = HYPER_RULES[name]
    try:
        number: int | float = int(value) if integer else float(value)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        return None, f"{label}: {text.strip()!r} is not {kind} or auto"
    too_low = number < low if low_inclusive else number <= low
    if too_low or number > high or number != number:
        if high == float("inf"):
            return None, f"{label}: must be more than {low:g}, got {number:g}"
        if low_inclusive:
            return None, f"{label}: must be from {low:g} to {high:g}, got {number:g}"
        return None, f"{label}: must be more than {low:g} and at most {high:g}, got {number:g}"
    return number, ""


def parse_suffix(text: str) -> tuple[str | None, str]:
    value = text.strip()
    if not value:
        return None, ""
    if len(value) > SUFFIX_MAX:
        return None, f"suffix: at most {SUFFIX_MAX} characters, got {len(value)}"
    if any(ch.isspace() or ch == ":" for ch in value):
        return None, "suffix: no spaces or ':' (it becomes part of the model name)"
    return value, ""


def parse_seed(text: str) -> tuple[int | None, str]:
    value = text.strip()
    if not value:
        return None, ""
    try:
        seed = int(value)
    except ValueError:
        return None, f"seed: {value!r} is not a whole number"
    if not 0 <= seed <= 2**31 - 1:
        return None, "seed: must be between 0 and 2147483647"
    return seed, ""


def parse_metadata(text: str) -> tuple[dict[str, str], str]:
    """`k=v, k2=v2` → dict; commas separate pairs."""
    result: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        key, sep, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            return {}, f"metadata: {part!r} is not key=value"
        if len(key) > 64:
            return {}, f"metadata: key {key[:20]!r}… is longer than 64 characters"
        if len(value) > 512:
            return {}, f"metadata: value of {key!r} is longer than 512 characters"
        result[key] = value
    if len(result) > METADATA_MAX_PAIRS:
        return {}, f"metadata: at most {METADATA_MAX_PAIRS} pairs, got {len(result)}"
    return result, ""


def build_request(
    values: dict[str, str], base: Path | None = None
) -> tuple[JobRequest | None, list[str]]:
    """The form's raw strings → a request, or the list of problems (one per bad field).
    Relative file paths resolve against `base` (the folder ft-tui was opened on)."""
    problems: list[str] = []
    model = values.get("model", "").strip()
    if not model:
        problems.append("base model: choose one")
    method = values.get("method", "supervised") or "supervised"
    if method not in METHOD_HYPERS:
        problems.append(f"method: {method!r} is not supported here")
        method = "supervised"
    training, problem = parse_file(values.get("training", ""), "training file", True, base)
    problems += [problem] if problem else []
    validation, problem = parse_file(values.get("validation", ""), "validation file", False, base)
    problems += [problem] if problem else []
    if training and validation and training == validation:
        problems.append("validation file: must differ from the training file")
    suffix, problem = parse_suffix(values.get("suffix", ""))
    problems += [problem] if problem else []
    seed, problem = parse_seed(values.get("seed", ""))
    problems += [problem] if problem else []
    hyper: dict[str, int | float | str] = {}
    for name in METHOD_HYPERS[method]:
        value, problem = parse_hyper(name, values.get(name, ""))
        if problem:
            problems.append(problem)
        elif value is not None:
            hyper[name] = value
    metadata, problem = parse_metadata(values.get("metadata", ""))
    problems += [problem] if problem else []
    if problems or training is None:
        return None, problems
    return (
        JobRequest(model, method, training, validation, suffix, seed, hyper, metadata),
        [],
    )
