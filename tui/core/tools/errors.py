"""The two ways a dataset tool stops early."""

from __future__ import annotations


class ToolError(Exception):
    """Bad input or a refused request, explained in one message the user can act on."""


class Cancelled(Exception):
    """The caller asked the tool to stop (raised from a progress callback)."""
