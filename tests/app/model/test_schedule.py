"""Where the runs are heading (no Qt, no worker): targets, a scene's opening, idleness."""

from __future__ import annotations

from gradsim.app.model.schedule import RunProgress, Schedule
from gradsim.engine.protocol import RunState

PAUSED, RUNNING, DIVERGED = RunState.PAUSED, RunState.RUNNING, RunState.DIVERGED


def at(*runs: tuple[RunState, int]) -> list[RunProgress]:
    return [RunProgress(state, steps) for state, steps in runs]


def test_generations_count_up_and_forget_targets() -> None:
    schedule = Schedule()
    assert schedule.new_generation() == 1
    schedule.start_opening(50, then_play=True)
    assert schedule.new_generation() == 2
    assert schedule.opening is None and schedule.target is None


def test_an_opening_finishes_once_every_live_run_is_there() -> None:
    schedule = Schedule()
    schedule.new_generation()
    schedule.start_opening(20, then_play=False)
    assert not schedule.is_idle([])  # nothing reported yet on these runs
    assert schedule.finish_opening(at((PAUSED, 0), (PAUSED, 0))) is None  # before it began
    assert schedule.finish_opening(at((RUNNING, 12), (RUNNING, 12))) is None
    # A run that diverged early does not hold the others back.
    done = schedule.finish_opening(at((DIVERGED, 2), (PAUSED, 20)))
    assert done is not None and (done.steps, done.then_play) == (20, False)
    assert schedule.opening is None and schedule.target is None
    assert schedule.finish_opening(at((DIVERGED, 2), (PAUSED, 20))) is None  # once


def test_what_follows_an_opening_can_change_until_it_is_done() -> None:
    schedule = Schedule()
    schedule.new_generation()
    schedule.start_opening(200, then_play=False)
    assert schedule.opening is not None
    schedule.opening.then_play = True  # Space, while the scene is being built
    assert schedule.finish_opening(at((RUNNING, 150))) is None
    done = schedule.finish_opening(at((PAUSED, 200)))
    assert done is not None and done.then_play  # the opening still ran to its 200 steps


def test_quick_step_presses_each_count_before_any_report() -> None:
    schedule = Schedule()
    schedule.new_generation()
    progress = at((PAUSED, 4), (DIVERGED, 1))
    for _ in range(3):
        schedule.step(progress)
    assert schedule.target == 7  # the live run's 4, plus three
    assert not schedule.is_idle(at((PAUSED, 6), (DIVERGED, 1)))
    assert schedule.is_idle(at((PAUSED, 7), (DIVERGED, 1)))
    schedule.clear_target()  # Space: play on
    assert schedule.target is None and not schedule.is_idle(at((RUNNING, 9), (DIVERGED, 1)))
