"""JobsService against the fake: listing, creating, actions, checkpoints, results, models."""

from __future__ import annotations

import base64
from datetime import date
from pathlib import Path

import openai
import pytest

from tests.fake_openai import FakeOpenAI
from tui.services.cache import Cache
from tui.services.connection import connection_for
from tui.services.errors import describe_error
from tui.services.jobs import JobSpec, JobSpecError, JobsService, decode_result_content


async def test_list_jobs_paginates_newest_first(fake_openai: FakeOpenAI) -> None:
    ids = [fake_openai.add_job() for _ in range(5)]
    jobs = JobsService(connection_for())
    first = await jobs.list_jobs(limit=2)
    assert [j.id for j in first.jobs] == ids[::-1][:2] and first.has_more
    rest = await jobs.list_jobs(limit=10, after=first.last_id)
    assert [j.id for j in rest.jobs] == ids[::-1][2:] and not rest.has_more


async def test_create_pause_resume_cancel_and_errors(fake_openai: FakeOpenAI) -> None:
    jobs = JobsService(connection_for())
    train = fake_openai.add_file("train.jsonl", b'{"messages": []}\n')
    spec = JobSpec(
        model="gpt-4o-mini-2024-07-18",
        training_file=train,
        suffix="recipes",
        hyperparameters={"n_epochs": 3, "batch_size": "auto"},
        seed=7,
    )
    job = await jobs.create(spec)
    assert job.status == "validating_files" and job.suffix == "recipes" and job.seed == 7
    assert job.hyperparameters == {"n_epochs": 3, "batch_size": 1, "learning_rate_multiplier": 1.8}
    assert job.error is None
    fake_openai.advance(job.id, 2)
    assert (await jobs.pause(job.id)).status == "paused"
    assert (await jobs.resume(job.id)).status == "queued"
    assert (await jobs.cancel(job.id)).status == "cancelled"
    with pytest.raises(openai.BadRequestError) as caught:
        await jobs.cancel(job.id)
    assert "already cancelled" in str(describe_error(caught.value))
    dpo = await jobs.create(
        JobSpec(
            model="gpt-4.1-mini-2025-04-14",
            training_file=train,
            method="dpo",
            hyperparameters={"beta": 0.1},
        )
    )
    assert dpo.method == "dpo" and dpo.hyperparameters == {
        "batch_size": 1,
        "learning_rate_multiplier": 1.8,
        "n_epochs": 2,
        "beta": 0.1,
    }


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        (JobSpec(model="", training_file="file-1"), "model"),
        (JobSpec(model="m", training_file="f", validation_file="f"), "validation_file"),
        (JobSpec(model="m", training_file="f", suffix="x" * 65), "suffix"),
        (JobSpec(model="m", training_file="f", method="reinforcement"), "method"),
        (JobSpec(model="m", training_file="f", hyperparameters={"n_epochs": 0}), "n_epochs"),
        (JobSpec(model="m", training_file="f", hyperparameters={"n_epochs": 2.5}), "integer"),
        (JobSpec(model="m", training_file="f", hyperparameters={"beta": 0.5}), "beta"),
        (
            JobSpec(model="m", training_file="f", method="dpo", hyperparameters={"beta": 3}),
            "> 0 and <= 2",
        ),
        (
            JobSpec(model="m", training_file="f", hyperparameters={"learning_rate_multiplier": 0}),
            "learning_rate",
        ),
    ],
)
async def test_job_spec_is_checked_before_sending(
    fake_openai: FakeOpenAI, spec: JobSpec, words: str
) -> None:
    jobs = JobsService(connection_for())
    with pytest.raises(JobSpecError, match=words.replace("(", r"\(")):
        await jobs.create(spec)
    assert not any(
        r.path == "/fine_tuning/jobs" and r.method == "POST" for r in fake_openai.requests
    )


async def test_result_csv_is_base64_decoded_and_checkpoints_listed(
    fake_openai: FakeOpenAI,
) -> None:
    job_id = fake_openai.add_job()
    fake_openai.run_to_end(job_id)
    jobs = JobsService(connection_for())
    job = await jobs.retrieve(job_id)
    text = await jobs.result_csv(job)
    assert text is not None and text.splitlines()[0].startswith("step,train_loss,train_accuracy")
    assert len(text.splitlines()) == 21
    plain = fake_openai.add_file("plain.csv", b"step,train_loss\n1,0.5\n", "fine-tune-results")
    assert await jobs.download_file(plain) == b"step,train_loss\n1,0.5\n"
    ckpts = await jobs.checkpoints(job_id)
    assert [c.step_number for c in ckpts] == [20, 10]
    assert ckpts[0].model == job.fine_tuned_model and "ckpt-step-10" in ckpts[1].model
    assert ckpts[0].metrics["train_loss"] > 0


def test_decode_result_content_detects_base64() -> None:
    csv = b"step,train_loss\n1,1.52347\n"
    assert decode_result_content(base64.b64encode(csv)) == csv
    wrapped = base64.encodebytes(csv * 20)  # with line breaks every 76 chars
    assert decode_result_content(wrapped) == csv * 20
    assert decode_result_content(csv) == csv
    assert decode_result_content(b"abcd") == b"abcd"  # base64 alphabet, but not text
    assert decode_result_content(base64.b64encode(b"\xff\xfe\x00")) == base64.b64encode(
        b"\xff\xfe\x00"
    )  # not text once decoded: left alone
    assert decode_result_content(b"") == b""


async def test_models_with_days_left_and_health(fake_openai: FakeOpenAI) -> None:
    job_id = fake_openai.add_job()
    fake_openai.run_to_end(job_id)
    conn = connection_for()
    models = {m.id: m for m in await JobsService(conn).models()}
    today = date(2026, 11, 22)
    ft = next(m for m in models.values() if m.fine_tuned is not None)
    assert ft.fine_tuned is not None and ft.fine_tuned.suffix == "demo"
    assert ft.days_left(today) == 53 and ft.shutdown_label(today) == "53 days left"
    assert models["gpt-4.1-nano-2025-04-14"].days_left(today) == -30
    assert models["gpt-5-chat"].days_left(today) is None
    assert conn.health.label() == "ok"
    fake_openai.fail_next(401)
    with pytest.raises(openai.AuthenticationError):
        await JobsService(conn).models()
    assert conn.health.label().startswith("down: Authentication failed")


async def test_listed_jobs_are_remembered_for_offline_use(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    ids = [fake_openai.add_job() for _ in range(3)]
    jobs = JobsService(connection_for(), Cache(tmp_path / "c.sqlite"))
    assert jobs.cached_jobs() == []
    await jobs.list_jobs()
    fake_openai.stop()
    offline = JobsService(connection_for(), Cache(tmp_path / "c.sqlite"))
    assert [j.id for j in offline.cached_jobs()] == ids[::-1]
    assert offline.cached_jobs()[0].status == "validating_files"
