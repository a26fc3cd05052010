"""ETA from step times: a pause is left out, so resuming does not move the ETA."""

from __future__ import annotations

from tui.core.step_timing import step_timing


def test_a_pause_does_not_change_the_time_per_step() -> None:
    steady = [(s, 1000.0 + 10 * s) for s in range(1, 11)]
    paused = steady + [(s, 1000.0 + 10 * s + 3600) for s in range(11, 14)]  # an hour's pause
    assert step_timing(steady).seconds_per_step == 10
    timing = step_timing(paused)
    assert timing.seconds_per_step == 10
    assert timing.training_seconds == 110  # 12 gaps of 10 s; the pause is not training


def test_too_few_steps_give_no_rate() -> None:
    assert step_timing([(5, 100.0)]).seconds_per_step is None
    assert step_timing([]).training_seconds == 0.0
