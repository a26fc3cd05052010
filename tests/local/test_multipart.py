"""Property tests of the streamed multipart reader (tui/local/multipart.py): a whole body lands
byte for byte however it is chunked; any truncation of it is refused with a 400."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.local.errors import ApiError
from tui.local.multipart import StreamedUpload, feed_multipart

BOUNDARY = "b0undary-XyZ"
PROPS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _body(content: bytes, purpose: str = "fine-tune") -> bytes:
    return (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\n{purpose}\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="t.jsonl"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


async def _chunks(raw: bytes, sizes: list[int]) -> AsyncIterator[bytes]:
    start = 0
    for size in sizes:
        if start >= len(raw):
            break
        yield raw[start : start + size]
        start += size
    if start < len(raw):
        yield raw[start:]


def _feed(target: Path, raw: bytes, sizes: list[int]) -> StreamedUpload:
    upload = StreamedUpload(target, max_bytes=1 << 20)

    async def main() -> None:
        try:
            await feed_multipart(_chunks(raw, sizes), upload, BOUNDARY.encode(), timeout_s=10)
        finally:
            upload.close()

    anyio.run(main)
    return upload


CONTENT = st.binary(max_size=400)
SIZES = st.lists(st.integers(min_value=1, max_value=64), max_size=20)


@PROPS
@given(content=CONTENT, sizes=SIZES)
def test_a_whole_body_lands_byte_for_byte(tmp_path: Path, content: bytes, sizes: list[int]) -> None:
    target = tmp_path / "whole"
    upload = _feed(target, _body(content), sizes)
    assert upload.complete and upload.fields == {"purpose": "fine-tune"}
    assert upload.filename == "t.jsonl"
    assert target.read_bytes() == content


@PROPS
@given(content=CONTENT, sizes=SIZES, data=st.data())
def test_any_truncation_is_refused(
    tmp_path: Path, content: bytes, sizes: list[int], data: st.DataObject
) -> None:
    raw = _body(content)
    # Everything up to the closing boundary's final "--"; only the optional CRLF after it may go.
    cut = data.draw(st.integers(min_value=0, max_value=len(raw) - 3), label="cut")
    with pytest.raises(ApiError) as caught:
        _feed(tmp_path / "cut", raw[:cut], sizes)
    assert caught.value.status == 400
