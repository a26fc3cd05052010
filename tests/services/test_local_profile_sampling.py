"""`[profiles.local] sampling` in config.toml: default sampling per base model for the server
ft-tui starts (`ft-tui serve --sampling`), applied to chats that leave them out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.services.test_local_profile_models import cfg  # noqa: F401 - the fixture
from tests.services.test_local_server import pytestmark as local_marks
from tui.services.connection import Connection
from tui.services.profiles import ProfileError, load_settings, select_profile

pytestmark = local_marks


async def test_profile_sampling_reaches_the_auto_started_server(
    cfg: Path,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    from tests.local.tiny_model import build_tiny_model

    tiny = build_tiny_model(tmp_path / "tiny")
    cfg.write_text(
        "[profiles.local]\n"
        f'data_dir = "{tmp_path / "srv"}"\n'
        f'models = ["greedy={tiny}", "plain={tiny}"]\n'
        "sampling = { greedy = { temperature = 0 } }\n"
    )
    profile = select_profile()
    assert profile.local_server_args[-2:] == ("--sampling", "greedy:temperature=0")
    conn = Connection(profile)
    hi: Any = [{"role": "user", "content": "hello"}]
    try:
        client = await conn.client()

        async def answers(model: str, **kwargs: Any) -> set[str | None]:
            replies = [
                await client.chat.completions.create(
                    model=model, messages=hi, max_tokens=8, seed=seed, **kwargs
                )
                for seed in range(3)
            ]
            return {r.choices[0].message.content for r in replies}

        greedy = await answers("greedy", temperature=0)
        assert len(greedy) == 1
        assert await answers("greedy") == greedy  # the profile's temperature 0 applied
        assert len(await answers("plain")) > 1  # no setting: temperature 1 samples
    finally:
        await conn.aclose()


@pytest.mark.parametrize(
    "line",
    [
        'sampling = "hot"',
        "sampling = { m = 0.2 }",
        "sampling = { m = { top_k = 3 } }",
        'sampling = { m = { temperature = "low" } }',
        "sampling = { m = { temperature = true } }",
        "sampling = { m = {} }",
    ],
)
def test_bad_sampling_settings_name_the_field(cfg: Path, line: str) -> None:  # noqa: F811
    cfg.write_text(f"[profiles.local]\n{line}\n")
    with pytest.raises(ProfileError) as caught:
        load_settings()
    assert caught.value.line == 2 and "must be a table of model name = {" in str(caught.value)
