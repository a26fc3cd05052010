"""Run the fake OpenAI server by hand, e.g. to try the TUI without an account:

    python -m tests.fake_openai [--interval 2]
    OPENAI_BASE_URL=<printed url> OPENAI_API_KEY=<printed key> ft-tui

It creates a succeeding and a failing job and moves every job one stage per `--interval`.
"""

from __future__ import annotations

import argparse
import threading

from tests.fake_openai.jobs import JobPlan
from tests.fake_openai.server import FakeOpenAI


def main() -> int:
    parser = argparse.ArgumentParser(description="fake OpenAI fine-tuning server (loopback)")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds per job stage")
    args = parser.parse_args()
    fake = FakeOpenAI().start()
    fake.add_job(plan=JobPlan(total_steps=60, metrics_per_advance=3))
    fake.add_job(script="failure")
    fake.start_auto_advance(args.interval)
    print(f"OPENAI_BASE_URL={fake.base_url}\nOPENAI_API_KEY={fake.api_key}\n(ctrl+c stops)")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
