"""Garbage-collector settings for a smooth terminal UI.

A full (generation 2) collection walks every object; with Textual's caches of rendered lines
that took 70–290 ms here, long enough to freeze a streaming reply between frames. After startup
we move the long-lived objects out of the collector's view (`gc.freeze`) and collect the young
generations less often. Reference cycles are still collected, just in fewer, cheaper passes.
"""

from __future__ import annotations

import gc

# (allocations before a gen-0 collection, gen-0 runs per gen-1, gen-1 runs per gen-2)
UI_THRESHOLDS = (50_000, 50, 1_000)


def tune_for_ui() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(*UI_THRESHOLDS)
