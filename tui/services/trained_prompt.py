"""The system prompt a fine-tuned model was trained with, found through the API.

A fine-tune (or one of its checkpoints) is matched to its job; the job names its training file;
the first `MAX_BYTES` of that file are streamed and the system prompt used by most examples
(`tui.core.system_prompts`) is returned. Chat pre-fills it, since a fine-tune answers best with
the prompt it learnt under. Every failure (no job visible, file deleted) is simply "not found".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tui.core.model_names import parse_model_name
from tui.core.system_prompts import counts_in_lines

if TYPE_CHECKING:
    from openai import AsyncOpenAI

log = logging.getLogger("ft-tui.chat")

MAX_BYTES = 8 << 20  # enough examples to know the dominant prompt; big files are not read whole
MAX_JOBS = 300


@dataclass(frozen=True)
class TrainedPrompt:
    prompt: str
    examples: int  # examples that use it
    counted: int  # examples with any system prompt
    training_file: str
    job_id: str


def _job_model(model: str) -> str:
    """A checkpoint's name without `:ckpt-step-N` (the job's own fine-tuned model name)."""
    parsed = parse_model_name(model)
    if parsed is not None and parsed.is_checkpoint:
        return model.rsplit(":", 1)[0]
    return model


async def _find_job(client: AsyncOpenAI, model: str) -> tuple[str, str] | None:
    """(job id, training file id) of the job that made `model`."""
    target = _job_model(model)
    seen = 0
    after: str | None = None
    while seen < MAX_JOBS:
        if after:
            page = await client.fine_tuning.jobs.list(limit=100, after=after)
        else:
            page = await client.fine_tuning.jobs.list(limit=100)
        for job in page.data:
            if job.fine_tuned_model == target:
                return job.id, job.training_file
        seen += len(page.data)
        if not page.data or not getattr(page, "has_more", False):
            return None
        after = page.data[-1].id
    return None


async def _head_lines(client: AsyncOpenAI, file_id: str) -> list[bytes]:
    data = bytearray()
    async with client.files.with_streaming_response.content(file_id) as response:
        async for chunk in response.iter_bytes():
            data += chunk
            if len(data) >= MAX_BYTES:
                break
    lines = bytes(data).splitlines()
    return lines[:-1] if len(data) >= MAX_BYTES else lines  # the last line may be cut


async def trained_system_prompt(client: AsyncOpenAI, model: str) -> TrainedPrompt | None:
    """The most used system prompt of the training file of fine-tune `model`, or None."""
    if parse_model_name(model) is None:
        return None
    try:
        found = await _find_job(client, model)
        if found is None:
            return None
        job_id, file_id = found
        counts = counts_in_lines(await _head_lines(client, file_id))
    except Exception as exc:  # a missing job or file just means no pre-filled prompt
        log.info("no training system prompt for %s: %s", model, exc)
        return None
    if not counts:
        return None
    prompt, uses = counts.most_common(1)[0]
    return TrainedPrompt(prompt, uses, sum(counts.values()), file_id, job_id)
