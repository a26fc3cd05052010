"""The Uploads API through the SDK: parts in any order, completion checks, cancel, expiry rules."""

from __future__ import annotations

import hashlib
from pathlib import Path

import openai
import pytest

from tests.local.conftest import LocalServer, dataset
from tests.local.schemas import raw_json, validate


def test_parts_assemble_in_the_order_given_at_completion(shared_server: LocalServer) -> None:
    client = shared_server.client()
    payload = dataset(40)
    pieces = [payload[:1000], payload[1000:2500], payload[2500:]]
    raw = client.uploads.with_raw_response.create(
        bytes=len(payload), filename="big.jsonl", mime_type="text/jsonl", purpose="fine-tune"
    )
    validate(raw_json(raw), "Upload")
    upload = raw.parse()
    assert upload.status == "pending" and upload.expires_at - upload.created_at == 3600
    # Uploaded out of order; the order at completion is what counts.
    parts = {i: client.uploads.parts.create(upload.id, data=pieces[i]) for i in (2, 0, 1)}
    validate(
        raw_json(client.uploads.parts.with_raw_response.create(upload.id, data=b"")), ("UploadPart")
    )
    done = client.uploads.complete(
        upload.id,
        part_ids=[parts[0].id, parts[1].id, parts[2].id],
        md5=hashlib.md5(payload).hexdigest(),
    )
    assert done.status == "completed" and done.file is not None
    assert done.file.bytes == len(payload) and done.file.filename == "big.jsonl"
    assert client.files.content(done.file.id).read() == payload
    assert not (shared_server.data_dir / "files" / ".uploads" / upload.id).exists()
    with pytest.raises(openai.ConflictError):
        client.uploads.cancel(upload.id)


def test_the_sdk_chunked_helper_works(shared_server: LocalServer, tmp_path: Path) -> None:
    client = shared_server.client()
    path = tmp_path / "chunked.jsonl"
    path.write_bytes(dataset(60))
    done = client.uploads.upload_file_chunked(
        file=path, mime_type="text/jsonl", purpose="fine-tune", part_size=1024
    )
    assert done.file is not None
    assert client.files.content(done.file.id).read() == dataset(60)


def test_completion_checks_size_md5_and_parts(shared_server: LocalServer) -> None:
    client = shared_server.client()
    upload = client.uploads.create(
        bytes=10, filename="x.jsonl", mime_type="text/jsonl", purpose="fine-tune"
    )
    part = client.uploads.parts.create(upload.id, data=b"12345")
    with pytest.raises(openai.BadRequestError) as short:
        client.uploads.complete(upload.id, part_ids=[part.id])
    assert "5 bytes" in short.value.message
    with pytest.raises(openai.APIStatusError) as too_much:
        client.uploads.parts.create(upload.id, data=b"123456")
    assert too_much.value.status_code == 413
    other = client.uploads.parts.create(upload.id, data=b"67890")
    with pytest.raises(openai.BadRequestError) as md5:
        client.uploads.complete(upload.id, part_ids=[part.id, other.id], md5="0" * 32)
    assert md5.value.body["param"] == "md5"  # type: ignore[index]
    with pytest.raises(openai.BadRequestError):
        client.uploads.complete(upload.id, part_ids=[part.id, "part_unknown"])
    cancelled = client.uploads.cancel(upload.id)
    assert cancelled.status == "cancelled"
    with pytest.raises(openai.ConflictError):
        client.uploads.parts.create(upload.id, data=b"1")


def test_bad_upload_requests_are_400_or_404(shared_server: LocalServer) -> None:
    client = shared_server.client()
    with pytest.raises(openai.BadRequestError) as size:
        client.uploads.create(
            bytes=0, filename="a.jsonl", mime_type="text/jsonl", purpose="fine-tune"
        )
    assert size.value.body["param"] == "bytes"  # type: ignore[index]
    with pytest.raises(openai.BadRequestError):
        client.uploads.create(
            bytes=5, filename="a.txt", mime_type="text/plain", purpose="fine-tune"
        )
    with pytest.raises(openai.BadRequestError):
        client.uploads.create(bytes=5, filename="a.jsonl", mime_type="text/jsonl", purpose="batch")
    with pytest.raises(openai.NotFoundError):
        client.uploads.parts.create("upload_missing", data=b"1")
    with pytest.raises(openai.NotFoundError):
        client.uploads.complete("upload_missing", part_ids=["part_x"])
