"""Model inventory against the fake OpenAI server: jobs joined to models, checkpoints, shutdown
dates inherited from the base model, and a backend that refuses to list jobs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import openai
import pytest

from tests.fake_openai.server import FakeOpenAI
from tui.core.model_names import BASE, CHECKPOINT, FINE_TUNED
from tui.services.model_inventory import ModelInventoryService


@pytest.fixture
async def client(fake_openai: FakeOpenAI) -> AsyncIterator[openai.AsyncOpenAI]:
    client = openai.AsyncOpenAI(
        base_url=fake_openai.base_url, api_key=fake_openai.api_key, max_retries=0
    )
    yield client
    await client.close()


async def test_fine_tuned_models_carry_their_job_and_checkpoints_follow_them(
    fake_openai: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    job_id = fake_openai.add_job()
    fake_openai.run_to_end(job_id)
    model = str(fake_openai.job(job_id).data["fine_tuned_model"])
    inventory = await ModelInventoryService(client).load()
    entries = inventory.entries
    assert entries[0].id == model and entries[0].kind == FINE_TUNED
    assert entries[0].job_id == job_id and entries[0].base == "gpt-4o-mini-2024-07-18"
    assert entries[0].shutdown_date == date(2027, 1, 14)
    assert entries[0].days_left(date(2026, 12, 15)) == 30
    checkpoints = [e for e in entries if e.kind == CHECKPOINT]
    assert checkpoints and all(c.job_id == job_id for c in checkpoints)
    assert entries[1 : 1 + len(checkpoints)] == checkpoints  # right under their model
    assert [c.step for c in checkpoints] == sorted((c.step or 0 for c in checkpoints), reverse=True)
    base = inventory.find("gpt-4.1-nano-2025-04-14")
    assert base is not None and base.kind == BASE and base.job_id is None
    assert base.shutdown_date == date(2026, 10, 23) and not base.deletable
    assert inventory.find("gpt-5-chat") is not None
    assert inventory.find("gpt-5-chat").shutdown_date is None  # type: ignore[union-attr]


async def test_models_without_a_date_inherit_their_base_models_date(
    fake_openai: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    fake_openai.state.models["ft:gpt-4.1-nano-2025-04-14:acme:legacy:abcd1234"] = None
    fake_openai.state.models["ft:gpt-4o-mini:acme::zzzz9999"] = None  # alias of the snapshot
    fake_openai.state.models["ft:unknown-base:acme::qqqq0000"] = None
    inventory = await ModelInventoryService(client).load()
    legacy = inventory.find("ft:gpt-4.1-nano-2025-04-14:acme:legacy:abcd1234")
    alias = inventory.find("ft:gpt-4o-mini:acme::zzzz9999")
    orphan = inventory.find("ft:unknown-base:acme::qqqq0000")
    assert legacy is not None and legacy.inherited_date
    assert legacy.shutdown_date == date(2026, 10, 23)
    assert alias is not None and alias.shutdown_date == date(2027, 1, 14)
    assert orphan is not None and orphan.shutdown_date is None and orphan.deletable


async def test_models_still_list_when_jobs_cannot_be_listed(
    fake_openai: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    job_id = fake_openai.add_job()
    fake_openai.run_to_end(job_id)
    fake_openai.fail_next(403, path_contains="/fine_tuning/jobs")
    inventory = await ModelInventoryService(client).load()
    tuned = [e for e in inventory.entries if e.kind == FINE_TUNED]
    assert tuned and tuned[0].job_id is None
    assert inventory.notes and "job column partial" in inventory.notes[0]


async def test_delete_removes_the_model(
    fake_openai: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    job_id = fake_openai.add_job()
    fake_openai.run_to_end(job_id)
    model = str(fake_openai.job(job_id).data["fine_tuned_model"])
    service = ModelInventoryService(client)
    assert await service.delete(model)
    assert (await service.load()).find(model) is None


class _AzureLikeClient:
    """Just enough of the SDK surface: Azure's `/models` shape, and no jobs endpoint."""

    def __init__(self, models: list[dict[str, object]]) -> None:
        from types import SimpleNamespace

        from openai.types import Model

        async def list_models() -> SimpleNamespace:
            return SimpleNamespace(data=[Model.model_validate(m) for m in models])

        async def list_jobs(**_kwargs: object) -> None:
            raise RuntimeError("fine-tuning jobs are not offered here")

        self.models = SimpleNamespace(list=list_models)
        self.fine_tuning = SimpleNamespace(jobs=SimpleNamespace(list=list_jobs))


async def test_azure_deprecation_dates_become_shutdown_dates() -> None:
    client: Any = _AzureLikeClient(
        [
            {
                "id": "gpt-4o-mini-2024-07-18",
                "object": "model",
                "created": 1721260800,
                "owned_by": "system",
                "deprecation": {"fine_tune": 1767225600, "inference": 1799884800},
            },
            {
                "id": "gpt-4o-mini-2024-07-18.ft-0123456789abcdef",
                "object": "model",
                "created": 1730000000,
                "owned_by": "organization-owner",
                "base_model": "gpt-4o-mini-2024-07-18",
            },
        ]
    )
    inventory = await ModelInventoryService(client).load()
    base = inventory.find("gpt-4o-mini-2024-07-18")
    tuned = inventory.find("gpt-4o-mini-2024-07-18.ft-0123456789abcdef")
    assert base is not None and base.shutdown_date == date(2027, 1, 14)
    assert tuned is not None and tuned.inherited_date
    assert tuned.shutdown_date == date(2027, 1, 14)
    assert inventory.notes  # the job column is partial, and the user is told


async def test_a_just_finished_model_the_server_does_not_list_yet_is_shown_as_coming(
    fake_openai: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    job_id = fake_openai.add_job()
    fake_openai.run_to_end(job_id)
    model = str(fake_openai.job(job_id).data["fine_tuned_model"])
    fake_openai.state.deleted_models.add(model)  # finished, but not listed (yet)
    entry = (await ModelInventoryService(client).load()).find(model)
    assert entry is not None and not entry.served and entry.job_id == job_id
    assert not entry.deletable

    fake_openai.job(job_id).data["finished_at"] -= 2 * 3600  # long gone: a deleted model
    assert (await ModelInventoryService(client).load()).find(model) is None
