"""`ft-tui eval` with a model of the `local` profile kind, on the real local server (tiny random
model): the profile resolves to the running `ft-tui serve`, whose answers are scored, and the
local server's cost is 0."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.eval.conftest import sentiment_rows, write_jsonl
from tests.local.conftest import API_KEY, TINY, LocalServer

pytestmark = pytest.mark.local
ROOT = Path(__file__).resolve().parents[2]


def test_eval_reaches_the_local_profile(local_server: LocalServer, tmp_path: Path) -> None:
    port = int(local_server.base_url.rsplit(":", 1)[1].split("/")[0])
    # the server's data dir holds its key, as `ft-tui serve` keeps it when started without one
    (local_server.data_dir / "api_key").write_text(API_KEY + "\n")
    config = tmp_path / "config"
    config.mkdir()
    (config / "config.toml").write_text(
        f'[profiles.box]\ntype = "local"\ndata_dir = "{local_server.data_dir}"\nport = {port}\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "FT_TUI_"))}
    env |= {"FT_TUI_CONFIG_DIR": str(config), "FT_TUI_DATA_DIR": str(tmp_path / "data")}
    data = write_jsonl(tmp_path / "held.jsonl", sentiment_rows(4))
    out = tmp_path / "rows.jsonl"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tui",
            "eval",
            str(data),
            "--model",
            f"box={TINY}",
            "--max-tokens",
            "3",
            "--temperature",
            "0",
            "--json",
            "--out",
            str(out),
        ],  # fmt: skip
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    model = json.loads(proc.stdout)["models"][0]
    assert model["model"] == TINY and model["profile"] == "box"
    assert model["answered"] == 4 and model["errors"] == 0
    assert model["completion_tokens"] > 0 and model["cost_usd"] == 0.0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(isinstance(r["answers"][f"box={TINY}"]["text"], str) for r in rows)
    assert local_server.process is not None and local_server.process.poll() is None  # not ours
