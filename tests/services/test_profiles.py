"""Profiles: selection order, the TOML file, error messages a user can act on, masked keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.services.connection import (
    Connection,
    ConnectionHealth,
    ConnectionUnavailable,
    connection_for,
)
from tui.services.errors import describe_error
from tui.services.profiles import (
    ProfileError,
    list_profiles,
    load_settings,
    mask_key,
    select_profile,
)


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "FT_TUI_PROFILE",
        "OPENAI_ORG_ID",
        "OPENAI_PROJECT_ID",
        "AZURE_OPENAI_API_KEY",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("FT_TUI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("FT_TUI_DATA_DIR", str(tmp_path / "data"))
    (tmp_path / "config").mkdir()
    return tmp_path / "config" / "config.toml"


def test_nothing_configured_selects_the_embedded_local_server(cfg: Path) -> None:
    profile = select_profile()
    assert profile.name == "local" and profile.is_local
    assert profile.local_data_dir == cfg.parent.parent / "data" / "local"


def test_openai_key_in_env_selects_openai(cfg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-abcdefghijklmnop1234")
    profile = select_profile()
    assert profile.name == "openai"
    assert profile.api_key() == "sk-proj-abcdefghijklmnop1234"
    assert "sk-…1234" in profile.describe()
    assert "abcdefgh" not in profile.describe()


def test_base_url_and_key_in_env_define_a_profile(
    cfg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key-000000009999")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    profile = select_profile()
    assert profile.name == "env" and profile.base_url == "http://127.0.0.1:9/v1"
    assert [p.name for p in list_profiles()] == ["openai", "local", "env"]


def test_active_in_file_beats_env_profile_and_ft_tui_profile_beats_active(
    cfg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg.write_text(
        'active = "vendor"\n\n[profiles.vendor]\nbase_url = "https://api.example.com/v1"\n'
        'api_key_env = "VENDOR_KEY"\n\n[profiles.az]\nendpoint = "https://x.openai.azure.com"\n'
        'api_version = "2025-04-01-preview"\n'
    )
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key-000000009999")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    vendor = select_profile()
    assert (vendor.name, vendor.kind, vendor.api_key_env) == ("vendor", "compatible", "VENDOR_KEY")
    monkeypatch.setenv("FT_TUI_PROFILE", "az")
    az = select_profile()
    assert (az.kind, az.api_version, az.api_key_env) == (
        "azure",
        "2025-04-01-preview",
        "AZURE_OPENAI_API_KEY",
    )


def test_local_profile_fields(cfg: Path, tmp_path: Path) -> None:
    cfg.write_text(f'[profiles.mine]\ntype = "local"\ndata_dir = "{tmp_path}/srv"\nport = 8799\n')
    profile = select_profile("mine")
    assert profile.is_local and profile.port == 8799 and profile.local_data_dir == tmp_path / "srv"


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        ('[profiles.a]\ntype = "openai"\nport = 3\n', 3, "profiles.a.port", "unknown field"),
        ('\n[profiles.l]\ntype = "local"\nport = "x"\n', 4, "profiles.l.port", "1 to 65535"),
        ('[profiles.a]\napi_key = "sk-secret"\n', 2, "profiles.a.api_key", "environment"),
        ('[profiles.a]\ntype = "gcp"\n', 2, "profiles.a.type", "must be one of"),
        ('[profiles.z]\ntype = "azure"\nendpoint = "https://x"\n', 1, "profiles.z", "api_version"),
        ('[profiles.a]\nbase_url = "ftp://x"\n', 2, "profiles.a.base_url", "http"),
        ("[profiles.a\nx = 1\n", 1, "", "not valid TOML"),
        ('colour = "red"\n', 1, "colour", "unknown setting"),
    ],
)
def test_invalid_config_names_file_line_and_field(
    cfg: Path, text: str, line: int, field: str, words: str
) -> None:
    cfg.write_text(text)
    with pytest.raises(ProfileError) as caught:
        load_settings()
    err = caught.value
    assert err.path == cfg and err.line == line and err.field == field
    assert words in str(err)
    assert str(err).startswith(f"{cfg}:{line}: ")
    assert "sk-secret" not in str(err)
    assert "Settings problem" in str(describe_error(err))


def test_unknown_active_profile_is_reported_with_known_names(cfg: Path) -> None:
    cfg.write_text('\nactive = "nope"\n')
    with pytest.raises(ProfileError, match=r"config.toml:2: active: no profile named 'nope'"):
        select_profile()


def test_unknown_ft_tui_profile(cfg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FT_TUI_PROFILE", "ghost")
    with pytest.raises(ProfileError, match="FT_TUI_PROFILE: no profile named 'ghost'.*local"):
        connection_for()


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        ("sk-proj-abcdefghijklmnopqrstuvwxyz9876", "sk-…9876"),
        ("abcdefghijklmnop", "…mnop"),
        ("short", "…"),
        ("", ""),
    ],
)
def test_mask_key(key: str, shown: str) -> None:
    assert mask_key(key) == shown


async def test_profile_without_key_gives_a_clear_unavailable_error(cfg: Path) -> None:
    cfg.write_text('[profiles.w]\napi_key_env = "WORK_KEY"\n')
    conn = Connection(select_profile("w"))
    seen: list[ConnectionHealth] = []
    conn.add_listener(seen.append)
    with pytest.raises(ConnectionUnavailable) as caught:
        await conn.client()
    assert "$WORK_KEY is not set" in str(caught.value)
    assert conn.health.state == "down" and seen[-1].state == "down"
    assert "export WORK_KEY" in str(describe_error(caught.value))


async def test_connection_builds_a_client_for_the_profile(
    cfg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key-000000009999")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    conn = connection_for()
    client = await conn.client()
    assert str(client.base_url).rstrip("/") == "http://127.0.0.1:9/v1"
    assert client is await conn.client()
    assert conn.health.state == "ok"
    await conn.aclose()


def test_the_documented_example_is_valid(cfg: Path) -> None:
    import tui.services.profiles as module

    doc = module.__doc__ or ""
    example = doc.split("::\n", 1)[1].split("\n\nBuilt-in profiles", 1)[0]
    cfg.write_text("\n".join(line[4:] for line in example.splitlines()))
    settings = load_settings()
    assert settings.active == "work"
    kinds = {name: p.kind for name, p in settings.profiles.items()}
    assert kinds == {
        "work": "openai",
        "azure-east": "azure",
        "other-vendor": "compatible",
        "local": "local",
    }
    assert settings.profiles["local"].port == 8765
    assert settings.profiles["local"].local_data_dir == Path("~/ft-local").expanduser()


async def test_azure_profile_builds_an_azure_client(
    cfg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import openai

    cfg.write_text(
        '[profiles.az]\nendpoint = "https://res.openai.azure.com"\n'
        'api_version = "2025-04-01-preview"\napi_key_env = "AZ_KEY"\n'
    )
    monkeypatch.setenv("AZ_KEY", "0123456789abcdef0123456789abcdef")
    conn = connection_for("az")
    client = await conn.client()
    assert isinstance(client, openai.AsyncAzureOpenAI)
    assert "res.openai.azure.com" in str(client.base_url)
    assert conn.profile.describe().endswith("key …cdef")
    await conn.aclose()
