"""Small builders for lint tests: examples and JSONL files written into tmp dirs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def chat(
    user: str = "Hi", answer: str = "Hello!", system: str | None = "Be kind."
) -> dict[str, Any]:
    messages: list[dict[str, Any]] = []
    if system is not None:
        messages.append({"role": "system", "content": system})
    messages += [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]
    return {"messages": messages}


def good_examples(n: int) -> list[dict[str, Any]]:
    return [chat(f"Question {i}?", f"Answer number {i}.") for i in range(n)]


def write_jsonl(path: Path, examples: list[Any]) -> Path:
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in examples))
    return path


def write_lines(path: Path, lines: list[bytes], newline: bytes = b"\n") -> Path:
    path.write_bytes(b"".join(line + newline for line in lines))
    return path
