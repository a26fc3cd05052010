"""Bad input gets an OpenAI-shaped 4xx with a clear message, never a 500 or a traceback."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from typing import Any

import openai
import pytest

from tests.local.conftest import API_KEY, TINY, LocalServer, dataset, wait_for_status
from tests.local.raw_http import expect_error as _error
from tests.local.raw_http import raw_request as _request
from tests.local.schemas import raw_json, validate


def test_wrong_or_missing_key_is_401(shared_server: LocalServer) -> None:
    status, body = _request(shared_server, "GET", "/files", headers={"Authorization": "Bearer no"})
    assert "Incorrect API key" in _error(status, body, 401)["message"]
    status, body = _request(shared_server, "GET", "/models", headers={"Authorization": ""})
    assert "didn't provide an API key" in _error(status, body, 401)["message"]
    with pytest.raises(openai.AuthenticationError):
        shared_server.client(api_key="wrong").models.list()


def test_health_needs_no_key_but_checks_one_that_is_sent(shared_server: LocalServer) -> None:
    url = shared_server.base_url.removesuffix("/v1") + "/health"
    with urllib.request.urlopen(url, timeout=10) as response:
        assert json.loads(response.read())["status"] == "ok"
    right = urllib.request.Request(url, headers={"Authorization": f"Bearer {API_KEY}"})
    with urllib.request.urlopen(right, timeout=10) as response:
        assert response.status == 200
    wrong = urllib.request.Request(url, headers={"Authorization": "Bearer another-servers-key"})
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(wrong, timeout=10)
    assert error.value.code == 401


@pytest.mark.parametrize("path", ["/fine_tuning/jobs", "/chat/completions"], ids=["jobs", "chat"])
@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b"", b"\xff\xfe"])
def test_malformed_json_bodies_are_400(shared_server: LocalServer, path: str, raw: bytes) -> None:
    status, body = _request(shared_server, "POST", path, raw)
    error = _error(status, body, 400)
    assert error["type"] == "invalid_request_error" and error["message"]


def test_unknown_url_and_method_are_openai_shaped(shared_server: LocalServer) -> None:
    status, body = _request(shared_server, "GET", "/nope")
    assert "Unknown request URL" in _error(status, body, 404)["message"]
    status, body = _request(shared_server, "PUT", "/files")
    _error(status, body, 405)


def test_unknown_ids_are_404(shared_server: LocalServer) -> None:
    client = shared_server.client()
    with pytest.raises(openai.NotFoundError) as file_error:
        client.files.retrieve("file-missing")
    assert file_error.value.body["code"] == "file_not_found"  # type: ignore[index]
    with pytest.raises(openai.NotFoundError):
        client.files.content("file-missing")
    with pytest.raises(openai.NotFoundError):
        client.fine_tuning.jobs.retrieve("ftjob-missing")
    with pytest.raises(openai.NotFoundError):
        client.fine_tuning.jobs.list_events("ftjob-missing")
    with pytest.raises(openai.NotFoundError):
        client.fine_tuning.jobs.cancel("ftjob-missing")
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("ft:tiny:local::nothere1")
    with pytest.raises(openai.NotFoundError) as chat_error:
        client.chat.completions.create(
            model="ft:tiny:local::nothere1", messages=[{"role": "user", "content": "hi"}]
        )
    body: Any = chat_error.value.body
    assert body["code"] == "model_not_found"
    assert body["message"] == (
        "The model `ft:tiny:local::nothere1` does not exist or you do not have access to it."
    )


def test_base_models_cannot_be_deleted(shared_server: LocalServer) -> None:
    with pytest.raises(openai.PermissionDeniedError):
        shared_server.client().models.delete(TINY)
    assert TINY in {m.id for m in shared_server.client().models.list()}


def test_oversized_upload_is_413_and_leaves_nothing(shared_server: LocalServer) -> None:
    client = shared_server.client()
    before = {f.id for f in client.files.list()}
    with pytest.raises(openai.APIStatusError) as error:
        client.files.create(file=("big.jsonl", b"x" * (4 * 1024 * 1024)), purpose="fine-tune")
    assert error.value.status_code == 413
    assert "too large" in error.value.message
    assert {f.id for f in client.files.list()} == before
    leftovers = [p for p in (shared_server.data_dir / "files").iterdir() if p.name.startswith(".")]
    assert leftovers == []


@pytest.mark.parametrize(
    "name", ["../../etc/passwd.jsonl", "..\\..\\boot.jsonl", "/abs/path/x.jsonl", "a\x00b.jsonl"]
)
def test_path_traversal_names_are_only_echoed(shared_server: LocalServer, name: str) -> None:
    client = shared_server.client()
    uploaded = client.files.create(file=(name, dataset(10)), purpose="fine-tune")
    assert "/" not in uploaded.filename and "\\" not in uploaded.filename
    assert "\x00" not in uploaded.filename and uploaded.filename.endswith(".jsonl")
    stored = shared_server.data_dir / "files" / uploaded.id
    assert stored.read_bytes() == dataset(10)
    assert client.files.content(uploaded.id).read() == dataset(10)


def test_upload_purpose_and_format_are_checked(shared_server: LocalServer) -> None:
    client = shared_server.client()
    with pytest.raises(openai.BadRequestError) as purpose:
        client.files.create(file=("a.jsonl", dataset(10)), purpose="assistants")
    assert purpose.value.body["param"] == "purpose"  # type: ignore[index]
    with pytest.raises(openai.BadRequestError) as extension:
        client.files.create(file=("a.csv", b"a,b\n"), purpose="fine-tune")
    assert "Must be .jsonl" in extension.value.message
    status, body = _request(shared_server, "POST", "/files", b"purpose=fine-tune")
    _error(status, body, 400)


def test_concurrent_uploads_all_land(shared_server: LocalServer) -> None:
    client = shared_server.client()
    ids: list[str] = []
    errors: list[BaseException] = []

    def upload(i: int) -> None:
        try:
            payload = dataset(10 + i)
            created = client.files.create(file=(f"c{i}.jsonl", payload), purpose="fine-tune")
            assert client.files.content(created.id).read() == payload
            ids.append(created.id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(ids)) == 12
    assert set(ids) <= {f.id for f in client.files.list()}


def test_files_list_orders_and_pages(shared_server: LocalServer) -> None:
    client = shared_server.client()
    made = [
        client.files.create(file=(f"p{i}.jsonl", dataset(10)), purpose="fine-tune").id
        for i in range(3)
    ]
    newest = client.files.list(limit=2, order="desc")
    assert [f.id for f in newest.data] == made[::-1][:2] and newest.has_more
    older = client.files.list(limit=2, order="desc", after=newest.data[-1].id)
    assert older.data[0].id == made[0]
    oldest_first = [f.id for f in client.files.list(order="asc")]
    assert oldest_first.index(made[0]) < oldest_first.index(made[2])
    with pytest.raises(openai.BadRequestError):
        client.files.list(order="sideways")


def _job_error(server: LocalServer, **kwargs: Any) -> dict[str, Any]:
    client = server.client()
    with pytest.raises(openai.BadRequestError) as error:
        client.fine_tuning.jobs.create(**kwargs)
    body: dict[str, Any] = error.value.body  # type: ignore[assignment]
    return body


@pytest.mark.parametrize(
    ("hyper", "param"),
    [
        ({"n_epochs": 0}, "method.supervised.hyperparameters.n_epochs"),
        ({"n_epochs": 51}, "method.supervised.hyperparameters.n_epochs"),
        ({"batch_size": 257}, "method.supervised.hyperparameters.batch_size"),
        ({"batch_size": 2.5}, "method.supervised.hyperparameters.batch_size"),
        (
            {"learning_rate_multiplier": 0},
            "method.supervised.hyperparameters.learning_rate_multiplier",
        ),
        (
            {"learning_rate_multiplier": "fast"},
            "method.supervised.hyperparameters.learning_rate_multiplier",
        ),
        ({"beta": 0.1}, "method.supervised.hyperparameters.beta"),
    ],
)
def test_out_of_range_hyperparameters_name_the_param(
    shared_server: LocalServer, hyper: dict[str, Any], param: str
) -> None:
    client = shared_server.client()
    training = client.files.create(file=("t.jsonl", dataset(10)), purpose="fine-tune")
    body = _job_error(
        shared_server,
        model=TINY,
        training_file=training.id,
        method={"type": "supervised", "supervised": {"hyperparameters": hyper}},
    )
    assert body["param"] == param


def test_job_creation_checks_every_field(shared_server: LocalServer) -> None:
    client = shared_server.client()
    training = client.files.create(file=("t.jsonl", dataset(10)), purpose="fine-tune").id
    ok = {"model": TINY, "training_file": training}
    assert _job_error(shared_server, **(ok | {"model": "gpt-9"}))["param"] == "model"
    assert _job_error(shared_server, **(ok | {"training_file": "file-nope"}))["param"] == (
        "training_file"
    )
    assert _job_error(shared_server, **(ok | {"suffix": "bad:suffix"}))["param"] == "suffix"
    assert _job_error(shared_server, **(ok | {"suffix": "x" * 65}))["param"] == "suffix"
    assert _job_error(shared_server, **(ok | {"hyperparameters": {"n_epochs": 99}}))["param"] == (
        "hyperparameters.n_epochs"
    )
    many = {f"k{i}": "v" for i in range(17)}
    assert _job_error(shared_server, **(ok | {"metadata": many}))["param"] == "metadata"
    dpo = _job_error(shared_server, **(ok | {"method": {"type": "dpo"}}))  # a chat file
    assert dpo["param"] == "training_file" and dpo["code"] == "file_format_mismatch"
    rft = _job_error(shared_server, **(ok | {"method": {"type": "reinforcement"}}))
    assert rft["code"] == "unsupported_method"
    unknown = _job_error(shared_server, **ok, extra_body={"colour": "blue"})
    assert unknown["message"] == "Unrecognized request argument supplied: colour"
    assert client.fine_tuning.jobs.list().data == [] or all(
        j.training_file != "file-nope" for j in client.fine_tuning.jobs.list()
    )


def test_chat_parameters_are_checked(shared_server: LocalServer) -> None:
    client = shared_server.client()
    hi = [{"role": "user", "content": "hi"}]
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=TINY, messages=[])
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=TINY, messages=[{"role": "robot", "content": "x"}])
    with pytest.raises(openai.BadRequestError) as n_error:
        client.chat.completions.create(model=TINY, messages=hi, n=0)
    assert n_error.value.body["param"] == "n"  # type: ignore[index]
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=TINY, messages=hi, temperature=5)
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=TINY, messages=hi, max_tokens=0)


def test_bad_training_files_fail_the_job_with_openai_codes(shared_server: LocalServer) -> None:
    client = shared_server.client()
    few = client.files.create(file=("few.jsonl", dataset(3)), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(model=TINY, training_file=few.id)
    failed = wait_for_status(client, job.id, {"failed", "succeeded"})
    assert failed.status == "failed" and failed.error is not None
    assert failed.error.code == "invalid_n_examples"
    assert failed.error.param == "training_file"
    assert failed.error.message == (
        "Training file has 3 example(s), but must have at least 10 examples"
    )
    latest = client.fine_tuning.jobs.list_events(job.id, limit=1).data[0]
    assert latest.level == "error" and latest.message == failed.error.message

    broken = dataset(10) + b'{"messages": [{"role": "user", "content": "no answer"}\n'
    bad = client.files.create(file=("bad.jsonl", broken), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(model=TINY, training_file=bad.id)
    failed = wait_for_status(client, job.id, {"failed", "succeeded"})
    assert failed.error is not None and failed.error.code == "invalid_training_file"
    assert "Line 11" in failed.error.message
    assert failed.error.message.startswith("The job failed due to an invalid training file.")
    with pytest.raises(openai.ConflictError):
        client.fine_tuning.jobs.cancel(job.id)
    with pytest.raises(openai.ConflictError):
        client.fine_tuning.jobs.resume(job.id)


def test_expiring_uploads_are_checked_and_dated(shared_server: LocalServer) -> None:
    client = shared_server.client()
    dated = client.files.create(
        file=("e.jsonl", dataset(10)),
        purpose="fine-tune",
        expires_after={"anchor": "created_at", "seconds": 3600},
    )
    assert dated.expires_at is not None and dated.expires_at - dated.created_at in (3600, 3601)
    with pytest.raises(openai.BadRequestError) as error:
        client.files.create(
            file=("e.jsonl", dataset(10)),
            purpose="fine-tune",
            expires_after={"anchor": "created_at", "seconds": 10},
        )
    assert error.value.body["param"] == "expires_after"  # type: ignore[index]


def test_oversized_json_bodies_are_413(shared_server: LocalServer) -> None:
    huge = b'{"model": "' + b"x" * (16 * 1024 * 1024 + 10) + b'"}'
    status, body = _request(shared_server, "POST", "/chat/completions", huge)
    assert _error(status, body, 413)["code"] == "request_too_large"


def test_failed_jobs_and_file_lists_match_the_spec(shared_server: LocalServer) -> None:
    client = shared_server.client()
    few = client.files.create(file=("few.jsonl", dataset(2)), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(model=TINY, training_file=few.id)
    wait_for_status(client, job.id, {"failed"})
    validate(raw_json(client.fine_tuning.jobs.with_raw_response.retrieve(job.id)), "FineTuningJob")
    validate(
        raw_json(client.fine_tuning.jobs.with_raw_response.list()),
        ("ListPaginatedFineTuningJobsResponse"),
    )
    validate(raw_json(client.files.with_raw_response.list()), "ListFilesResponse")
    validate(raw_json(client.files.with_raw_response.delete(few.id)), "DeleteFileResponse")
    validate(raw_json(client.models.with_raw_response.retrieve(TINY)), "Model")
