"""Signals and parent-death checks for trainer child processes (the one owner of both).

A supervisor (systemd with `KillMode=control-group`, `docker stop`, Ctrl-C in a terminal) sends
SIGTERM or SIGINT to the server's whole process group. The trainer child must not die of it: the
server's graceful path asks the trainer to save its pause state and continues the job at the next
start. So every trainer process calls `prepare_trainer_child()` first thing:

* SIGINT and SIGTERM are ignored; the server decides for the child (it still can SIGKILL it).
* A daemon thread checks every `interval_s` whether the server is still there. When it is gone
  (`kill -9` of the server pid alone), the trainer exits at once: the restarted server has failed
  its job and nobody reads what an orphan would write.

Linux's `PR_SET_PDEATHSIG` is not used: it fires when the *thread* that started the child ends,
and the server's runner thread ends before the graceful save has finished.

`parent_pid` defaults to the process's parent. A worker started by a launcher (accelerate,
torchrun) passes the server's pid instead; a driver that starts a launcher puts it in the
launcher's environment as `SERVER_PID_ENV`, which `prepare_trainer_child` reads.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable

SERVER_PID_ENV = "FT_TUI_SERVER_PID"
ORPHAN_EXIT_CODE = 75
CHECK_INTERVAL_S = 0.5


def ignore_stop_signals() -> None:
    """SIGINT and SIGTERM to the process group leave this process running (main thread only)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def server_pid_from_env() -> int | None:
    raw = os.environ.get(SERVER_PID_ENV, "")
    return int(raw) if raw.isdigit() else None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


class ParentWatch:
    """Knows whether the server that started this process is gone."""

    def __init__(self, parent_pid: int | None = None) -> None:
        self.parent_pid = os.getppid() if parent_pid is None else parent_pid
        # When the server is our direct parent, a changed ppid is exact (no pid reuse race).
        self._direct = self.parent_pid == os.getppid()

    def orphaned(self) -> bool:
        if self._direct:
            return os.getppid() != self.parent_pid
        return not pid_alive(self.parent_pid)

    def start(
        self,
        interval_s: float = CHECK_INTERVAL_S,
        on_orphan: Callable[[], None] | None = None,
    ) -> threading.Thread:
        """Check in a daemon thread; on the server's death call `on_orphan` (default: exit)."""
        act = on_orphan or _exit_orphan

        def watch() -> None:
            while not self.orphaned():
                threading.Event().wait(interval_s)
            act()

        thread = threading.Thread(target=watch, name="ft-tui-parent-watch", daemon=True)
        thread.start()
        return thread


def _exit_orphan() -> None:
    os._exit(ORPHAN_EXIT_CODE)


def prepare_trainer_child(
    parent_pid: int | None = None,
    *,
    interval_s: float = CHECK_INTERVAL_S,
    on_orphan: Callable[[], None] | None = None,
) -> ParentWatch:
    """Ignore the group's stop signals and stop when the server dies (call from the main
    thread, first thing in the trainer process)."""
    ignore_stop_signals()
    watch = ParentWatch(parent_pid if parent_pid is not None else server_pid_from_env())
    watch.start(interval_s, on_orphan)
    return watch
