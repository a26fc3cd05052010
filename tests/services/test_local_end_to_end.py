"""The services against the real bundled server: upload, create, follow with the poller until
it succeeds, results, models. A tiny random model trains in seconds (built by the test)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.services.test_local_server import pytestmark as local_marks
from tui.services.cache import Cache
from tui.services.connection import Connection
from tui.services.jobs import JobSpec, JobsService
from tui.services.local_server import LocalServer
from tui.services.poller import JobPoller, JobUpdate, PollerMessage
from tui.services.profiles import Profile
from tui.services.uploads import Uploader

pytestmark = local_marks


def _dataset(path: Path, n: int) -> None:
    import json

    rows = [
        {
            "messages": [
                {"role": "user", "content": f"hello {i}"},
                {"role": "assistant", "content": f"yes {i % 3}"},
            ]
        }
        for i in range(n)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


async def test_upload_train_follow_and_read_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.local.tiny_model import build_tiny_model

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    model_dir = build_tiny_model(tmp_path / "tiny-model")
    server = LocalServer(tmp_path / "srv", extra_args=("--model", f"tiny={model_dir}"))
    profile = Profile(name="local", kind="local", source="built-in", data_dir=tmp_path / "srv")
    conn = Connection(profile, local_server=server)
    try:
        _dataset(tmp_path / "train.jsonl", 10)
        uploaded = await Uploader(conn).upload(tmp_path / "train.jsonl")
        jobs = JobsService(conn)
        spec = JobSpec(
            model="tiny",
            training_file=uploaded.id,
            suffix="e2e",
            hyperparameters={"n_epochs": 1, "batch_size": 5},
        )
        job = await jobs.create(spec)
        messages: list[PollerMessage] = []
        poller = JobPoller(
            conn,
            job.id,
            cache=Cache(tmp_path / "cache.sqlite"),
            fast_interval=0.2,
            slow_interval=0.2,
            on_update=messages.append,
        )
        await poller.run()
        last = messages[-1]
        assert isinstance(last, JobUpdate) and last.finished, messages[-1]
        assert last.job.status == "succeeded", last.job.error
        assert len(poller.metrics) == 2 and poller.metrics.bounds("train_loss") is not None
        assert last.checkpoints is not None and len(last.checkpoints) >= 1
        ids = [e.id for e in poller.events]
        assert len(ids) == len(set(ids))
        csv = await jobs.result_csv(last.job)
        assert csv is not None and csv.startswith("step,")
        models = {m.id for m in await jobs.models()}
        assert last.job.fine_tuned_model in models
    finally:
        await conn.aclose()
    assert not server.alive()
