"""What the dataset commands (convert, split, fix, eval, record) share: error reporting and a
TTY progress line."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import TextIO

from tui.core.byte_sizes import human_size
from tui.core.tools.errors import ToolError
from tui.core.tools.progress import ProgressCallback

EXIT_BAD_INPUT = 2


def stderr_progress(
    label: str, stream: TextIO | None = None, *, unit: str = "bytes"
) -> ProgressCallback | None:
    """A progress line on stderr, redrawn in place; None when stderr is not a terminal.

    `unit` is "bytes" (shown as KB/MB/GB) or a word such as "rows" (shown as counts).
    """
    out = stream or sys.stderr
    if not out.isatty():
        return None

    def amount(value: int) -> str:
        return human_size(value) if unit == "bytes" else f"{value:,} {unit}"

    def show(done: int, total: int) -> None:
        percent = 100 * done // total if total else 100
        out.write(f"\r{label} {percent:3d}%  {amount(done)} / {amount(total)}\x1b[K")
        if done >= total:
            out.write("\r\x1b[K")
        out.flush()

    return show


def run_tool(
    command: str,
    body: Callable[[], int],
    *,
    bad_input: tuple[type[Exception], ...] = (ToolError,),
) -> int:
    """Run a command; bad input (the `bad_input` errors, an OSError) becomes one `error:` line
    and exit code 2, a bug one `internal error:` line and exit code 1, never a traceback."""
    try:
        return body()
    except (KeyboardInterrupt, BrokenPipeError):
        # the CLI entry point turns these into exit codes (a closed pipe, `| head`, is exit 0);
        # first, since a BrokenPipeError is also an OSError
        raise
    except bad_input as exc:
        print(f"ft-tui {command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"ft-tui {command}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:  # a bug: still one line, never a traceback
        print(
            f"ft-tui {command}: internal error: {type(exc).__name__}: {exc} "
            "(please report it with the command you ran)",
            file=sys.stderr,
        )
        return 1


def print_lines(lines: Iterable[str]) -> None:
    for line in lines:
        print(line)
