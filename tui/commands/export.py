"""`ft-tui export MODEL --format F --out DIR`: take a fine-tuned model out of its server.

The export runs on the active profile's server (the embedded local server, a remote
`ft-tui serve`, or an ft-tui server behind `OPENAI_BASE_URL`) and the result is downloaded into
`--out`, which appears only when complete and is replaced only with `--force`. Bad input
(unknown or deleted model, existing or unwritable `--out`, full disk, OpenAI profile) is one
`error:` line and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tui.core.byte_sizes import human_size
from tui.core.exports import FORMAT_HELP, FORMATS, QUANTIZATIONS

EXIT_BAD_INPUT = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="a fine-tuned model or checkpoint id (ft:…)")
    parser.add_argument(
        "--format",
        "-f",
        required=True,
        choices=FORMATS,
        help="; ".join(f"{name}: {text}" for name, text in FORMAT_HELP.items()),
    )
    parser.add_argument("--out", "-o", required=True, type=Path, help="folder to create")
    parser.add_argument(
        "--quantization",
        "-q",
        choices=QUANTIZATIONS,
        default=None,
        help="GGUF tensor type for gguf/ollama (default f16)",
    )
    parser.add_argument("--force", action="store_true", help="replace an existing --out folder")
    parser.add_argument("--profile", default=None, help="connection profile (default: active)")


class _Progress:
    """Stage and percent on stderr: redrawn in place on a terminal, one line per stage else."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.stage = ""

    def __call__(self, stage: str, fraction: float) -> None:
        if self.tty:
            sys.stderr.write(f"\r{stage} {100 * fraction:3.0f}%\x1b[K")
            sys.stderr.flush()
        elif stage != self.stage and not stage.startswith("converting "):
            print(f"{stage}…", file=sys.stderr)
        self.stage = stage

    def done(self) -> None:
        if self.tty:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


async def _export(args: argparse.Namespace, progress: _Progress) -> int:
    from tui.services.connection import Connection, connection_for
    from tui.services.exports import check_destination, export_model

    check_destination(args.out, force=args.force)  # before starting or asking any server
    connection: Connection = connection_for(args.profile)
    try:
        client = await connection.client()
        result = await export_model(
            client,
            connection.profile,
            args.model,
            args.format,
            args.out,
            quantization=args.quantization,
            force=args.force,
            progress=progress,
        )
    finally:
        progress.done()
        await connection.aclose()
    size = sum((result.path / name).stat().st_size for name in result.files)
    converter = f"; converter: {result.converter}" if result.converter else ""
    print(
        f"exported {result.model} as {result.format} to {result.path} "
        f"({len(result.files)} files, {human_size(size)}{converter})"
    )
    print("serve it with:")
    for command in result.serve_commands:
        print(f"  {command}")
    return 0


def run(args: argparse.Namespace) -> int:
    import asyncio

    from tui.services.errors import describe_error

    progress = _Progress()
    try:
        return asyncio.run(_export(args, progress))
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # every failure is one line for the user, never a traceback
        print(f"ft-tui export: error: {describe_error(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
