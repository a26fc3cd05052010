"""Files service against the fake OpenAI server through the real SDK: paging, preview, download,
delete, and the messages users get when the server refuses."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator
from pathlib import Path

import openai
import pytest

from tests.fake_openai.server import FakeOpenAI
from tui.services.file_content import Base64Stream, looks_base64
from tui.services.files import (
    DestinationExists,
    FileActionError,
    FileListing,
    FilesService,
    RemoteFile,
    explain_error,
    suggest_download_path,
    upload_file,
)

CSV = "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n" + "".join(
    f"{step},{2.0 / step:.5f},0.5,,\n" for step in range(1, 301)
)


@pytest.fixture
async def client(fake_openai: FakeOpenAI) -> AsyncIterator[openai.AsyncOpenAI]:
    client = openai.AsyncOpenAI(
        base_url=fake_openai.base_url, api_key=fake_openai.api_key, max_retries=0
    )
    yield client
    await client.close()


async def _listed(service: FilesService, listing: FileListing) -> list[list[RemoteFile]]:
    return [page async for page in service.pages(listing)]


async def test_thousands_of_files_arrive_page_by_page_newest_first(
    fake_openai: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    ids = [fake_openai.add_file(f"d{i}.jsonl", b"{}\n") for i in range(1234)]
    listing = FileListing()
    service = FilesService(client, page_size=500, first_page_size=100)
    pages = await _listed(service, listing)
    assert [len(p) for p in pages] == [100, 500, 500, 134]
    assert listing.complete
    assert [f.id for f in listing.files] == ids[::-1]
    requests = [r.query for r in fake_openai.requests if r.path == "/files"]
    assert [q.get("after") for q in requests] == [None, ids[-100], ids[-600], ids[-1100]]
    assert [q["limit"] for q in requests] == ["100", "500", "500", "500"]


async def test_purpose_filter_keeps_only_that_purpose(
    fake_openai: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    fake_openai.add_file("train.jsonl", b"{}\n", "fine-tune")
    results = fake_openai.add_file("step_metrics.csv", b"a,b\n", "fine-tune-results")
    listing = FileListing(purpose="fine-tune-results")
    await _listed(FilesService(client), listing)
    assert [f.id for f in listing.files] == [results]


async def test_preview_decodes_base64_result_csv(
    fake_openai: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    file_id = fake_openai.add_file(
        "step_metrics.csv", base64.b64encode(CSV.encode()), "fine-tune-results"
    )
    service = FilesService(client)
    preview = await service.preview(await service.retrieve(file_id), max_lines=5)
    assert preview.decoded_base64
    assert preview.lines[0].startswith("step,train_loss,train_accuracy")
    assert preview.lines[1] == "1,2.00000,0.5,,"
    assert preview.truncated and len(preview.lines) == 5


async def test_preview_of_a_big_file_reads_a_bounded_prefix_and_no_half_line(
    fake_openai: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    line = b'{"messages": [{"role": "user", "content": "' + b"x" * 90 + b'"}]}\n'
    file_id = fake_openai.add_file("big.jsonl", line * 40_000)  # ~4.6 MB
    service = FilesService(client)
    file = await service.retrieve(file_id)
    preview = await service.preview(file, max_bytes=10_000)
    assert preview.truncated and not preview.decoded_base64
    assert preview.bytes_read <= 10_000
    assert preview.lines and all(x.endswith('"}]}') for x in preview.lines)


async def test_preview_reports_binary_content(
    fake_openai: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    file_id = fake_openai.add_file("img.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "vision")
    service = FilesService(client)
    preview = await service.preview(await service.retrieve(file_id))
    assert preview.binary and preview.lines == []


async def test_download_decodes_and_never_overwrites_silently(
    fake_openai: FakeOpenAI, client: openai.AsyncOpenAI, tmp_path: Path
) -> None:
    file_id = fake_openai.add_file(
        "step_metrics.csv", base64.b64encode(CSV.encode()), "fine-tune-results"
    )
    service = FilesService(client)
    file = await service.retrieve(file_id)
    seen: list[int] = []
    result = await service.download(file, tmp_path, progress=lambda done, _t: seen.append(done))
    assert result.path == tmp_path / "step_metrics.csv"
    assert result.decoded_base64 and result.path.read_text() == CSV
    umask = os.umask(0)
    os.umask(umask)
    assert result.path.stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's private 0600
    assert seen and seen[-1] == file.bytes

    result.path.write_text("my notes")
    with pytest.raises(DestinationExists):
        await service.download(file, result.path)
    assert result.path.read_text() == "my notes"
    await service.download(file, result.path, overwrite=True)
    assert result.path.read_text() == CSV
    assert suggest_download_path(tmp_path, file).name == "step_metrics (1).csv"


async def test_download_keeps_plain_files_byte_exact_and_leaves_no_partial_file(
    fake_openai: FakeOpenAI, client: openai.AsyncOpenAI, tmp_path: Path
) -> None:
    data = b'{"messages": []}\n' * 5000
    file_id = fake_openai.add_file("train.jsonl", data)
    service = FilesService(client)
    file = await service.retrieve(file_id)
    result = await service.download(file, tmp_path / "copy.jsonl")
    assert result.path.read_bytes() == data and not result.decoded_base64

    fake_openai.fail_next(500, path_contains="/content")
    with pytest.raises(openai.InternalServerError):
        await service.download(file, tmp_path / "broken.jsonl")
    assert sorted(os.listdir(tmp_path)) == ["copy.jsonl"]
    with pytest.raises(FileActionError, match="does not exist"):
        await service.download(file, tmp_path / "missing-dir" / "x.jsonl")


async def test_delete_and_jobs_still_using_a_file(
    fake_openai: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    busy = fake_openai.add_file("busy.jsonl", b"{}\n")
    job_id = fake_openai.add_job(training_file=busy)
    fake_openai.advance(job_id, 2)
    idle = fake_openai.add_file("idle.jsonl", b"{}\n")
    service = FilesService(client)
    assert await service.jobs_using(busy) == [job_id]
    assert await service.jobs_using(idle) == []
    assert await service.delete(idle)
    listing = FileListing()
    await _listed(service, listing)
    assert idle not in {f.id for f in listing.files}


async def test_upload_reports_progress_and_lists_the_new_file(
    fake_openai: FakeOpenAI, client: openai.AsyncOpenAI, tmp_path: Path
) -> None:
    path = tmp_path / "train.jsonl"
    path.write_bytes(b'{"messages": []}\n' * 20_000)
    seen: list[tuple[int, int]] = []
    uploaded = await upload_file(client, path, progress=lambda d, t: seen.append((d, t)))
    assert uploaded.filename == "train.jsonl" and uploaded.purpose == "fine-tune"
    assert uploaded.bytes == path.stat().st_size
    assert seen[-1] == (path.stat().st_size, path.stat().st_size) and len(seen) > 2


async def test_refusals_are_explained_with_a_hint(
    fake_openai: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    file_id = fake_openai.add_file("busy.jsonl", b"{}\n")
    fake_openai.fail_next(409, path_contains="/files/")
    with pytest.raises(openai.ConflictError) as conflict:
        await client.files.delete(file_id)
    # the fake's injected error has a generic message; a real "in use" message adds the job hint
    assert "refresh" in explain_error(conflict.value, "delete file")
    fake_openai.fail_next(403, path_contains="/models/")
    with pytest.raises(openai.PermissionDeniedError) as denied:
        await client.models.delete("ft:gpt-4o-mini-2024-07-18:org::abcd1234")
    assert "Owner role" in explain_error(denied.value, "delete model")
    with pytest.raises(openai.NotFoundError) as missing:
        await client.files.content("file-nope")
    assert "no longer exists" in explain_error(missing.value, "preview")


def test_base64_detection_leaves_csv_and_jsonl_alone() -> None:
    assert not looks_base64(CSV.encode())
    assert not looks_base64(b'{"messages": [{"role": "user", "content": "hi"}]}\n')
    assert not looks_base64(b"\x00\x01\x02\x03\x04\x05\x06\x07\x08")
    assert looks_base64(base64.encodebytes(CSV.encode()))  # with line breaks every 76 chars


def test_base64_stream_decodes_across_any_chunk_boundary() -> None:
    encoded = base64.encodebytes(CSV.encode())
    for size in (1, 3, 7, 4096):
        stream = Base64Stream()
        out = b"".join(stream.feed(encoded[i : i + size]) for i in range(0, len(encoded), size))
        assert out + stream.finish() == CSV.encode()


def test_a_server_that_ignores_the_cursor_cannot_loop_the_listing() -> None:
    page = [RemoteFile(f"file-{i}", f"{i}.jsonl", "fine-tune", 1, 0, "processed") for i in range(3)]
    listing = FileListing(purpose="fine-tune")
    assert len(listing.add_page(page, has_more=True)) == 3 and not listing.complete
    assert listing.add_page(page, has_more=True) == [] and listing.complete
    assert len(listing.files) == 3
