"""Bad input the engine meets only when it runs, through the real SDK and a real `ft-tui serve`:
a job that does not fit in memory, and accelerate configs that cannot work."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.local.conftest import (
    API_KEY,
    ROOT,
    TINY,
    LocalServer,
    dataset,
    long_examples,
    wait_for_status,
)

# A trainer of the tiny model peaks at ~2.5 GiB of address space (torch, TRL and their threads);
# the oversized job below asks for one 16 GiB block. 6 GiB sits well between the two.
ADDRESS_SPACE_LIMIT = 6 * 2**30


def _limit_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))


def test_a_job_that_does_not_fit_in_memory_fails_with_out_of_memory(
    tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The whole batch in one forward pass: 256 rows of 512 tokens.
    monkeypatch.setenv("FT_TUI_TRAIN_TOKEN_BUDGET", str(256 * 512))
    server = LocalServer(tmp_path / "server-data", tiny_model_dir, [])
    server.preexec = _limit_address_space  # like `ulimit -v`; the trainer inherits it
    server.start()
    try:
        client = server.client()
        big = client.files.create(file=("big.jsonl", long_examples(256)), purpose="fine-tune")
        job = client.fine_tuning.jobs.create(
            model=TINY,
            training_file=big.id,
            method={
                "type": "supervised",
                "supervised": {"hyperparameters": {"n_epochs": 1, "batch_size": 256}},
            },
        )
        done = wait_for_status(client, job.id, {"succeeded", "failed", "cancelled"}, timeout=300)
        assert done.status == "failed"
        assert done.error.code == "out_of_memory", done.error
        assert "16.0 GiB" in done.error.message
        assert "lower batch_size or max_seq_length" in done.error.message
        last = client.fine_tuning.jobs.list_events(job.id, limit=1).data[0]
        assert last.level == "error" and last.message == done.error.message
        # The same server, under the same limit, trains a job of a sensible size.
        small = client.files.create(file=("small.jsonl", dataset(10)), purpose="fine-tune")
        ok = client.fine_tuning.jobs.create(
            model=TINY, training_file=small.id, hyperparameters={"n_epochs": 1}
        )
        finished = wait_for_status(client, ok.id, {"succeeded", "failed", "cancelled"}, 300)
        assert finished.status == "succeeded", finished.error
    finally:
        server.stop()
    assert "Traceback" not in server.stderr()
    assert "alloc_cpu" not in done.error.message  # torch's wording stays out of the job


def _trainer_pid(server_pid: int) -> int | None:
    """The spawned trainer child of the server (not multiprocessing's resource tracker)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == server_pid and b"spawn_main" in cmdline:
            return int(stat.parent.name)
    return None


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the trainer in /proc")
def test_a_trainer_the_kernel_kills_fails_its_job_naming_the_oom_killer(
    local_server: LocalServer,
) -> None:
    client = local_server.client()
    training = client.files.create(file=("t.jsonl", dataset(40)), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(
        model=TINY, training_file=training.id, hyperparameters={"n_epochs": 10, "batch_size": 1}
    )
    deadline = time.monotonic() + 300
    while not any(e.type == "metrics" for e in client.fine_tuning.jobs.list_events(job.id)):
        assert time.monotonic() < deadline, "the job never trained a step"
        time.sleep(0.2)
    assert local_server.process is not None
    pid = _trainer_pid(local_server.process.pid)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)  # what the out-of-memory killer sends
    done = wait_for_status(client, job.id, {"succeeded", "failed", "cancelled"}, timeout=120)
    assert done.status == "failed"
    assert done.error.code == "trainer_killed", done.error
    assert "killed by SIGKILL" in done.error.message
    assert "out-of-memory killer" in done.error.message and "batch_size" in done.error.message
    assert client.fine_tuning.jobs.list().data  # the server answers on
    assert "Traceback" not in local_server.stderr()


def _serve_with_config(tmp_path: Path, text: str, *extra: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "accelerate.yaml"
    config.write_text(text)
    return subprocess.run(
        [sys.executable, "-m", "tui", "serve", "--port", "0", "--api-key", API_KEY]
        + ["--data-dir", str(tmp_path / "data"), "--accelerate-config", str(config), *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


CPU_NODE = (
    "compute_environment: LOCAL_MACHINE\ndistributed_type: MULTI_GPU\nmixed_precision: 'no'\n"
)


@pytest.mark.parametrize(
    ("text", "extra", "says"),
    [
        ("distributed_type: BANANA\n", (), "'BANANA' is not a valid DistributedType"),
        ("- MULTI_GPU\n- 2\n", (), "must be a mapping of accelerate settings"),
        (CPU_NODE + "num_processes: two\n", (), "num_processes must be a whole number"),
        (CPU_NODE + "num_machines: 2\nnum_processes: 3\n", (), "multiple of num_machines"),
        (CPU_NODE + "num_machines: 2\nmachine_rank: 2\nnum_processes: 2\n", (), "machine_rank"),
        (
            CPU_NODE + "num_machines: 2\nnum_processes: 2\nmain_process_ip: 127.0.0.1\n",
            ("--train-processes", "3"),
            "--train-processes 3 is not a multiple of num_machines (2)",
        ),
        (CPU_NODE + "num_machines: 2\nnum_processes: 2\n", (), "main_process_ip"),
        (
            CPU_NODE.replace("MULTI_GPU", "MULTI_CPU") + "num_processes: 2\n",
            (),
            "use distributed_type MULTI_GPU",
        ),
    ],
)
def test_an_unusable_accelerate_config_stops_serve_with_one_line(
    tmp_path: Path, text: str, extra: tuple[str, ...], says: str
) -> None:
    result = _serve_with_config(tmp_path, text, *extra)
    assert result.returncode == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ft-tui serve: accelerate config ") and says in lines[0]
    assert "Traceback" not in result.stderr


def test_batch_size_fits_the_number_of_training_processes(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    server = LocalServer(tmp_path / "server-data", tiny_model_dir, ["--train-processes", "2"])
    server.start()
    try:
        client = server.client()
        training = client.files.create(file=("t.jsonl", dataset(12)), purpose="fine-tune").id
        odd = client.fine_tuning.jobs.create(
            model=TINY, training_file=training, hyperparameters={"batch_size": 3}
        )
        failed = wait_for_status(client, odd.id, {"succeeded", "failed", "cancelled"}, 120)
        assert failed.status == "failed"
        assert failed.error.code == "invalid_hyperparameters", failed.error
        assert "batch_size (3)" in failed.error.message and "2" in failed.error.message
        messages = [e.message for e in client.fine_tuning.jobs.list_events(odd.id)]
        assert "Fine-tuning job started" not in messages  # refused before any process starts
        # "auto" (1 for 12 examples on one process) becomes a batch every process gets a share of.
        auto = client.fine_tuning.jobs.create(
            model=TINY, training_file=training, hyperparameters={"n_epochs": 1}
        )
        done = wait_for_status(client, auto.id, {"succeeded", "failed", "cancelled"}, 600)
        assert done.status == "succeeded", done.error
        assert done.hyperparameters.batch_size == 2
    finally:
        server.stop()
