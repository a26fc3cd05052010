"""The system prompt a fine-tune was trained with: the one used most in its training file.

Fine-tunes answer best with the system prompt they learnt under, so Chat pre-fills it and exports
(e.g. an Ollama Modelfile's SYSTEM) carry it. The file is streamed line by line (memory stays
bounded for big files); broken lines are skipped, since lint reports them elsewhere.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from tui.core.formats import example_messages

MAX_LINES = 200_000  # enough to be sure which prompt dominates; huge files are not read to the end


def _system_text(example: object) -> str | None:
    if not isinstance(example, dict):
        return None
    messages = example_messages(example)
    if messages is None:
        return None
    for message in messages:
        if isinstance(message, dict) and message.get("role") in ("system", "developer"):
            content = message.get("content")
            if isinstance(content, list):  # content parts: keep the text parts
                content = "".join(
                    str(part.get("text", "")) for part in content if isinstance(part, dict)
                )
            return content if isinstance(content, str) and content.strip() else None
        if isinstance(message, dict):
            return None  # only a leading system message counts
    return None


def counts_in_lines(lines: Iterable[bytes], max_lines: int = MAX_LINES) -> Counter[str]:
    """How many of the JSONL `lines` (examples) start with each system prompt."""
    counts: Counter[str] = Counter()
    for number, raw in enumerate(lines):
        if number >= max_lines:
            break
        try:
            example = json.loads(raw)
        except ValueError:
            continue
        text = _system_text(example)
        if text is not None:
            counts[text] += 1
    return counts


def system_prompt_counts(path: Path, max_lines: int = MAX_LINES) -> Counter[str]:
    """How many examples of a JSONL file start with each system prompt."""
    with path.open("rb") as handle:
        return counts_in_lines(handle, max_lines)


def most_common_system_prompt(path: Path, max_lines: int = MAX_LINES) -> str | None:
    """The system prompt used by the most examples (the first seen wins a tie), or None when no
    example has one or the file cannot be read."""
    try:
        counts = system_prompt_counts(path, max_lines)
    except OSError:
        return None
    if not counts:
        return None
    return counts.most_common(1)[0][0]
