"""The HTTP test double speaks the protocol the real SDK expects (other suites build on it)."""

from __future__ import annotations

import asyncio
import base64

import openai
import pytest

from tests.fake_openai import FakeOpenAI


def _client(fake: FakeOpenAI) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=fake.base_url, api_key=fake.api_key, max_retries=0)


async def test_scripted_job_life_through_the_sdk(fake_openai: FakeOpenAI) -> None:
    client = _client(fake_openai)
    job_id = fake_openai.add_job()
    job = await client.fine_tuning.jobs.retrieve(job_id)
    assert job.status == "validating_files" and job.error is not None and job.error.code is None
    statuses = []
    for _ in range(20):
        fake_openai.advance(job_id)
        statuses.append((await client.fine_tuning.jobs.retrieve(job_id)).status)
    assert statuses[:2] == ["queued", "running"]
    assert "paused" in statuses and statuses[-1] == "succeeded"
    job = await client.fine_tuning.jobs.retrieve(job_id)
    assert job.fine_tuned_model and job.fine_tuned_model.startswith("ft:gpt-4o-mini-2024-07-18:")
    events = [e async for e in client.fine_tuning.jobs.list_events(job_id, limit=7)]
    assert len(events) == len({e.id for e in events}) == len(fake_openai.job(job_id).events)
    assert [e.created_at for e in events] == sorted((e.created_at for e in events), reverse=True)
    assert sum(e.type == "metrics" for e in events) == 20
    assert any(e.type == "moderation_checks" for e in events)
    ckpts = await client.fine_tuning.jobs.checkpoints.list(job_id)
    assert [c.step_number for c in ckpts.data] == [20, 10]
    raw = await client.files.content(job.result_files[0])
    assert base64.b64decode(raw.read()).startswith(b"step,train_loss,train_accuracy")
    models = {m.id: m for m in (await client.models.list()).data}
    assert models[job.fine_tuned_model].shutdown_date == "2027-01-14"


async def test_failure_script_and_job_actions(fake_openai: FakeOpenAI) -> None:
    client = _client(fake_openai)
    failing = fake_openai.add_job(script="failure")
    fake_openai.advance(failing)
    job = await client.fine_tuning.jobs.retrieve(failing)
    assert job.status == "failed" and job.error and job.error.code == "invalid_n_examples"
    file_id = (await client.files.create(file=("t.jsonl", b'{"a":1}\n'), purpose="fine-tune")).id
    created = await client.fine_tuning.jobs.create(
        model="gpt-4o-mini-2024-07-18", training_file=file_id
    )
    fake_openai.advance(created.id, 2)
    assert str((await client.fine_tuning.jobs.pause(created.id)).status) == "paused"
    fake_openai.advance(created.id, 5)  # held while paused by the user
    assert str((await client.fine_tuning.jobs.retrieve(created.id)).status) == "paused"
    assert (await client.fine_tuning.jobs.resume(created.id)).status == "queued"
    fake_openai.advance(created.id)
    assert (await client.fine_tuning.jobs.retrieve(created.id)).status == "running"
    assert (await client.fine_tuning.jobs.cancel(created.id)).status == "cancelled"
    with pytest.raises(openai.BadRequestError):
        await client.fine_tuning.jobs.cancel(created.id)
    with pytest.raises(openai.NotFoundError):
        await client.fine_tuning.jobs.retrieve("ftjob-missing")


async def test_injected_errors_and_bad_key(fake_openai: FakeOpenAI) -> None:
    client = _client(fake_openai)
    fake_openai.fail_next(429, path_contains="/models")
    with pytest.raises(openai.RateLimitError):
        await client.models.list()
    fake_openai.fail_next(500)
    with pytest.raises(openai.InternalServerError):
        await client.models.list()
    fake_openai.drop_next()
    with pytest.raises(openai.APIConnectionError):
        await client.models.list()
    assert (await client.models.list()).data
    bad = openai.AsyncOpenAI(base_url=fake_openai.base_url, api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        await bad.models.list()


async def test_chat_stream_plain_404_and_drop(fake_openai: FakeOpenAI) -> None:
    client = _client(fake_openai)
    fake_openai.chat.reply = "one two three"
    msgs: list[openai.types.chat.ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]
    reply = await client.chat.completions.create(model="gpt-5-chat", messages=msgs)
    assert reply.choices[0].message.content == "one two three"
    stream = await client.chat.completions.create(model="gpt-5-chat", messages=msgs, stream=True)
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == "one two three"
    with pytest.raises(openai.NotFoundError) as caught:
        await client.chat.completions.create(model="nope", messages=msgs)
    assert caught.value.code == "model_not_found"
    fake_openai.chat.drop_after = 2
    stream = await client.chat.completions.create(model="gpt-5-chat", messages=msgs, stream=True)
    got: list[str] = []
    with pytest.raises(Exception):  # noqa: B017 - the transport's own error type
        async for chunk in stream:
            got.append(chunk.choices[0].delta.content or "")
    assert "".join(got) == "one"


async def test_uploads_in_parts(fake_openai: FakeOpenAI) -> None:
    client = _client(fake_openai)
    upload = await client.uploads.create(
        bytes=6, filename="x.jsonl", mime_type="text/jsonl", purpose="fine-tune"
    )
    p1 = await client.uploads.parts.create(upload.id, data=b"abc")
    p2 = await client.uploads.parts.create(upload.id, data=b"def")
    done = await client.uploads.complete(upload.id, part_ids=[p1.id, p2.id])
    assert done.status == "completed" and done.file is not None
    assert (await client.files.content(done.file.id)).read() == b"abcdef"


async def test_delayed_answers_time_out_and_auto_advance_moves_jobs(
    fake_openai: FakeOpenAI,
) -> None:
    from tui.services.errors import describe_error

    client = openai.AsyncOpenAI(
        base_url=fake_openai.base_url, api_key=fake_openai.api_key, max_retries=0, timeout=0.2
    )
    fake_openai.delay_next(0.6, path_contains="/models")
    with pytest.raises(openai.APITimeoutError) as caught:
        await client.models.list()
    message = describe_error(caught.value)
    assert message.title == "Timed out" and message.retryable
    job_id = fake_openai.add_job()
    fake_openai.start_auto_advance(0.05)
    for _ in range(100):
        if fake_openai.job(job_id).status != "validating_files":
            break
        await asyncio.sleep(0.02)
    fake_openai.stop_auto_advance()
    assert fake_openai.job(job_id).status != "validating_files"
