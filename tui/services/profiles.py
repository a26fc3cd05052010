"""Connection profiles: which API ft-tui talks to, read from `config.toml` and the environment.

The settings file is `tui.config.config_dir() / "config.toml"`. ft-tui only reads it; API keys
never live in it (a profile names the environment variable that holds its key)::

    active = "work"                    # optional; FT_TUI_PROFILE overrides it

    [profiles.work]                    # type defaults to "openai"
    type = "openai"
    api_key_env = "OPENAI_API_KEY"     # the default for type "openai"
    organization = "org-abc"           # optional (else OPENAI_ORG_ID)
    project = "proj_abc"               # optional (else OPENAI_PROJECT_ID)

    [profiles.azure-east]
    type = "azure"                     # implied by `endpoint`
    endpoint = "https://my-resource.openai.azure.com"
    api_version = "2025-04-01-preview"
    api_key_env = "AZURE_OPENAI_API_KEY"

    [profiles.other-vendor]
    type = "compatible"                # implied by `base_url`
    base_url = "https://api.example.com/v1"
    api_key_env = "EXAMPLE_API_KEY"

    [profiles.local]                   # the bundled `ft-tui serve`, started on demand
    type = "local"
    data_dir = "~/ft-local"            # optional; default tui.config.local_server_dir()
    port = 8765                        # optional; default a free port
    models = ["HuggingFaceTB/SmolLM2-360M-Instruct", "mine=~/models/mine"]  # `serve --model`
    chat_templates = { mine = "~/models/chatml.jinja" }  # `serve --chat-template NAME=FILE`
    sampling = { mine = { temperature = 0.3, top_p = 0.9 } }  # `serve --sampling NAME:...`

Built-in profiles, always listed unless the file defines the same name: `openai` (key from
`OPENAI_API_KEY`), `local` (the embedded server) and, when both `OPENAI_BASE_URL` and
`OPENAI_API_KEY` are set, `env` (exactly what the SDK itself would use).

Selection (`select_profile()`): `FT_TUI_PROFILE` / `active` in the file / the `env` profile /
`openai` when `OPENAI_API_KEY` is set / `local`.

Every problem in the file raises `ProfileError`, whose `str()` names the file, the line and the
field, e.g. ``config.toml:7: profiles.local.port: must be an integer from 1 to 65535, got "x"``.
Keys are shown only through `mask_key()` (``sk-…abcd``).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tui import config

ProfileKind = Literal["openai", "azure", "compatible", "local"]
KINDS: tuple[ProfileKind, ...] = ("openai", "azure", "compatible", "local")
ENV_PROFILE = "env"

_ALLOWED_FIELDS: dict[ProfileKind, frozenset[str]] = {
    "openai": frozenset({"type", "api_key_env", "organization", "project", "base_url"}),
    "azure": frozenset({"type", "api_key_env", "endpoint", "api_version", "deployment"}),
    "compatible": frozenset({"type", "api_key_env", "base_url", "organization", "project"}),
    "local": frozenset({"type", "data_dir", "port", "models", "chat_templates", "sampling"}),
}


class ProfileError(Exception):
    """A problem with the settings file or the profile selection, worded for the user."""

    def __init__(
        self, message: str, *, path: Path | None = None, line: int | None = None, field: str = ""
    ) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.field = field
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = str(self.path) + (f":{self.line}" if self.line else "") + ": "
        field = f"{self.field}: " if self.field else ""
        return f"{where}{field}{self.message}"


@dataclass(frozen=True)
class Profile:
    """One way to reach an OpenAI-compatible API. Holds the *name* of the key variable, never
    the key itself."""

    name: str
    kind: ProfileKind
    source: str  # "config.toml", "environment" or "built-in"
    base_url: str | None = None
    api_key_env: str | None = None
    organization: str | None = None
    project: str | None = None
    azure_endpoint: str | None = None
    api_version: str | None = None
    azure_deployment: str | None = None
    data_dir: Path | None = None
    port: int | None = None
    # Local profiles: the server's base models (`ft-tui serve --model SPEC`) and chat templates
    # (`--chat-template NAME=FILE`); checked by the server when it starts.
    models: tuple[str, ...] = ()
    chat_templates: tuple[tuple[str, str], ...] = ()
    # Default sampling per base model (`--sampling NAME:temperature=T,top_p=P`), values checked
    # by the server; each entry is (name, "temperature=T,top_p=P").
    sampling: tuple[tuple[str, str], ...] = ()

    def api_key(self, env: Mapping[str, str] | None = None) -> str | None:
        """The key, read from the environment at call time; None when unset or empty."""
        if self.api_key_env is None:
            return None
        value = (os.environ if env is None else env).get(self.api_key_env, "").strip()
        return value or None

    @property
    def is_local(self) -> bool:
        return self.kind == "local"

    @property
    def local_server_args(self) -> tuple[str, ...]:
        """The `ft-tui serve` options this local profile adds."""
        args: list[str] = []
        for spec in self.models:
            args += ["--model", spec]
        for name, file in self.chat_templates:
            args += ["--chat-template", f"{name}={file}"]
        for name, settings in self.sampling:
            args += ["--sampling", f"{name}:{settings}"]
        return tuple(args)

    @property
    def local_data_dir(self) -> Path:
        return self.data_dir if self.data_dir is not None else config.local_server_dir()

    @property
    def cache_key(self) -> str:
        """Identifies the backend in the cache: the same job id on two backends never mixes."""
        if self.kind == "local":
            return f"{self.name}@{self.local_data_dir}"
        return f"{self.name}@{self.base_url or self.azure_endpoint or 'api.openai.com'}"

    def describe(self, env: Mapping[str, str] | None = None) -> str:
        """One line for the status bar or the profile picker; the key is masked."""
        if self.kind == "local":
            return f"{self.name}: local server ({self.local_data_dir})"
        target = self.base_url or self.azure_endpoint or "api.openai.com"
        key = self.api_key(env)
        shown = mask_key(key) if key else f"no key (${self.api_key_env} is not set)"
        return f"{self.name}: {self.kind} {target}, key {shown}"


def mask_key(key: str) -> str:
    """`sk-proj-abcdef…wxyz` → `sk-…wxyz`; short values are hidden entirely."""
    key = key.strip()
    if len(key) < 12:
        return "…" * bool(key)
    prefix = key.split("-", 1)[0] + "-" if "-" in key[:8] else ""
    return f"{prefix}…{key[-4:]}"


def config_path() -> Path:
    return config.config_dir() / "config.toml"


def _line_of(text: str, table: str | None, key: str | None) -> int | None:
    """Best-effort line number of `key` inside `[table]` (or of the table header itself)."""
    lines = text.splitlines()
    start = 0
    if table is not None:
        parts = table.split(".")
        pattern = re.compile(
            r"^\s*\[\s*"
            + r"\s*\.\s*".join(r"[\"']?" + re.escape(p) + r"[\"']?" for p in parts)
            + r"\s*\]"
        )
        for i, line in enumerate(lines):
            if pattern.match(line):
                start = i
                break
        else:
            return None
        if key is None:
            return start + 1
        start += 1
    if key is None:
        return None
    key_re = re.compile(r"^\s*[\"']?" + re.escape(key) + r"[\"']?\s*=")
    for i in range(start, len(lines)):
        if table is not None and lines[i].lstrip().startswith("["):
            break
        if key_re.match(lines[i]):
            return i + 1
    return None


class _ConfigReader:
    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text

    def error(self, message: str, table: str | None, key: str | None) -> ProfileError:
        field = ".".join(p for p in (table, key) if p)
        line = _line_of(self.text, table, key) or _line_of(self.text, table, None)
        return ProfileError(message, path=self.path, line=line, field=field)

    def string(self, table: dict[str, object], name: str, key: str) -> str | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.error(f"must be a non-empty string, got {value!r}", f"profiles.{name}", key)
        return value.strip()

    def profile(self, name: str, raw: object) -> Profile:
        where = f"profiles.{name}"
        if not isinstance(raw, dict):
            raise self.error("must be a table like [profiles.NAME]", where, None)
        if "api_key" in raw or "key" in raw:
            key = "api_key" if "api_key" in raw else "key"
            raise self.error(
                "API keys are not read from the settings file; put the key in an environment "
                "variable and name it with api_key_env",
                where,
                key,
            )
        kind = self._kind(name, raw)
        unknown = sorted(set(raw) - _ALLOWED_FIELDS[kind])
        if unknown:
            allowed = ", ".join(sorted(_ALLOWED_FIELDS[kind]))
            raise self.error(
                f"unknown field for a {kind} profile (allowed: {allowed})", where, unknown[0]
            )
        if kind == "local":
            return self._local(name, raw)
        api_key_env = self.string(raw, name, "api_key_env")
        if api_key_env is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", api_key_env):
            raise self.error(
                f"must be the name of an environment variable, got {api_key_env!r}",
                where,
                "api_key_env",
            )
        base_url = self.string(raw, name, "base_url")
        if base_url is not None and not re.match(r"https?://", base_url):
            raise self.error(
                f"must start with http:// or https://, got {base_url!r}", where, "base_url"
            )
        if kind == "azure":
            endpoint = self.string(raw, name, "endpoint")
            if endpoint is None:
                raise self.error('an azure profile needs endpoint = "https://…"', where, None)
            api_version = self.string(raw, name, "api_version")
            if api_version is None:
                raise self.error('an azure profile needs api_version = "YYYY-MM-DD…"', where, None)
            return Profile(
                name=name,
                kind="azure",
                source="config.toml",
                api_key_env=api_key_env or "AZURE_OPENAI_API_KEY",
                azure_endpoint=endpoint,
                api_version=api_version,
                azure_deployment=self.string(raw, name, "deployment"),
            )
        if kind == "compatible" and base_url is None:
            raise self.error('a compatible profile needs base_url = "https://…/v1"', where, None)
        return Profile(
            name=name,
            kind=kind,
            source="config.toml",
            base_url=base_url,
            api_key_env=api_key_env or "OPENAI_API_KEY",
            organization=self.string(raw, name, "organization"),
            project=self.string(raw, name, "project"),
        )

    def _kind(self, name: str, raw: dict[str, object]) -> ProfileKind:
        declared = raw.get("type")
        if declared is None:
            if "endpoint" in raw:
                return "azure"
            if "base_url" in raw:
                return "compatible"
            return "local" if name == "local" else "openai"
        for kind in KINDS:
            if declared == kind:
                return kind
        raise self.error(
            f"must be one of {', '.join(KINDS)}, got {declared!r}", f"profiles.{name}", "type"
        )

    def _local(self, name: str, raw: dict[str, object]) -> Profile:
        where = f"profiles.{name}"
        port = raw.get("port")
        if port is not None and (
            isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535
        ):
            raise self.error(f"must be an integer from 1 to 65535, got {port!r}", where, "port")
        data_dir = self.string(raw, name, "data_dir")
        models = raw.get("models", [])
        if not isinstance(models, list) or not all(
            isinstance(m, str) and m.strip() for m in models
        ):
            raise self.error(
                'must be a list of model sources like ["owner/name", "NAME=/path"]',
                where,
                "models",
            )
        templates = raw.get("chat_templates", {})
        if not isinstance(templates, dict) or not all(
            isinstance(f, str) and f.strip() for f in templates.values()
        ):
            raise self.error(
                'must be a table of model name = "template file"', where, "chat_templates"
            )
        sampling = raw.get("sampling", {})
        if not isinstance(sampling, dict) or not all(
            isinstance(v, dict)
            and v
            and all(
                k in ("temperature", "top_p")
                and isinstance(x, int | float)
                and not isinstance(x, bool)
                for k, x in v.items()
            )
            for v in sampling.values()
        ):
            raise self.error(
                "must be a table of model name = { temperature = T, top_p = P }",
                where,
                "sampling",
            )
        return Profile(
            name=name,
            kind="local",
            source="config.toml",
            data_dir=Path(data_dir).expanduser() if data_dir else None,
            port=port,
            models=tuple(m.strip() for m in models),
            chat_templates=tuple(
                (str(k), str(Path(v.strip()).expanduser())) for k, v in templates.items()
            ),
            sampling=tuple(
                (str(k), ",".join(f"{key}={value!r}" for key, value in v.items()))
                for k, v in sampling.items()
            ),
        )


@dataclass(frozen=True)
class Settings:
    profiles: dict[str, Profile]
    active: str | None
    path: Path


def load_settings(path: Path | None = None) -> Settings:
    """Parse the settings file (a missing file means no profiles). Raises `ProfileError`."""
    path = config_path() if path is None else path
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings({}, None, path)
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"cannot read the settings file: {exc}", path=path) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        raise ProfileError(
            f"not valid TOML: {exc}", path=path, line=int(found.group(1)) if found else None
        ) from None
    reader = _ConfigReader(path, text)
    unknown = sorted(set(data) - {"active", "profiles"})
    if unknown:
        raise reader.error(
            "unknown setting (expected `active` or [profiles.NAME])", None, unknown[0]
        )
    raw_profiles = data.get("profiles", {})
    if not isinstance(raw_profiles, dict):
        raise reader.error("must be tables like [profiles.NAME]", None, "profiles")
    profiles = {name: reader.profile(name, raw) for name, raw in raw_profiles.items()}
    active = data.get("active")
    if active is not None and (not isinstance(active, str) or not active):
        raise ProfileError(
            f"must be a profile name, got {active!r}",
            path=path,
            line=_line_of(text, None, "active"),
            field="active",
        )
    return Settings(profiles, active, path)


def _builtin_profiles(env: Mapping[str, str]) -> dict[str, Profile]:
    builtins = {
        "openai": Profile(
            name="openai",
            kind="openai",
            source="built-in",
            api_key_env="OPENAI_API_KEY",
            organization=env.get("OPENAI_ORG_ID") or None,
            project=env.get("OPENAI_PROJECT_ID") or None,
        ),
        "local": Profile(name="local", kind="local", source="built-in"),
    }
    base_url = env.get("OPENAI_BASE_URL", "").strip()
    if base_url and env.get("OPENAI_API_KEY", "").strip():
        builtins[ENV_PROFILE] = Profile(
            name=ENV_PROFILE,
            kind="compatible",
            source="environment",
            base_url=base_url,
            api_key_env="OPENAI_API_KEY",
            organization=env.get("OPENAI_ORG_ID") or None,
            project=env.get("OPENAI_PROJECT_ID") or None,
        )
    return builtins


def all_profiles(
    settings: Settings | None = None, env: Mapping[str, str] | None = None
) -> dict[str, Profile]:
    """Profiles from the file first, then the built-ins the file does not redefine."""
    env = os.environ if env is None else env
    settings = load_settings() if settings is None else settings
    merged = dict(settings.profiles)
    for name, profile in _builtin_profiles(env).items():
        merged.setdefault(name, profile)
    return merged


def list_profiles() -> list[Profile]:
    return list(all_profiles().values())


def select_profile(
    name: str | None = None,
    *,
    settings: Settings | None = None,
    env: Mapping[str, str] | None = None,
) -> Profile:
    """The profile to use: `name`, else the selection order in the module docstring."""
    env = os.environ if env is None else env
    settings = load_settings() if settings is None else settings
    profiles = all_profiles(settings, env)
    wanted, origin = name, "requested"
    if wanted is None and env.get("FT_TUI_PROFILE", "").strip():
        wanted, origin = env["FT_TUI_PROFILE"].strip(), "FT_TUI_PROFILE"
    if wanted is None and settings.active:
        wanted, origin = settings.active, "active"
    if wanted is not None:
        if wanted in profiles:
            return profiles[wanted]
        known = ", ".join(profiles)
        message = f"no profile named {wanted!r} (known: {known})"
        if origin == "active":
            raise ProfileError(
                message,
                path=settings.path,
                line=_line_of(_safe_read(settings.path), None, "active"),
                field="active",
            )
        raise ProfileError(f"{origin}: {message}")
    if ENV_PROFILE in profiles and profiles[ENV_PROFILE].source == "environment":
        return profiles[ENV_PROFILE]
    if env.get("OPENAI_API_KEY", "").strip():
        return profiles["openai"]
    return profiles["local"]


def _safe_read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
