"""Input a hostile or unlucky client sends never breaks the local server (issue 13).

Non-finite numbers, out-of-range hyperparameters, deep JSON, truncated multipart bodies, stalled
bodies and odd filenames each get an OpenAI-shaped 4xx; nothing is stored for a request that got
an error; a non-finite number already in the store is served as null."""

from __future__ import annotations

import http.client
import json
import sqlite3
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import openai
import pytest

from tests.local.conftest import API_KEY, TINY, LocalServer, dataset
from tests.local.raw_http import expect_error as _error
from tests.local.raw_http import raw_request as _request
from tests.local.schemas import validate


def _job_ids(server: LocalServer, *, schema: bool = True) -> list[str]:
    status, body = _request(server, "GET", "/fine_tuning/jobs?limit=100")
    assert status == 200, body
    if schema:  # (a NaN an older server stored comes back as null, which the schema lacks)
        validate(body, "ListPaginatedFineTuningJobsResponse")
    return [job["id"] for job in body["data"]]


def _training_file(server: LocalServer) -> str:
    file_id: str = (
        server.client().files.create(file=("t.jsonl", dataset(10)), purpose="fine-tune").id
    )
    return file_id


@pytest.mark.parametrize("number", ["Infinity", "-Infinity", "NaN", "1e400", "-1e999"])
@pytest.mark.parametrize("where", ["legacy", "method", "seed"])
def test_non_finite_numbers_are_400_and_store_no_job(
    shared_server: LocalServer, number: str, where: str
) -> None:
    training_file = _training_file(shared_server)
    before = _job_ids(shared_server)
    head = f'{{"model": "{TINY}", "training_file": "{training_file}", '
    tails = {
        "legacy": f'"hyperparameters": {{"learning_rate_multiplier": {number}}}}}',
        "method": '"method": {"type": "supervised", "supervised": {"hyperparameters": '
        f'{{"n_epochs": {number}}}}}}}}}',
        "seed": f'"seed": {number}}}',
    }
    raw = (head + tails[where]).encode()
    json.loads(raw)  # Python's json takes it: the server must not
    status, body = _request(shared_server, "POST", "/fine_tuning/jobs", raw)
    error = _error(status, body, 400)
    assert error["code"] == "invalid_number", error
    assert _job_ids(shared_server) == before  # no row for a request that got an error


@pytest.mark.parametrize("value", [1e30, 100.5, 1e6, 0.0, -1.0])
def test_learning_rate_multiplier_is_bounded(shared_server: LocalServer, value: float) -> None:
    training_file = _training_file(shared_server)
    before = _job_ids(shared_server)
    with pytest.raises(openai.BadRequestError) as caught:
        shared_server.client().fine_tuning.jobs.create(
            model=TINY,
            training_file=training_file,
            hyperparameters={"learning_rate_multiplier": value},
        )
    body: Any = caught.value.body
    assert body["param"] == "hyperparameters.learning_rate_multiplier", body
    assert "100" in body["message"] or "> 0" in body["message"]
    assert _job_ids(shared_server) == before


def test_learning_rate_multiplier_of_100_is_accepted(shared_server: LocalServer) -> None:
    client = shared_server.client()
    job = client.fine_tuning.jobs.create(
        model=TINY,
        training_file=_training_file(shared_server),
        hyperparameters={"learning_rate_multiplier": 100, "n_epochs": 1},
    )
    assert job.hyperparameters.learning_rate_multiplier == 100
    client.fine_tuning.jobs.cancel(job.id)


@pytest.mark.parametrize("path", ["/fine_tuning/jobs", "/chat/completions", "/uploads"])
def test_deeply_nested_json_is_400(shared_server: LocalServer, path: str) -> None:
    raw = b'{"model": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    status, body = _request(shared_server, "POST", path, raw)
    error = _error(status, body, 400)
    assert "nested" in error["message"]
    assert _request(shared_server, "GET", "/models")[0] == 200


def _seed_store_with_nan(data_dir: Path) -> str:
    """A store as an older server left it: NaN in a job, an event and a checkpoint."""
    from tui.local.store import Store

    store = Store(data_dir / "server.sqlite3")
    (data_dir / "files").mkdir(parents=True, exist_ok=True)
    store.add_file("file-seeded", size=1, filename="t.jsonl", purpose="fine-tune")
    job = store.add_job(
        model=TINY,
        training_file="file-seeded",
        validation_file=None,
        hyperparameters={"n_epochs": 1, "batch_size": 1, "learning_rate_multiplier": 1.0},
        method={"type": "supervised"},
        seed=1,
        suffix=None,
        metadata=None,
        integrations=None,
    )
    job_id = str(job["id"])
    store.update_job(job_id, status="paused")
    store.add_event(job_id, "Step 2/2: training loss=nan", type="metrics", data={"step": 2})
    store.add_checkpoint(job_id, step=2, metrics={"step": 2.0}, model="ft:tiny:local::x:ckpt-2")
    store.close()
    with sqlite3.connect(data_dir / "server.sqlite3") as conn:  # as the old server wrote them
        conn.execute(
            "UPDATE jobs SET hyperparameters = ?, method = ? WHERE id = ?",
            (
                '{"n_epochs":1,"batch_size":1,"learning_rate_multiplier":Infinity}',
                '{"type":"supervised","supervised":{"hyperparameters":'
                '{"learning_rate_multiplier":NaN}}}',
                job_id,
            ),
        )
        conn.execute('UPDATE events SET data = \'{"step":2,"train_loss":NaN}\'')
        conn.execute('UPDATE checkpoints SET metrics = \'{"step":2.0,"train_loss":NaN}\'')
    return job_id


def test_a_store_holding_nan_still_answers_every_read(tmp_path: Path, tiny_model_dir: Path) -> None:
    data_dir = tmp_path / "server-data"
    job_id = _seed_store_with_nan(data_dir)
    server = LocalServer(data_dir, tiny_model_dir, [])
    server.start()
    try:
        assert _job_ids(server, schema=False) == [job_id]
        status, job = _request(server, "GET", f"/fine_tuning/jobs/{job_id}")
        assert status == 200, job
        assert job["hyperparameters"]["learning_rate_multiplier"] is None
        status, events = _request(server, "GET", f"/fine_tuning/jobs/{job_id}/events")
        assert status == 200, events
        metrics = [e for e in events["data"] if e["type"] == "metrics"]
        assert metrics[0]["data"]["train_loss"] is None
        status, checkpoints = _request(server, "GET", f"/fine_tuning/jobs/{job_id}/checkpoints")
        assert status == 200, checkpoints
        assert checkpoints["data"][0]["metrics"]["train_loss"] is None
        status, cancelled = _request(server, "POST", f"/fine_tuning/jobs/{job_id}/cancel")
        assert status == 200, cancelled
        assert cancelled["status"] == "cancelled"
        server.restart()
        assert _job_ids(server, schema=False) == [job_id]
    finally:
        server.stop()


def _multipart(filename: str, content: bytes, boundary: str = "XyZ") -> bytes:
    return (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nfine-tune\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )


def _post_files(server: LocalServer, body: bytes) -> tuple[int, Any]:
    return _request(
        server, "POST", "/files", body, {"Content-Type": "multipart/form-data; boundary=XyZ"}
    )


def _file_ids(server: LocalServer) -> set[str]:
    return {f.id for f in server.client().files.list()}


@pytest.mark.parametrize("cut", ["closing", "line", "inside-line"])
def test_truncated_multipart_upload_is_400_and_stores_nothing(
    shared_server: LocalServer, cut: str
) -> None:
    body = _multipart("t.jsonl", dataset(20))
    end = body.rindex(b"\r\n--XyZ--")
    cuts = {"closing": len(body) - 4, "line": end - 1, "inside-line": end - 30}
    before = _file_ids(shared_server)
    status, answer = _post_files(shared_server, body[: cuts[cut]])
    error = _error(status, answer, 400)
    assert "closing boundary" in error["message"] or "multipart" in error["message"]
    assert _file_ids(shared_server) == before
    leftovers = [p for p in (shared_server.data_dir / "files").iterdir() if p.name[0] == "."]
    assert leftovers == []
    status, whole = _post_files(shared_server, body)  # the same body, whole, is fine
    assert status == 200 and whole["bytes"] == len(dataset(20))


def test_long_jsonl_filename_keeps_its_extension(shared_server: LocalServer) -> None:
    name = "a" * 1000 + ".jsonl"
    uploaded = shared_server.client().files.create(file=(name, dataset(10)), purpose="fine-tune")
    assert uploaded.filename.endswith(".jsonl") and len(uploaded.filename) <= 255
    assert uploaded.filename.startswith("aaaa")
    upload = shared_server.client().uploads.create(
        bytes=10, filename=name, mime_type="text/jsonl", purpose="fine-tune"
    )
    assert upload.filename.endswith(".jsonl") and len(upload.filename) <= 255
    shared_server.client().uploads.cancel(upload.id)


def test_a_file_named_only_jsonl_gets_a_clear_message(shared_server: LocalServer) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        shared_server.client().files.create(file=(".jsonl", dataset(10)), purpose="fine-tune")
    message = caught.value.message
    assert "'.jsonl'" in message and "name before" in message, message
    assert "got 'jsonl'" not in message


def test_a_stalled_upload_body_times_out(tmp_path: Path, tiny_model_dir: Path) -> None:
    server = LocalServer(tmp_path / "server-data", tiny_model_dir, ["--body-timeout", "2"])
    server.start()
    try:
        url = urllib.parse.urlsplit(server.base_url)
        assert url.hostname is not None and url.port is not None
        body = _multipart("t.jsonl", dataset(20))
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        connection.putrequest("POST", url.path + "/files")
        connection.putheader("Authorization", f"Bearer {API_KEY}")
        connection.putheader("Content-Type", "multipart/form-data; boundary=XyZ")
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders()
        connection.send(body[:100])  # then nothing: the body stalls
        try:
            response = connection.getresponse()
            status, answer = response.status, json.loads(response.read())
        except (TimeoutError, ConnectionError) as exc:  # pragma: no cover - a failure
            raise AssertionError(f"no answer to a stalled body: {exc!r}") from exc
        error = _error(status, answer, 408)
        assert "stalled" in error["message"]
        assert _file_ids(server) == set()
    finally:
        server.stop()
