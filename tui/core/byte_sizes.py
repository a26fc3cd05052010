"""How the app and the CLI write a byte count: "750 B", "4.6 MB", "1.0 GB".

One owner, so the Files tab, `ft-tui export` and the convert/split/fix progress lines show the
same file as the same size. Units are decimal (1 MB = 1,000,000 bytes), the way OpenAI writes
its limits (512 MB, 8 GB) and the way "MB" reads.
"""

from __future__ import annotations


def human_size(size: int) -> str:
    """`size` bytes in B, KB, MB or GB (one decimal above bytes)."""
    value = float(size)
    for unit in ("B", "KB", "MB"):
        if value < 1000:
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"
