"""One way to write a byte count, in decimal units, everywhere."""

from __future__ import annotations

import pytest

from tui.core.byte_sizes import human_size


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0 B"),
        (750, "750 B"),
        (999, "999 B"),
        (1000, "1.0 KB"),
        (4_600_000, "4.6 MB"),
        (250_000_000, "250.0 MB"),
        (1_000_000_000, "1.0 GB"),
        (8_000_000_000, "8.0 GB"),
        (12_345_000_000_000, "12345.0 GB"),
    ],
)
def test_sizes_are_written_in_decimal_units(size: int, shown: str) -> None:
    assert human_size(size) == shown
