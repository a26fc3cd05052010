"""The training engine as a user sees it through the real SDK and a real `ft-tui serve`:
several processes, DPO, continued training, local-only hyperparameters."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import openai
import pytest

from tests.local.conftest import (
    API_KEY,
    ROOT,
    TINY,
    LocalServer,
    _server,
    dataset,
    wait_for_status,
)

# Processes sum their float32 gradients in another order (gloo all-reduce), so losses agree to
# about 1e-6 relative; 1e-3 leaves room and would still catch a wrong batch or normalisation.
LOSS_TOLERANCE = 1e-3
PIN = {"n_epochs": 2, "batch_size": 4, "learning_rate_multiplier": 10.0, "lora_dropout": 0.0}


def _train(server: LocalServer, hyper: dict[str, Any], *, seed: int = 7) -> tuple[Any, list[Any]]:
    client = server.client()
    training = client.files.create(file=("t.jsonl", dataset(12)), purpose="fine-tune").id
    job = client.fine_tuning.jobs.create(
        model=TINY,
        training_file=training,
        seed=seed,
        method={"type": "supervised", "supervised": {"hyperparameters": hyper}},
    )
    done = wait_for_status(client, job.id, {"succeeded", "failed", "cancelled"}, timeout=600)
    events = list(client.fine_tuning.jobs.list_events(job.id, limit=1000))[::-1]
    return done, events


def _losses(events: list[Any]) -> list[float]:
    return [float(e.data["train_loss"]) for e in events if e.type == "metrics"]


@pytest.fixture(scope="module")
def two_process_server(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Any:
    yield from _server(tmp_path_factory.mktemp("ddp"), tiny_model_dir, ["--train-processes", "2"])


def test_two_processes_train_like_one(
    two_process_server: LocalServer, shared_server: LocalServer
) -> None:
    done, events = _train(two_process_server, PIN)
    assert done.status == "succeeded", done.error
    messages = [e.message for e in events]
    started = messages.index("Fine-tuning job started")
    assert messages[started + 1] == "Training on 2 processes (DDP, gloo)"
    single, single_events = _train(shared_server, PIN)
    assert single.status == "succeeded", single.error
    assert next(m.message for m in single_events if m.message.startswith("Training on")) == (
        "Training on 1 process (cpu, fp32)"
    )
    many, one = _losses(events), _losses(single_events)
    assert len(many) == len(one) == 6  # 2 epochs x 12 / 4
    assert many == pytest.approx(one, rel=LOSS_TOLERANCE)
    checkpoints = two_process_server.client().fine_tuning.jobs.checkpoints.list(done.id).data
    assert sorted(c.step_number for c in checkpoints) == [3, 6]  # rank 0 alone wrote them
    reply = two_process_server.client().chat.completions.create(
        model=done.fine_tuned_model,
        messages=[{"role": "user", "content": "hello 1"}],
        max_tokens=4,
    )
    assert reply.choices[0].message.content is not None


def test_local_hyperparameters_are_checked_and_echoed(shared_server: LocalServer) -> None:
    client = shared_server.client()
    training = client.files.create(file=("t.jsonl", dataset(12)), purpose="fine-tune").id
    bad = [
        ({"lora_r": "eight"}, "lora_r"),
        ({"lora_r": 0}, "lora_r"),
        ({"lora_dropout": 1.5}, "lora_dropout"),
        ({"warmup_ratio": -0.1}, "warmup_ratio"),
        ({"quantization": "3bit"}, "quantization"),
        ({"packing": "yes"}, "packing"),
        ({"lora_target_modules": []}, "lora_target_modules"),
        ({"max_seq_length": 4.5}, "max_seq_length"),
    ]
    for hyper, name in bad:
        with pytest.raises(openai.BadRequestError) as caught:
            client.fine_tuning.jobs.create(
                model=TINY,
                training_file=training,
                method={"type": "supervised", "supervised": {"hyperparameters": hyper}},
            )
        error = caught.value.body
        assert isinstance(error, dict)
        assert error["param"] == f"method.supervised.hyperparameters.{name}", error
        assert error["code"] == "invalid_hyperparameters"
        assert name in error["message"]
    hyper = {"n_epochs": 1, "lora_r": 4, "lora_alpha": 8, "lora_target_modules": ["q_proj"]}
    done, events = _train(shared_server, hyper | {"max_seq_length": 64, "warmup_ratio": 0.2})
    assert done.status == "succeeded", done.error
    echoed = done.method.supervised.hyperparameters.model_dump()
    assert echoed["lora_r"] == 4 and echoed["lora_alpha"] == 8
    assert echoed["lora_target_modules"] == ["q_proj"]
    assert echoed["max_seq_length"] == 64 and echoed["warmup_ratio"] == 0.2
    assert echoed["lora_dropout"] == 0.05 and echoed["quantization"] is None
    assert echoed["batch_size"] == 1  # auto, resolved
    adapter = json.loads(
        next(
            (shared_server.data_dir / "jobs" / done.id).glob("adapter/adapter_config.json")
        ).read_text()
    )
    assert adapter["r"] == 4 and adapter["target_modules"] == ["q_proj"]


def _preference_file(n: int) -> bytes:
    lines = [
        {
            "input": {"messages": [{"role": "user", "content": f"colour {i}?"}]},
            "preferred_output": [{"role": "assistant", "content": "blue"}],
            "non_preferred_output": [{"role": "assistant", "content": f"red {i}"}],
        }
        for i in range(n)
    ]
    return ("\n".join(json.dumps(line) for line in lines) + "\n").encode()


def test_dpo_job_and_file_mismatches(shared_server: LocalServer) -> None:
    client = shared_server.client()
    pairs = client.files.create(file=("p.jsonl", _preference_file(12)), purpose="fine-tune").id
    chat = client.files.create(file=("c.jsonl", dataset(12)), purpose="fine-tune").id
    with pytest.raises(openai.BadRequestError) as caught:
        client.fine_tuning.jobs.create(model=TINY, training_file=pairs)  # SFT on pairs
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"] == "file_format_mismatch"
    assert caught.value.body["param"] == "training_file"
    with pytest.raises(openai.BadRequestError) as caught:
        client.fine_tuning.jobs.create(
            model=TINY, training_file=chat, method={"type": "dpo"}
        )  # DPO on chat lines
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"] == "file_format_mismatch"
    job = client.fine_tuning.jobs.create(
        model=TINY,
        training_file=pairs,
        validation_file=pairs,
        method={
            "type": "dpo",
            "dpo": {"hyperparameters": {"beta": 0.2, "n_epochs": 1, "batch_size": 4}},
        },
    )
    done = wait_for_status(client, job.id, {"succeeded", "failed", "cancelled"}, timeout=600)
    assert done.status == "succeeded", done.error
    assert done.method.dpo.hyperparameters.beta == 0.2
    metrics = [
        e.data
        for e in client.fine_tuning.jobs.list_events(job.id, limit=100)
        if e.type == "metrics"
    ]
    assert len(metrics) == 3
    last = max(metrics, key=lambda m: m["step"])
    for key in ("train_loss", "train_reward_margin", "train_reward_accuracy", "valid_loss"):
        assert key in last
    reply = client.chat.completions.create(
        model=done.fine_tuned_model, messages=[{"role": "user", "content": "colour 1?"}]
    )
    assert reply.choices[0].message.content is not None


def test_continued_training_starts_from_the_fine_tunes_adapter(
    shared_server: LocalServer,
) -> None:
    client = shared_server.client()
    first, first_events = _train(shared_server, PIN)
    assert first.status == "succeeded", first.error
    training = client.files.create(file=("t.jsonl", dataset(12)), purpose="fine-tune").id
    job = client.fine_tuning.jobs.create(
        model=first.fine_tuned_model,
        training_file=training,
        seed=7,
        method={"type": "supervised", "supervised": {"hyperparameters": PIN}},
    )
    done = wait_for_status(client, job.id, {"succeeded", "failed", "cancelled"}, timeout=600)
    assert done.status == "succeeded", done.error
    assert done.model == first.fine_tuned_model
    assert done.fine_tuned_model.startswith(f"ft:{TINY}:local:")
    events = list(client.fine_tuning.jobs.list_events(job.id, limit=100))[::-1]
    # It starts where the first job ended, not from the base: its first loss is far lower.
    assert _losses(events)[0] < _losses(first_events)[0] - 0.5
    with pytest.raises(openai.BadRequestError) as caught:
        client.fine_tuning.jobs.create(model="ft:tiny:local::gone1234", training_file=training)
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"] == "model_not_available"


def test_a_bad_accelerate_config_stops_serve_with_one_line(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("distributed_type: [unclosed\n")
    result = subprocess.run(
        [sys.executable, "-m", "tui", "serve", "--port", "0", "--api-key", API_KEY]
        + ["--data-dir", str(tmp_path / "data"), "--accelerate-config", str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "accelerate config" in lines[0] and "not valid" in lines[0]
    assert "Traceback" not in result.stderr


def test_a_launch_that_cannot_start_fails_the_job_with_its_reason(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    config = tmp_path / "deepspeed.yaml"  # readable, but DeepSpeed is not installed here
    config.write_text(
        "compute_environment: LOCAL_MACHINE\ndistributed_type: DEEPSPEED\n"
        "deepspeed_config:\n  zero_stage: 2\nnum_machines: 1\nnum_processes: 2\n"
        "mixed_precision: 'no'\n"
    )
    for server in _server(tmp_path, tiny_model_dir, ["--accelerate-config", str(config)]):
        client = server.client()
        training = client.files.create(file=("t.jsonl", dataset(12)), purpose="fine-tune").id
        job = client.fine_tuning.jobs.create(model=TINY, training_file=training)
        done = wait_for_status(client, job.id, {"succeeded", "failed", "cancelled"}, timeout=300)
        assert done.status == "failed"
        assert done.error.code == "training_launch_failed", done.error
        assert "launcher.log" in done.error.message
