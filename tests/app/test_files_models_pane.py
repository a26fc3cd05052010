"""Mode 4's Models tab is its own widget (`ModelsPane`) that follows the app's profile: switched
through the palette's real "Use profile" command from another mode, it lists the new backend's
models and forgets the old one's. And the Files tab's footer fits 80 columns."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import OptionList, Static
from textual.widgets._footer import FooterKey

from screens.files_models import ModelsPane
from screens.help import KeysScreen
from tests.app.helpers import text_of, wait_until
from tests.fake_openai.fixture import fake_openai
from tests.fake_openai.server import FakeOpenAI
from tui.app import FtApp
from tui.services.connection import connection_for
from tui.widgets.models_table import ModelsTable

__all__ = ["fake_openai"]


@pytest.fixture
def other_backend() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI().start()
    try:
        yield fake
    finally:
        fake.stop()


def _fine_tune(fake: FakeOpenAI, suffix: str) -> str:
    job_id = fake.add_job(suffix=suffix)
    fake.run_to_end(job_id)
    return str(fake.job(job_id).data["fine_tuned_model"])


def _model_ids(app: FtApp) -> set[str]:
    return {entry.id for entry in app.screen.query_one(ModelsTable).models}


async def _use_profile(app: FtApp, pilot: Pilot[None], name: str) -> None:
    """The palette's "Use profile" command, typed and chosen as a user does."""
    await pilot.press("ctrl+p")
    await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
    await pilot.press(*f"Use profile: {name}")
    options = app.screen.query_one(OptionList)
    await wait_until(pilot, lambda: options.highlighted is not None)
    await pilot.press("enter")
    await wait_until(pilot, lambda: app.connection.profile.name == name)


async def test_a_profile_switch_reloads_the_models_tab_from_the_new_backend(
    fake_openai: FakeOpenAI, other_backend: FakeOpenAI, tmp_path: Path
) -> None:
    config = tmp_path / "fake-config" / "config.toml"  # where the fixture points the settings
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        "".join(
            f'[profiles.{name}]\nbase_url = "{fake.base_url}"\napi_key_env = "OPENAI_API_KEY"\n'
            for name, fake in (("first", fake_openai), ("second", other_backend))
        )
    )
    first = _fine_tune(fake_openai, "alpha")
    second = _fine_tune(other_backend, "beta")
    app = FtApp(tmp_path, connection=connection_for())  # the environment's profile: first
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("4")
        await wait_until(pilot, lambda: bool(app.screen.query(ModelsPane)))
        files_screen = app.screen
        await pilot.press("m")
        await wait_until(pilot, lambda: first in _model_ids(app))

        # switched in mode 1 while mode 4 shows its Models tab: the pane lists at once
        await pilot.press("1")
        await wait_until(pilot, lambda: app.current_mode == "datasets")
        await _use_profile(app, pilot, "second")
        await pilot.press("4")
        await wait_until(pilot, lambda: app.screen is files_screen)
        await wait_until(pilot, lambda: second in _model_ids(app))
        assert first not in _model_ids(app)
        status = text_of(app.screen.query_one("#models-status", Static))
        assert status.startswith("all kinds · ") and "model" in status
        detail = text_of(app.screen.query_one("#model-detail", Static))
        assert second in detail  # the selected row is the new backend's fine-tune

        # switched while the Files tab shows: the old models are gone, and the Models tab
        # lists the other backend when the user comes back to it
        await pilot.press("f")
        await _use_profile(app, pilot, "first")
        await wait_until(pilot, lambda: second not in _model_ids(app))
        await pilot.press("m")
        await wait_until(pilot, lambda: first in _model_ids(app))
        assert second not in _model_ids(app)


def _footer(app: FtApp) -> tuple[list[FooterKey], FooterKey]:
    keys = list(app.screen.query(FooterKey))
    palette = [k for k in keys if k.has_class("-command-palette")]
    return [k for k in keys if not k.has_class("-command-palette")], palette[0]


async def test_every_footer_key_of_both_tabs_is_visible_at_80_columns(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    app = FtApp(tmp_path, connection=connection_for())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("4")
        await wait_until(pilot, lambda: bool(app.screen.query(ModelsPane)))
        for tab, wanted in (
            ("f", {"Preview", "Download", "Upload", "Purpose", "Delete", "Keys"}),
            ("m", {"Chat", "Kind", "Golden set", "Export", "Delete", "Keys"}),
        ):
            await pilot.press(tab)

            def shown(wanted: set[str] = wanted) -> bool:
                return {str(k.description) for k in _footer(app)[0]} == wanted

            await wait_until(pilot, shown)
            keys, palette = _footer(app)
            for key in keys:  # whole, left of "^p palette", inside the 80 columns
                assert key.region.width > 0, key.description
                assert key.region.right <= palette.region.x <= 80, key.description

        # the keys the footer leaves out are still listed by `?`, as the screen's own
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, KeysScreen))
        text = text_of(app.screen.query_one("#keys-table", Static))
        own = text[: text.index("Everywhere")]
        rows = [line.strip().split(maxsplit=1) for line in own.splitlines() if line.strip()]
        for letter, action in (("f", "Files"), ("m", "Models"), ("r", "Refresh"), ("y", "Copy id")):
            assert [letter, action] in rows, action
