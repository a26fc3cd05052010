"""Uploads with progress: one request for small files, the Uploads API in parts above a
threshold (made small here), server-side cancel on failure, clear errors for bad paths."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.fake_openai import FakeOpenAI
from tui.services.connection import connection_for
from tui.services.errors import describe_error
from tui.services.uploads import Uploader, UploadError, UploadProgress


def _dataset(path: Path, lines: int) -> bytes:
    body = b"".join(
        b'{"messages": [{"role": "user", "content": "q%d"}, {"role": "assistant", '
        b'"content": "a%d"}]}\n' % (i, i)
        for i in range(lines)
    )
    path.write_bytes(body)
    return body


async def test_small_file_goes_in_one_request(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    body = _dataset(tmp_path / "train.jsonl", 12)
    seen: list[UploadProgress] = []
    uploaded = await Uploader(connection_for()).upload(
        tmp_path / "train.jsonl", on_progress=seen.append
    )
    assert uploaded.bytes == len(body) and uploaded.purpose == "fine-tune"
    assert fake_openai.state.files[uploaded.id][1] == body
    assert [(p.phase, p.fraction) for p in seen] == [("uploading", 0.0), ("done", 1.0)]


async def test_large_file_goes_in_ordered_parts_with_progress(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    body = _dataset(tmp_path / "big.jsonl", 200)
    seen: list[UploadProgress] = []
    uploader = Uploader(connection_for(), multipart_threshold=1000, part_size=4096)
    uploaded = await uploader.upload(tmp_path / "big.jsonl", on_progress=seen.append)
    parts = -(-len(body) // 4096)
    assert fake_openai.state.files[uploaded.id][1] == body  # reassembled in order, md5 checked
    assert sum(1 for r in fake_openai.requests if r.path.endswith("/parts")) == parts
    uploading = [p for p in seen if p.phase == "uploading"]
    assert [p.parts_done for p in uploading] == list(range(parts + 1))
    assert [p.sent for p in uploading] == sorted(p.sent for p in uploading)
    assert seen[-2].phase == "completing" and seen[-1].phase == "done"
    assert seen[-1].fraction == 1.0


async def test_failed_part_cancels_the_upload(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    _dataset(tmp_path / "big.jsonl", 100)
    fake_openai.fail_next(400, path_contains="/parts")
    uploader = Uploader(connection_for(), multipart_threshold=100, part_size=2048)
    with pytest.raises(Exception) as caught:  # noqa: B017 - the SDK's BadRequestError
        await uploader.upload(tmp_path / "big.jsonl")
    assert "Request rejected" in str(describe_error(caught.value))
    ((meta, _),) = fake_openai.state.uploads.values()
    assert meta["status"] == "cancelled"


async def test_cancelled_upload_is_cancelled_on_the_server(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    _dataset(tmp_path / "big.jsonl", 100)
    uploader = Uploader(connection_for(), multipart_threshold=100, part_size=1024)
    started = asyncio.Event()

    def on_progress(p: UploadProgress) -> None:
        if p.parts_done == 1:
            started.set()

    task = asyncio.create_task(uploader.upload(tmp_path / "big.jsonl", on_progress=on_progress))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.2)
    ((meta, _),) = fake_openai.state.uploads.values()
    assert meta["status"] == "cancelled"


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("missing.jsonl", None, "does not exist"),
        ("empty.jsonl", b"", "is empty"),
        ("data.csv", b"a,b\n", "only .jsonl"),
    ],
)
async def test_bad_paths_are_refused_before_any_request(
    fake_openai: FakeOpenAI, tmp_path: Path, name: str, content: bytes | None, words: str
) -> None:
    if content is not None:
        (tmp_path / name).write_bytes(content)
    with pytest.raises(UploadError, match=words):
        await Uploader(connection_for()).upload(tmp_path / name)
    assert fake_openai.requests == []


async def test_directory_is_refused(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    with pytest.raises(UploadError, match="not a file"):
        await Uploader(connection_for()).upload(tmp_path)
