"""Datasets with the bundled local model chosen (`m`): no unknown-model warning."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.widgets import Input, Static

from screens.prompts import ModelPrompt
from tests.app.helpers import text_of, wait_until
from tui.app import FtApp


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FT_TUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FT_TUI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


async def test_the_local_default_model_lints_without_warnings(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    rows = [
        {
            "messages": [
                {"role": "system", "content": "Convert units."},
                {"role": "user", "content": f"{i} km in m?"},
                {"role": "assistant", "content": f"{i * 1000} m"},
            ]
        }
        for i in range(1, 13)
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    app = FtApp(path)
    async with app.run_test(size=(100, 30)) as pilot:

        def summary() -> str:
            return text_of(app.screen.query_one("#lint-summary", Static))

        await wait_until(pilot, lambda: "12 examples" in summary())
        assert "· 0 warnings" in summary()  # the OpenAI default model: clean
        await pilot.press("m")
        await wait_until(pilot, lambda: isinstance(app.screen, ModelPrompt))
        app.screen.query_one(Input).value = "HuggingFaceTB/SmolLM2-135M-Instruct"
        await pilot.press("enter")
        title = "#lint-title"
        await wait_until(pilot, lambda: "SmolLM2" in text_of(app.screen.query_one(title, Static)))
        await wait_until(pilot, lambda: "12 examples" in summary() and "warning" in summary())
        assert "· 0 warnings" in summary() and "$0.00" in summary()
