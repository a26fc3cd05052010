"""The other machines of a multi-node setup: join every run the server on machine 0 launches.

`ft-tui train-node --data-dir /shared/ft --accelerate-config node1.yaml` runs on each machine
but the server's, with the server's data dir on a shared disk. The server writes each run's
`launch/request.json` when a job starts (or resumes) and removes it when the run has ended;
this loop notices a new one and runs this machine's ranks of it with `accelerate launch`
(its own config: `machine_rank`, the same `main_process_ip`/`main_process_port`), then waits
for the next. torchrun does the rendezvous; nothing here speaks to the server.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tui.local.training.worker import REQUEST_FILE, RESULT_FILE

POLL_S = 1.0
LOG_NAME = "node-rank{rank}.log"


def join_command(config: Path, run_dir: Path, db_path: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--config_file",
        str(config),
        "-m",
        "tui.local.training.worker",
        str(run_dir),
        str(db_path),
    ]


@dataclass
class NodeAgent:
    data_dir: Path
    config: Path
    machine_rank: int
    say: Callable[[str], None] = print
    _seen: set[tuple[str, int]] = field(default_factory=set)

    def pending(self) -> list[Path]:
        """Run folders with a request this agent has not joined yet, oldest first."""
        found: list[tuple[int, Path]] = []
        for request in (self.data_dir / "jobs").glob(f"*/launch/{REQUEST_FILE}"):
            try:
                stamp = request.stat().st_mtime_ns
            except OSError:
                continue  # the run ended meanwhile
            if (str(request), stamp) in self._seen or (request.parent / RESULT_FILE).exists():
                continue
            found.append((stamp, request.parent))
        return [run_dir for _, run_dir in sorted(found)]

    def join(self, run_dir: Path) -> int:
        request = run_dir / REQUEST_FILE
        try:
            self._seen.add((str(request), request.stat().st_mtime_ns))
        except OSError:
            return 0
        job_id = run_dir.parent.name
        log = run_dir / LOG_NAME.format(rank=self.machine_rank)
        self.say(f"joining job {job_id} (output in {log})")
        with log.open("ab") as out:
            code = subprocess.call(
                join_command(self.config, run_dir, self.data_dir / "server.sqlite3"),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.say(f"job {job_id}: this machine's ranks ended (exit code {code})")
        return code

    def run_forever(self, poll_s: float = POLL_S) -> None:
        while True:
            for run_dir in self.pending():
                self.join(run_dir)
            time.sleep(poll_s)
