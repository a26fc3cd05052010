"""Multi-node training as the README documents it, with two "machines" on loopback: node 0 is
`ft-tui serve --accelerate-config node0.yaml`, node 1 runs the `accelerate launch` command the
job's event names, with its own config. One process per node, gloo over 127.0.0.1."""

from __future__ import annotations

import os
import resource
import shlex
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pytest

from tests.local.conftest import ROOT, TINY, LocalServer, dataset, long_examples, wait_for_status

# Same global batch (4) and seed as a 1-process run: gloo sums the float32 gradients of the two
# nodes in another order, so losses agree to ~1e-6 relative (see test_server_engine.py).
LOSS_TOLERANCE = 1e-3
PIN = {"n_epochs": 2, "batch_size": 4, "learning_rate_multiplier": 10.0, "lora_dropout": 0.0}
JOIN = "on each run: "


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _node_config(path: Path, rank: int, port: int) -> Path:
    path.write_text(
        "compute_environment: LOCAL_MACHINE\n"
        "distributed_type: MULTI_GPU\n"  # accelerate's torchrun launcher; gloo on CPU
        "mixed_precision: 'no'\n"
        "num_machines: 2\n"
        "num_processes: 2\n"
        f"machine_rank: {rank}\n"
        "main_process_ip: 127.0.0.1\n"
        f"main_process_port: {port}\n"
    )
    return path


def _train(client: Any, *, seed: int = 7, epochs: int = 2) -> str:
    training = client.files.create(file=("t.jsonl", dataset(12)), purpose="fine-tune").id
    hyper = PIN | {"n_epochs": epochs}
    job = client.fine_tuning.jobs.create(
        model=TINY,
        training_file=training,
        seed=seed,
        method={"type": "supervised", "supervised": {"hyperparameters": hyper}},
    )
    return str(job.id)


def _events(client: Any, job_id: str) -> list[Any]:
    return list(client.fine_tuning.jobs.list_events(job_id, limit=1000))[::-1]


def _join_message(client: Any, job_id: str, timeout: float = 120.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for event in _events(client, job_id):
            if JOIN in event.message:
                return str(event.message)
        time.sleep(0.2)
    raise AssertionError(f"no event says how to join job {job_id}")


def _losses(events: list[Any]) -> list[float]:
    return [float(e.data["train_loss"]) for e in events if e.type == "metrics"]


def _join(
    server: LocalServer,
    job_id: str,
    message: str,
    config: Path,
    cwd: Path,
    preexec: Callable[[], None] | None = None,
) -> subprocess.Popen[str]:
    """Node 1 runs the command from the job's event, with its own config, as a user would."""
    command = shlex.split(message.split(JOIN, 1)[1])
    assert command[:3] == ["accelerate", "launch", "--config_file"]
    assert command[-2:] == [
        str(server.data_dir / "jobs" / job_id / "launch"),
        str(server.data_dir / "server.sqlite3"),
    ]
    command[0] = str(Path(sys.executable).parent / "accelerate")
    command[3] = str(config)
    return subprocess.Popen(
        command,
        cwd=cwd,
        env=dict(os.environ, OMP_NUM_THREADS="1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=preexec,
    )


@pytest.mark.slow
def test_two_nodes_on_loopback_train_one_job_as_documented(
    tmp_path: Path, tiny_model_dir: Path, shared_server: LocalServer
) -> None:
    port = _free_port()
    node0 = _node_config(tmp_path / "node0.yaml", 0, port)
    node1 = _node_config(tmp_path / "node1.yaml", 1, port)
    server = LocalServer(
        tmp_path / "shared-disk", tiny_model_dir, ["--accelerate-config", str(node0)]
    )
    server.start()
    joined: subprocess.Popen[str] | None = None
    try:
        client = server.client()
        job_id = _train(client)
        message = _join_message(client, job_id)
        assert message.startswith("Waiting for 1 more machine to join (`ft-tui train-node`")
        joined = _join(server, job_id, message, node1, tmp_path)
        done = wait_for_status(client, job_id, {"succeeded", "failed", "cancelled"}, timeout=600)
        node1_output, _ = joined.communicate(timeout=120)
        assert done.status == "succeeded", (done.error, node1_output[-2000:])
        assert joined.returncode == 0, node1_output[-2000:]
        events = _events(client, job_id)
        messages = [e.message for e in events]
        assert messages.count("Training on 2 processes (DDP, gloo)") == 1
        # Rank 0 (node 0) alone reported: each step once, each epoch's checkpoint once.
        steps = [e.data["step"] for e in events if e.type == "metrics"]
        assert steps == [1, 2, 3, 4, 5, 6]
        checkpoints = client.fine_tuning.jobs.checkpoints.list(job_id).data
        assert sorted(c.step_number for c in checkpoints) == [3, 6]
        reply = client.chat.completions.create(
            model=done.fine_tuned_model,
            messages=[{"role": "user", "content": "hello 1"}],
            max_tokens=4,
        )
        assert reply.choices[0].message.content is not None
    finally:
        if joined is not None and joined.poll() is None:
            joined.kill()
            joined.wait(10)
        server.stop()
    # The two nodes trained like one process with the same global batch.
    single_client = shared_server.client()
    single = _train(single_client)
    finished = wait_for_status(single_client, single, {"succeeded", "failed"}, timeout=600)
    assert finished.status == "succeeded", finished.error
    assert _losses(events) == pytest.approx(
        _losses(_events(single_client, single)), rel=LOSS_TOLERANCE
    )
    assert "Traceback" not in server.stderr()


# A rank of the tiny model under DDP runs at ~3.1 GiB of address space; with 64 rows of 512
# tokens in one forward pass it asks for one more 2 GiB block. 4 GiB lets it start and not that.
NODE1_ADDRESS_SPACE = 4 * 2**30


def _limit_node1() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (NODE1_ADDRESS_SPACE, NODE1_ADDRESS_SPACE))


@pytest.mark.slow
def test_a_node_that_runs_out_of_memory_fails_the_job_with_its_reason(
    tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Node 1 has less memory than node 0 (here: `ulimit -v` on node 1 alone). Node 0's rank
    # only learns that its peer went away; the job must say what happened on node 1.
    monkeypatch.setenv("FT_TUI_TRAIN_TOKEN_BUDGET", str(64 * 512))  # both nodes' environment
    port = _free_port()
    node0 = _node_config(tmp_path / "node0.yaml", 0, port)
    node1 = _node_config(tmp_path / "node1.yaml", 1, port)
    server = LocalServer(
        tmp_path / "shared-disk", tiny_model_dir, ["--accelerate-config", str(node0)]
    )
    server.start()
    joined: subprocess.Popen[str] | None = None
    try:
        client = server.client()
        training = client.files.create(file=("t.jsonl", long_examples(128)), purpose="fine-tune")
        job = client.fine_tuning.jobs.create(
            model=TINY,
            training_file=training.id,
            method={
                "type": "supervised",
                "supervised": {"hyperparameters": {"n_epochs": 1, "batch_size": 128}},
            },
        )
        message = _join_message(client, job.id)
        joined = _join(server, job.id, message, node1, tmp_path, preexec=_limit_node1)
        done = wait_for_status(client, job.id, {"succeeded", "failed", "cancelled"}, timeout=600)
        node1_output, _ = joined.communicate(timeout=120)
        assert done.status == "failed", node1_output[-2000:]
        assert done.error.code == "out_of_memory", (done.error, node1_output[-2000:])
        assert done.error.message.startswith("Rank 1: Out of memory while training")
        assert "lower batch_size" in done.error.message
        assert joined.returncode != 0
    finally:
        if joined is not None and joined.poll() is None:
            joined.kill()
            joined.wait(10)
        server.stop()
    assert "Traceback" not in server.stderr()


def _command_lines() -> list[bytes]:
    lines = []
    for path in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            lines.append(path.read_bytes())
        except OSError:
            continue
    return lines


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="reads /proc")
def test_a_job_waiting_for_its_other_machine_can_be_cancelled(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    port = _free_port()
    node0 = _node_config(tmp_path / "node0.yaml", 0, port)
    server = LocalServer(
        tmp_path / "shared-disk", tiny_model_dir, ["--accelerate-config", str(node0)]
    )
    server.start()
    try:
        client = server.client()
        first = _train(client)
        _join_message(client, first)  # node 1 never comes
        client.fine_tuning.jobs.cancel(first)
        assert wait_for_status(client, first, {"cancelled", "failed"}, 60).status == "cancelled"
        # Nothing of the launch is left waiting on the port.
        launch = str(server.data_dir / "jobs" / first / "launch").encode()
        assert not [c for c in _command_lines() if launch in c]
    finally:
        server.stop()
    assert "Traceback" not in server.stderr()


def _line(stream: IO[str], timeout: float = 120.0) -> str:
    """The next line of a child's output, failing instead of hanging when none comes."""
    box: list[str] = []
    reader = threading.Thread(target=lambda: box.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    assert box, f"no output line within {timeout} s"
    return box[0]


@pytest.mark.slow
def test_one_train_node_command_joins_every_job(tmp_path: Path, tiny_model_dir: Path) -> None:
    port = _free_port()
    node0 = _node_config(tmp_path / "node0.yaml", 0, port)
    node1 = _node_config(tmp_path / "node1.yaml", 1, port)
    server = LocalServer(
        tmp_path / "shared-disk", tiny_model_dir, ["--accelerate-config", str(node0)]
    )
    server.start()
    agent = subprocess.Popen(
        [sys.executable, "-m", "tui", "train-node", "--data-dir", str(server.data_dir)]
        + ["--accelerate-config", str(node1)],
        cwd=tmp_path,
        env=dict(os.environ, OMP_NUM_THREADS="1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert agent.stdout is not None
        assert "waiting for training runs" in _line(agent.stdout)
        client = server.client()
        for _ in range(2):  # started once, it serves one job after another
            job_id = _train(client, epochs=1)
            done = wait_for_status(client, job_id, {"succeeded", "failed", "cancelled"}, 600)
            assert done.status == "succeeded", done.error
            assert agent.poll() is None
            assert f"joining job {job_id}" in _line(agent.stdout)
            assert "exit code 0" in _line(agent.stdout)
            # The run is over: nothing is left for a late node to join.
            assert not (server.data_dir / "jobs" / job_id / "launch" / "request.json").exists()
    finally:
        agent.terminate()
        agent.wait(30)
        server.stop()


@pytest.mark.parametrize(
    ("rank", "says"),
    [(0, "needs machine_rank 1 or more"), (1, "not an ft-tui serve data dir")],
)
def test_train_node_refuses_what_cannot_join(tmp_path: Path, rank: int, says: str) -> None:
    config = _node_config(tmp_path / "node.yaml", rank, _free_port())
    result = subprocess.run(
        [sys.executable, "-m", "tui", "train-node", "--data-dir", str(tmp_path / "nowhere")]
        + ["--accelerate-config", str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and says in result.stderr


def _worker(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("RANK", "FT_TUI_SERVER_PID")}
    return subprocess.run(
        [sys.executable, "-m", "tui.local.training.worker", *args],
        cwd=ROOT,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_node_command_that_cannot_join_says_why_and_writes_nothing(tmp_path: Path) -> None:
    run_dir = tmp_path / "jobs" / "ftjob-x" / "launch"
    run_dir.mkdir(parents=True)
    db = tmp_path / "server.sqlite3"
    db.write_bytes(b"")
    # Typed on a node whose launcher starts no distributed run (e.g. MULTI_CPU without mpirun):
    alone = _worker([str(run_dir), str(db)], {})
    assert alone.returncode == 2
    assert alone.stderr.strip().splitlines() == [alone.stderr.strip()]
    assert "not started as a rank of a distributed run" in alone.stderr
    assert "distributed_type MULTI_GPU" in alone.stderr
    # Typed before node 0 has started the job:
    early = _worker([str(run_dir), str(db)], {"RANK": "1"})
    assert early.returncode == 2 and "request.json is missing" in early.stderr
    assert "Traceback" not in alone.stderr + early.stderr
    assert db.read_bytes() == b"" and sorted(p.name for p in run_dir.iterdir()) == []
