"""Split a JSONL dataset into training and validation files, streaming, seeded, reproducible.

Two passes over the file, memory bounded whatever its size:

* Plain split: pass 1 counts the examples N; pass 2 picks exactly k = round(N·ratio) (or `count`)
  for validation with selection sampling (each example chosen with probability
  (k − chosen)/(N − seen)), which is uniform, exact and needs no index in memory.
* `group_by_prompt`: every example is placed by a seeded hash of its normalised user prompt, so
  identical prompts always land on the same side and validation cannot leak training prompts.
  Pass 1 builds a histogram of the hashes (65,536 buckets); the cut is the bucket boundary whose
  validation count is closest to k. The result is exact up to whole prompt groups, and for files
  larger than the bucket count, within about N/65,536 examples of k.

Lines are copied byte for byte; blank lines are dropped and counted.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from tui.core.tools import jsonl
from tui.core.tools.errors import ToolError
from tui.core.tools.files import atomic_output, check_input, check_output, iter_lines
from tui.core.tools.progress import ProgressCallback
from tui.core.tools.prompts import prompt_hash

BUCKET_BITS = 16


@dataclass(frozen=True)
class SplitPlan:
    path: Path
    examples: int
    blank: int
    validation: int  # target size of the validation side
    seed: int
    group_by_prompt: bool
    cut: int = 0  # group mode: buckets below the cut go to validation
    expected_validation: int = 0  # group mode: size the cut gives

    def describe(self) -> str:
        valid = self.expected_validation if self.group_by_prompt else self.validation
        text = (
            f"{self.examples} examples → {self.examples - valid} training, {valid} validation "
            f"(seed {self.seed}"
        )
        if self.group_by_prompt:
            text += ", identical prompts kept on one side"
        return text + ")"


@dataclass(frozen=True)
class SplitSummary:
    train_path: Path
    valid_path: Path
    train: int
    valid: int
    blank: int

    def lines(self) -> list[str]:
        out = [
            f"wrote {self.train} training examples to {self.train_path}",
            f"wrote {self.valid} validation examples to {self.valid_path}",
        ]
        if self.blank:
            out.append(f"dropped {self.blank} blank lines")
        return out


def _scaled(progress: ProgressCallback | None, offset: int, total: int) -> ProgressCallback | None:
    if progress is None:
        return None
    return lambda done, _size: progress(offset + done, total)


def target_size(examples: int, ratio: float | None, count: int | None) -> int:
    if examples < 2:
        raise ToolError(f"splitting needs at least 2 examples; the file has {examples}")
    if count is not None:
        if not 1 <= count < examples:
            raise ToolError(
                f"validation count {count}: must be between 1 and {examples - 1} "
                f"for {examples} examples"
            )
        return count
    if ratio is None or not 0.0 < ratio < 1.0:
        raise ToolError(f"validation ratio {ratio}: give a fraction between 0 and 1, e.g. 0.1")
    return min(examples - 1, max(1, int(examples * ratio + 0.5)))


def _require_jsonl(path: Path, first: bytes) -> None:
    try:
        value = jsonl.loads(first)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ToolError(
            f"{path}: the first line is not a JSON object; split works on JSONL datasets "
            "(convert CSV, TSV, JSON or XLSX first with ft-tui convert)"
        )


def plan_split(
    path: Path,
    *,
    ratio: float | None = None,
    count: int | None = None,
    seed: int = 0,
    group_by_prompt: bool = False,
    progress: ProgressCallback | None = None,
) -> SplitPlan:
    """Pass 1: count the examples (and histogram the prompt hashes) and fix the target."""
    size = check_input(path)
    if not -(2**63) <= seed < 2**63:
        raise ToolError(f"seed {seed}: use a whole number that fits in 64 bits")
    examples = blank = 0
    buckets = [0] * (1 << BUCKET_BITS) if group_by_prompt else []
    for _number, line in iter_lines(path, _scaled(progress, 0, 2 * size)):
        if not line.strip():
            blank += 1
            continue
        examples += 1
        if examples == 1:
            _require_jsonl(path, line)
        if group_by_prompt:
            buckets[prompt_hash(line, seed) >> (64 - BUCKET_BITS)] += 1
    target = target_size(examples, ratio, count)
    if not group_by_prompt:
        return SplitPlan(path, examples, blank, target, seed, False)
    cut, expected = _best_cut(buckets, target, examples)
    return SplitPlan(path, examples, blank, target, seed, True, cut, expected)


def _best_cut(buckets: list[int], target: int, examples: int) -> tuple[int, int]:
    best: tuple[int, int] | None = None
    below = 0
    for cut in range(1, len(buckets)):
        below += buckets[cut - 1]
        if 0 < below < examples and (best is None or abs(below - target) < abs(best[1] - target)):
            best = (cut, below)
    if best is None:
        raise ToolError("every example has the same prompt; they cannot be split without a leak")
    return best


def split(
    plan: SplitPlan,
    train_out: Path,
    valid_out: Path,
    *,
    force: bool = False,
    progress: ProgressCallback | None = None,
) -> SplitSummary:
    """Pass 2: write both files as the plan says."""
    if train_out == valid_out or (train_out.resolve() == valid_out.resolve()):
        raise ToolError("the training and validation outputs must be different files")
    check_output(train_out, [plan.path], force=force)
    check_output(valid_out, [plan.path], force=force)
    size = plan.path.stat().st_size
    rng = random.Random(plan.seed)
    seen = chosen = 0
    train = 0
    with atomic_output(train_out) as train_file, atomic_output(valid_out) as valid_file:
        for _number, line in iter_lines(plan.path, _scaled(progress, size, 2 * size)):
            if not line.strip():
                continue
            if plan.group_by_prompt:
                to_valid = prompt_hash(line, plan.seed) >> (64 - BUCKET_BITS) < plan.cut
            else:
                to_valid = rng.random() * (plan.examples - seen) < plan.validation - chosen
            seen += 1
            if to_valid:
                chosen += 1
                valid_file.write(line + b"\n")
            else:
                train += 1
                train_file.write(line + b"\n")
        if seen != plan.examples:
            raise ToolError(f"{plan.path} changed while it was being split; run the split again")
    return SplitSummary(train_out, valid_out, train, chosen, plan.blank)
