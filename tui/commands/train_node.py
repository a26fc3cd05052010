"""`ft-tui train-node`: one command per extra machine of a multi-node `ft-tui serve`.

Runs on each machine but the server's; joins every training run the server launches (see
`tui.local.join`). Exits 2 with one line for a config that cannot join; Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        required=True,
        help="the server's data dir, on a disk this machine shares with it",
    )
    parser.add_argument(
        "--accelerate-config",
        type=Path,
        required=True,
        metavar="FILE",
        help="this machine's accelerate config (machine_rank >= 1, the server's num_machines, "
        "main_process_ip and main_process_port)",
    )


def _say(message: str) -> None:
    print(f"ft-tui train-node: {message}", flush=True)


def run(args: argparse.Namespace) -> int:
    try:
        from tui.local.join import NodeAgent
        from tui.local.launch import AccelerateConfigError, check_accelerate_config, read_mapping
    except ImportError as exc:
        print(
            f"ft-tui train-node needs the local extra ({exc.name} is missing): "
            "pip install 'ft-tui[local]'",
            file=sys.stderr,
        )
        return 2
    config = args.accelerate_config.expanduser().resolve()
    data_dir = args.data_dir.expanduser().resolve()
    try:
        check_accelerate_config(config)
        settings = read_mapping(config)
    except AccelerateConfigError as exc:
        print(f"ft-tui train-node: {exc}", file=sys.stderr)
        return 2
    rank = settings.get("machine_rank", 0)
    if not isinstance(rank, int) or rank < 1:
        print(
            f"ft-tui train-node: {config} has machine_rank {rank!r}; machine 0 is the one that "
            "runs ft-tui serve, this machine needs machine_rank 1 or more",
            file=sys.stderr,
        )
        return 2
    if not (data_dir / "server.sqlite3").is_file():
        print(
            f"ft-tui train-node: {data_dir} is not an ft-tui serve data dir (no server.sqlite3); "
            "pass the server's --data-dir as this machine sees it",
            file=sys.stderr,
        )
        return 2
    agent = NodeAgent(data_dir, config, rank, say=_say)
    _say(f"machine {rank} waiting for training runs in {data_dir / 'jobs'}")
    try:
        agent.run_forever()
    except KeyboardInterrupt:
        return 130
    return 0
