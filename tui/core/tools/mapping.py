"""Which source columns become the system, user and assistant messages.

A mapping names one or more columns per role ("instruction+input" joins two columns with a blank
line). `guess_mapping` proposes one from the column names; explicit choices win over the guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from tui.core.tools.errors import ToolError

ROLES = ("system", "user", "assistant")
# Column names (normalised) that suggest a role, most specific first.
HINTS: dict[str, tuple[str, ...]] = {
    "system": ("system", "system_prompt", "system_message", "context", "persona"),
    "user": ("instruction", "prompt", "question", "query", "input", "user", "human", "request"),
    "assistant": (
        "completion",
        "answer",
        "output",
        "response",
        "assistant",
        "reply",
        "target",
        "gpt",
        "bot",
    ),
}
CHAT_FIELD = "messages"  # a source that already holds chat examples
PREFERENCE_FIELDS = ("input", "preferred_output")  # DPO pairs: SFT on the preferred replies


@dataclass(frozen=True)
class Mapping:
    system: tuple[str, ...] = ()
    user: tuple[str, ...] = ()
    assistant: tuple[str, ...] = ()
    system_prompt: str | None = None  # a fixed system message, used when no system column
    passthrough: bool = False  # records already carry "messages"
    preference: bool = False  # DPO records: input messages + the preferred output

    def columns(self, role: str) -> tuple[str, ...]:
        cols: tuple[str, ...] = getattr(self, role)
        return cols

    def describe(self) -> str:
        if self.preference:
            return "preference pairs: input messages + preferred output (SFT on preferred replies)"
        if self.passthrough:
            extra = f', system prompt "{_short(self.system_prompt)}"' if self.system_prompt else ""
            return f"records already hold chat messages (kept as they are{extra})"
        parts = []
        for role in ROLES:
            cols = self.columns(role)
            if cols:
                parts.append(f"{role} ← {' + '.join(cols)}")
            elif role == "system" and self.system_prompt:
                parts.append(f'system ← "{_short(self.system_prompt)}"')
            else:
                parts.append(f"{role} ← (none)")
        return ", ".join(parts)


def _short(text: str | None, limit: int = 40) -> str:
    text = (text or "").replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _normalise(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _matches(name: str, hint: str) -> bool:
    norm = _normalise(name)
    return norm == hint or hint in norm.split("_")


def guess_mapping(columns: Iterable[str], system_prompt: str | None = None) -> Mapping:
    """Guess roles from column names: each column goes to at most one role."""
    cols = list(columns)
    if CHAT_FIELD in cols:
        return Mapping(system_prompt=system_prompt, passthrough=True)
    if all(field in cols for field in PREFERENCE_FIELDS):
        return Mapping(system_prompt=system_prompt, passthrough=True, preference=True)
    taken: set[str] = set()
    chosen: dict[str, tuple[str, ...]] = {}
    for role in ("assistant", "system", "user"):
        picked: list[str] = []
        for hint in HINTS[role]:
            for col in cols:
                if col not in taken and col not in picked and _matches(col, hint):
                    picked.append(col)
        if role != "user":
            picked = picked[:1]  # one reply and one system message; users may join columns
        taken.update(picked)
        chosen[role] = tuple(picked)
    return Mapping(
        system=chosen["system"],
        user=chosen["user"],
        assistant=chosen["assistant"],
        system_prompt=system_prompt,
    )


def parse_map_options(items: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """`["user=question", "assistant=answer"]` → {"user": ("question",), ...}."""
    result: dict[str, tuple[str, ...]] = {}
    for item in items:
        role, sep, value = item.partition("=")
        role = role.strip().lower()
        if not sep or not value.strip():
            raise ToolError(f"--map {item!r}: write ROLE=COLUMN, for example user=question")
        if role not in ROLES:
            raise ToolError(f"--map {item!r}: the role must be one of {', '.join(ROLES)}")
        if role in result:
            raise ToolError(f"--map: the role {role} is mapped twice")
        result[role] = (value.strip(),)
    return result


def _split_columns(spec: tuple[str, ...], columns: list[str]) -> tuple[str, ...]:
    """A column name as given, or several joined with "+" when no column has the whole name."""
    if len(spec) == 1 and spec[0] not in columns and "+" in spec[0]:
        return tuple(part.strip() for part in spec[0].split("+") if part.strip())
    return spec


def resolve_mapping(
    columns: list[str],
    explicit: dict[str, tuple[str, ...]],
    system_prompt: str | None = None,
) -> Mapping:
    """Combine explicit choices with the guess, and check every named column exists.

    An explicit empty tuple means "no column" for that role (the guess is not used).
    """
    guess = guess_mapping(columns, system_prompt)
    if guess.passthrough and not explicit:
        return guess
    if guess.passthrough:
        guess = Mapping(system_prompt=system_prompt)
    chosen = {
        role: _split_columns(explicit.get(role, guess.columns(role)), columns) for role in ROLES
    }
    if explicit.get("system") and system_prompt:
        raise ToolError("give either a system column or a fixed system prompt (--system), not both")
    for role, cols in chosen.items():
        for col in cols:
            if col not in columns:
                raise ToolError(
                    f"--map {role}={col}: no column {col!r}; columns: {', '.join(columns)}"
                )
    mapping = replace(guess, system=chosen["system"], user=chosen["user"])
    mapping = replace(mapping, assistant=chosen["assistant"], system_prompt=system_prompt)
    if mapping.system_prompt and mapping.system and not explicit.get("system"):
        mapping = replace(mapping, system=())  # a fixed prompt given by the user wins the guess
    for role in ("user", "assistant"):
        if not mapping.columns(role):
            raise ToolError(
                f"no column for the {role} message; choose one (--map {role}=COLUMN) "
                f"(columns: {', '.join(columns)})"
            )
    return mapping
