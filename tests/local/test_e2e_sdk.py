"""The whole loop through the unmodified `openai` SDK against the real server (subprocess):
upload → job → events → checkpoints → result CSV → chat (stream and not) → restart → all kept.
Response bodies are checked against the OpenAPI subset's schemas."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import urllib.request
from contextlib import closing
from pathlib import Path
from typing import Any

from tests.local.conftest import API_KEY, TINY, LocalServer, dataset, wait_for_status
from tests.local.schemas import raw_json, validate


def _sse_chunks(server: LocalServer, body: dict[str, Any]) -> list[Any]:
    request = urllib.request.Request(
        server.base_url + "/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        text = response.read().decode()
    payloads = [line[len("data: ") :] for line in text.splitlines() if line.startswith("data: ")]
    assert payloads[-1] == "[DONE]"
    return [json.loads(p) for p in payloads[:-1]]


def test_full_loop_with_the_sync_sdk_survives_a_restart(
    tmp_path: Path, tiny_model_dir: Path
) -> None:
    server = LocalServer(tmp_path / "data", tiny_model_dir, [])
    server.start()
    try:
        client = server.client()
        raw = client.files.with_raw_response.create(
            file=("train.jsonl", dataset(12)), purpose="fine-tune"
        )
        validate(raw_json(raw), "OpenAIFile")
        training = raw.parse()
        assert training.filename == "train.jsonl" and training.bytes == len(dataset(12))
        validation = client.files.create(file=("valid.jsonl", dataset(4)), purpose="fine-tune")

        job = client.fine_tuning.jobs.create(
            model=TINY,
            training_file=training.id,
            validation_file=validation.id,
            suffix="e2e",
            metadata={"team": "tests"},
            method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2}}},
        )
        assert job.status == "validating_files"
        assert job.seed is not None
        done = wait_for_status(client, job.id, {"succeeded", "failed", "cancelled"})
        assert done.status == "succeeded", done.error
        raw_job = client.fine_tuning.jobs.with_raw_response.retrieve(job.id)
        validate(raw_json(raw_job), "FineTuningJob")
        assert done.fine_tuned_model == f"ft:{TINY}:local:e2e:{job.id[-8:]}"
        assert done.trained_tokens and done.trained_tokens > 0
        # "auto" was resolved and written back in both places.
        assert done.hyperparameters.n_epochs == 2
        assert done.hyperparameters.batch_size == 1  # auto for 12 examples
        assert done.method is not None and done.method.supervised is not None
        nested = done.method.supervised.hyperparameters
        assert nested is not None and nested.batch_size == 1
        assert nested.learning_rate_multiplier == 1.0

        # Events: newest first, paged with `after`, OpenAI's lifecycle messages.
        first_page = client.fine_tuning.jobs.list_events(job.id, limit=3)
        validate(
            raw_json(client.fine_tuning.jobs.with_raw_response.list_events(job.id)),
            "ListFineTuningJobEventsResponse",
        )
        assert first_page.has_more is True and len(first_page.data) == 3
        assert first_page.data[0].message == "The job has successfully completed"
        assert (
            first_page.data[1].message == f"New fine-tuned model created: {done.fine_tuned_model}"
        )
        events = list(client.fine_tuning.jobs.list_events(job.id, limit=3))  # auto-paging
        times = [e.created_at for e in events]
        assert times == sorted(times, reverse=True)
        assert len({e.id for e in events}) == len(events)
        messages = [e.message for e in reversed(events)]
        assert messages[0] == f"Created fine-tuning job: {job.id}"
        assert messages[1] == (
            f"Validating training file: {training.id} and validation file: {validation.id}"
        )
        assert "Files validated, moving job to queued state" in messages
        assert "Fine-tuning job started" in messages
        metrics = [e for e in events if e.type == "metrics"]
        assert len(metrics) == 24  # 12 examples x 2 epochs at batch size 1
        assert metrics[0].data["step"] == 24 and metrics[0].data["total_steps"] == 24
        assert "full_valid_loss" in metrics[0].data  # end of an epoch, with a validation file

        # Checkpoints: one per epoch, newest first, usable as models.
        raw_ckpts = client.fine_tuning.jobs.checkpoints.with_raw_response.list(job.id)
        validate(raw_json(raw_ckpts), "ListFineTuningJobCheckpointsResponse")
        checkpoints = raw_ckpts.parse()
        assert [c.step_number for c in checkpoints.data] == [24, 12]
        assert checkpoints.data[1].fine_tuned_model_checkpoint.endswith(":ckpt-step-12")

        # Result file: a fine-tune-results CSV with OpenAI's columns.
        result = client.files.retrieve(done.result_files[0])
        assert result.purpose == "fine-tune-results"
        assert [f.id for f in client.files.list(purpose="fine-tune-results")] == [result.id]
        rows = list(csv.DictReader(io.StringIO(client.files.content(result.id).text)))
        assert list(rows[0]) == [
            "step",
            "train_loss",
            "train_accuracy",
            "valid_loss",
            "valid_mean_token_accuracy",
        ]
        assert [int(r["step"]) for r in rows] == list(range(1, 25))

        # Models: base, fine-tuned and checkpoints, with their parent in model_extra.
        raw_models = client.models.with_raw_response.list()
        validate(raw_json(raw_models), "ListModelsResponse")
        listed = {m.id: m for m in raw_models.parse().data}
        assert TINY in listed and done.fine_tuned_model in listed
        assert listed[done.fine_tuned_model].model_extra["parent"] == TINY
        assert listed[done.fine_tuned_model].model_extra["job_id"] == job.id
        ckpt_model = checkpoints.data[1].fine_tuned_model_checkpoint
        assert listed[ckpt_model].model_extra["step"] == 12

        # Chat with the fine-tuned model: non-stream with usage, stream with include_usage.
        raw_chat = client.chat.completions.with_raw_response.create(
            model=done.fine_tuned_model,
            messages=[{"role": "user", "content": "hello 1"}],
            max_tokens=6,
        )
        validate(raw_json(raw_chat), "CreateChatCompletionResponse")
        reply = raw_chat.parse()
        assert reply.usage is not None and reply.usage.completion_tokens >= 1
        assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens
        chunks = _sse_chunks(
            server,
            {
                "model": ckpt_model,
                "messages": [{"role": "user", "content": "hello 2"}],
                "max_tokens": 5,
                "stream": True,
                "stream_options": {"include_usage": True},
            },
        )
        for chunk in chunks:
            validate(chunk, "CreateChatCompletionStreamResponse")
        assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
        assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] >= 1
        assert chunks[-2]["choices"][0]["finish_reason"] in ("stop", "length")
        streamed = client.chat.completions.create(
            model=done.fine_tuned_model,
            messages=[{"role": "user", "content": "hello 1"}],
            max_tokens=6,
            stream=True,
        )
        pieces = [c.choices[0].delta.content or "" for c in streamed if c.choices]
        assert "".join(pieces)

        # Stop the server and start it again: job, events, files and model are all there.
        server.restart()
        client = server.client()
        again = client.fine_tuning.jobs.retrieve(job.id)
        assert again.status == "succeeded" and again.fine_tuned_model == done.fine_tuned_model
        assert [e.id for e in client.fine_tuning.jobs.list_events(job.id, limit=100)] == [
            e.id for e in events
        ]
        assert {f.id for f in client.files.list()} >= {training.id, validation.id, result.id}
        assert client.files.content(training.id).read() == dataset(12)
        assert client.models.retrieve(done.fine_tuned_model).id == done.fine_tuned_model
        after_restart = client.chat.completions.create(
            model=done.fine_tuned_model,
            messages=[{"role": "user", "content": "hello 1"}],
            max_tokens=4,
        )
        assert after_restart.choices[0].message.role == "assistant"
        jobs = client.fine_tuning.jobs.list(metadata={"team": "tests"})
        assert [j.id for j in jobs.data] == [job.id]

        # Delete the fine-tuned model: gone from the list, its adapter removed from disk.
        adapter = adapter_dir_of(tmp_path / "data", done.fine_tuned_model)
        assert (adapter / "adapter_config.json").is_file()
        deleted = client.models.delete(done.fine_tuned_model)
        assert deleted.deleted is True
        assert done.fine_tuned_model not in {m.id for m in client.models.list()}
        assert not adapter.exists()
    finally:
        server.stop()


def adapter_dir_of(data_dir: Path, model_id: str) -> Path:
    """Where the server keeps a fine-tune's adapter, read from its SQLite file as a user could."""
    with closing(sqlite3.connect(data_dir / "server.sqlite3")) as db:
        row = db.execute("SELECT adapter_dir FROM models WHERE id = ?", (model_id,)).fetchone()
    assert row is not None, f"{model_id} is not in the store"
    return Path(row[0])


async def test_async_sdk_files_jobs_and_chat(local_server: LocalServer) -> None:
    client = local_server.async_client()
    uploaded = await client.files.create(file=("a.jsonl", dataset(10)), purpose="fine-tune")
    assert (await client.files.retrieve(uploaded.id)).bytes == len(dataset(10))
    job = await client.fine_tuning.jobs.create(
        model=TINY,
        training_file=uploaded.id,
        hyperparameters={"n_epochs": 1, "batch_size": 5},  # the deprecated top-level form
    )
    page = await client.fine_tuning.jobs.list(limit=5)
    assert page.data[0].id == job.id
    import asyncio

    for _ in range(600):
        current = await client.fine_tuning.jobs.retrieve(job.id)
        if current.status in ("succeeded", "failed", "cancelled"):
            break
        await asyncio.sleep(0.2)
    assert current.status == "succeeded", current.error
    assert current.hyperparameters.batch_size == 5 and current.hyperparameters.n_epochs == 1
    steps = [e async for e in client.fine_tuning.jobs.list_events(job.id) if e.type == "metrics"]
    assert len(steps) == 2
    stream = await client.chat.completions.create(
        model=str(current.fine_tuned_model),
        messages=[{"role": "user", "content": "hi"}],
        max_tokens=4,
        stream=True,
        stream_options={"include_usage": True},
    )
    usage = None
    async for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
    assert usage is not None and usage.completion_tokens >= 1
    deleted = await client.files.delete(uploaded.id)
    assert deleted.deleted is True
    await client.close()
