"""F12 log: convert/split/fix say what they wrote, HTTP request lines stay out, and wrapped lines
keep every character at 80 columns."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import RichLog

from tests.app.helpers import wait_until
from tui.app import FtApp
from tui.core import log_buffer


@pytest.fixture
def buffer(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[log_buffer.LogBuffer]:
    monkeypatch.setenv("FT_TUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FT_TUI_CONFIG_DIR", str(tmp_path / "config"))
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, logging.getLogger("httpx").level)
    saved_httpx2 = logging.getLogger("httpx2").level
    installed = log_buffer.install()
    yield installed
    root.removeHandler(installed)
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])
    logging.getLogger("httpx").setLevel(saved[2])
    logging.getLogger("httpx2").setLevel(saved_httpx2)


def _shown(app: FtApp) -> tuple[str, int, int]:
    log = app.screen.query_one(RichLog)
    text = "".join(strip.text for strip in log.lines)
    widest = max((strip.cell_length for strip in log.lines), default=0)
    return text, widest, log.scrollable_content_region.width


async def test_http_requests_stay_out_and_long_lines_wrap_whole(
    buffer: log_buffer.LogBuffer, tmp_path: Path
) -> None:
    for name in ("httpx", "httpx2"):  # the openai SDK logs through its own httpx2
        logging.getLogger(name).info('HTTP Request: GET http://127.0.0.1/v1/models "HTTP/1.1 200"')
    long = "convert wrote " + "/".join(f"folder{i}" for i in range(40)) + "/end.jsonl"
    for i in range(40):
        logging.getLogger("ft-tui.test").info("line %d", i)
    logging.getLogger("ft-tui.test").warning(long)
    app = FtApp(tmp_path, log_buffer=buffer)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f12")
        await wait_until(pilot, lambda: bool(app.screen.query(RichLog)))
        await wait_until(pilot, lambda: "end.jsonl" in _shown(app)[0])
        text, widest, width = _shown(app)
        assert "HTTP Request" not in text
        assert long.replace(" ", "") in text.replace(" ", "")  # nothing cut at the wrap
        assert widest <= width


async def test_split_logs_what_it_wrote(buffer: log_buffer.LogBuffer, tmp_path: Path) -> None:
    import json

    path = tmp_path / "data.jsonl"
    rows = [
        {"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": "a"}]}
        for i in range(20)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    app = FtApp(path, log_buffer=buffer)
    async with app.run_test(size=(80, 24)) as pilot:
        datasets = app.screen
        await wait_until(pilot, lambda: getattr(datasets, "index", None) is not None)
        await pilot.press("s")
        await wait_until(pilot, lambda: app.screen is not datasets)
        await pilot.press("ctrl+r")  # write
        await wait_until(pilot, lambda: any("wrote" in line.message for line in buffer.lines()))
        messages = [line.message for line in buffer.lines()]
        wrote = next(m for m in messages if "wrote" in m)
        assert "data.train.jsonl" in wrote or "train" in wrote
