"""Opening the eval store: two openers of a new file at once (the app and a CLI run) both work."""

from __future__ import annotations

import threading
from pathlib import Path

from tui.services.eval.store import EvalStore


def test_many_openers_of_a_new_store_at_once_all_succeed(tmp_path: Path) -> None:
    for attempt in range(20):
        path = tmp_path / f"eval-{attempt}.sqlite"
        start = threading.Barrier(4)
        errors: list[BaseException] = []

        def open_store(
            path: Path = path,
            start: threading.Barrier = start,
            errors: list[BaseException] = errors,
        ) -> None:
            start.wait()
            try:
                EvalStore(path).close()
            except BaseException as exc:  # the failure under test: collected, then asserted
                errors.append(exc)

        threads = [threading.Thread(target=open_store) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert EvalStore(path).list_runs() == []
