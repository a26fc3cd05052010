from __future__ import annotations

from pathlib import Path

import pytest

from tui.core import line_index
from tui.core.line_index import LineIndex


def _index(tmp_path: Path, data: bytes) -> LineIndex:
    path = tmp_path / "data.jsonl"
    path.write_bytes(data)
    return LineIndex(path)


def test_reads_lines_before_and_after_a_full_scan(tmp_path: Path) -> None:
    idx = _index(tmp_path, b'{"a":1}\n{"b":2}\r\n\n{"c":3}')
    assert idx.read_line(0) == b'{"a":1}'  # before any scan
    idx.scan()
    assert idx.complete
    assert idx.known_lines() == 4
    assert idx.read_line(1) == b'{"b":2}'  # CR of CRLF dropped
    assert idx.read_line(2) == b""
    assert idx.read_line(3) == b'{"c":3}'  # truncated last line without newline
    assert idx.read_line(4) is None


def test_trailing_newline_does_not_count_as_a_line(tmp_path: Path) -> None:
    idx = _index(tmp_path, b"x\ny\n")
    idx.scan()
    assert idx.known_lines() == 2


def test_empty_file(tmp_path: Path) -> None:
    idx = _index(tmp_path, b"")
    idx.scan()
    assert idx.known_lines() == 0
    assert idx.read_line(0) is None


def test_lines_spanning_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(line_index, "BLOCK", 7)
    lines = [f"line-{i}-" + "x" * (i % 5) for i in range(50)]
    idx = _index(tmp_path, ("\n".join(lines) + "\n").encode())
    assert idx.read_line(30) == lines[30].encode()  # scans only as far as needed
    assert not idx.complete
    progress: list[int] = []
    idx.scan(on_progress=lambda done, total: progress.append(done))
    assert progress[-1] == idx.size
    assert [idx.read_line(i) for i in range(50)] == [x.encode() for x in lines]


def test_cancelled_scan_stops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(line_index, "BLOCK", 4)
    idx = _index(tmp_path, b"a\n" * 100)
    idx.scan(cancelled=lambda: True)
    assert not idx.complete
