"""`[profiles.local] models` and `chat_templates` in config.toml reach the server ft-tui starts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import openai
import pytest

from tests.services.test_local_server import pytestmark as local_marks
from tui.services.connection import Connection
from tui.services.local_server import LocalServerUnavailable
from tui.services.profiles import ProfileError, load_settings, select_profile

pytestmark = local_marks


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "FT_TUI_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("FT_TUI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("FT_TUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    (tmp_path / "config").mkdir()
    return tmp_path / "config" / "config.toml"


async def test_the_config_models_list_reaches_the_auto_started_server(
    cfg: Path, tmp_path: Path
) -> None:
    from tests.local.tiny_model import TINY_CHAT_TEMPLATE, build_tiny_model

    tiny = build_tiny_model(tmp_path / "tiny")
    bare = tmp_path / "bare"
    shutil.copytree(tiny, bare, ignore=shutil.ignore_patterns("chat_template.jinja"))
    (tmp_path / "chatml.jinja").write_text(TINY_CHAT_TEMPLATE)
    cfg.write_text(
        "[profiles.local]\n"
        f'data_dir = "{tmp_path / "srv"}"\n'
        f'models = ["mytiny={tiny}", "{bare}"]\n'
        f'chat_templates = {{ bare = "{tmp_path / "chatml.jinja"}" }}\n'
    )
    ok = {"role": "assistant", "content": "ok"}
    profile = select_profile()
    assert profile.is_local and profile.models == (f"mytiny={tiny}", str(bare))
    conn = Connection(profile)
    try:
        client = await conn.client()
        listed = {m.id: m.model_dump() for m in (await client.models.list()).data}
        assert listed["mytiny"]["source"] == "folder" and listed["mytiny"]["downloaded"] is True
        assert listed["bare"]["source"] == "folder"
        rows = "".join(
            json.dumps({"messages": [{"role": "user", "content": f"hi {i}"}, ok]}) + "\n"
            for i in range(10)
        )
        upload = await client.files.create(file=("t.jsonl", rows.encode()), purpose="fine-tune")
        # `bare` has no template of its own: accepted only thanks to chat_templates.
        job = await client.fine_tuning.jobs.create(model="bare", training_file=upload.id)
        assert job.model == "bare"
        await client.fine_tuning.jobs.cancel(job.id)
        with pytest.raises(openai.BadRequestError) as unknown:
            await client.fine_tuning.jobs.create(model="not-listed", training_file=upload.id)
        assert "mytiny" in str(unknown.value)
    finally:
        await conn.aclose()


async def test_a_bad_model_in_the_config_is_explained_when_the_server_starts(
    cfg: Path, tmp_path: Path
) -> None:
    cfg.write_text(
        f'[profiles.local]\ndata_dir = "{tmp_path / "srv"}"\nmodels = ["x=/no/such/folder"]\n'
    )
    conn = Connection(select_profile())
    try:
        with pytest.raises(LocalServerUnavailable) as caught:
            await conn.client()
        assert "no such folder /no/such/folder" in str(caught.value)
    finally:
        await conn.aclose()


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ('models = "owner/name"', "must be a list of model sources"),
        ("models = [1]", "must be a list of model sources"),
        ('chat_templates = ["a"]', "must be a table of model name"),
    ],
)
def test_bad_models_settings_name_the_field(cfg: Path, line: str, words: str) -> None:
    cfg.write_text(f"[profiles.local]\n{line}\n")
    with pytest.raises(ProfileError) as caught:
        load_settings()
    assert caught.value.line == 2 and words in str(caught.value)
