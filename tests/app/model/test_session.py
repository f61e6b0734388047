"""The run session with a real worker process (no window): one worker for any sequence of
runs, bad sets refused before anything starts, a dead worker noticed and replaced."""

from __future__ import annotations

import os
import signal
import time

import pytest

from gradsim.app.model.session import RunSession, RunSpec, describe_exit
from gradsim.app.model.worker import live_processes, running_threads
from gradsim.engine.config import Config
from gradsim.engine.protocol import RunState

SMALL = Config(depth=6, width=16, input_dim=4, output_dim=2, activation="tanh", seed=5)


@pytest.fixture
def session(qtbot):
    model = RunSession()
    yield model
    assert model.stop(1000)


def settle(qtbot, session: RunSession, timeout: int = 10_000) -> None:
    """Poll as the window's frame timer would until the session has nothing left to do."""
    qtbot.waitUntil(lambda: (session.poll(), session.is_idle())[1], timeout=timeout)


def steps(session: RunSession) -> list[int]:
    return [snapshot.step_count for snapshot in session.snapshots]


def test_any_sequence_of_runs_uses_one_worker_process(session, qtbot) -> None:
    for specs in (
        [RunSpec("one", SMALL)],
        [RunSpec("a", SMALL), RunSpec("b", SMALL.replace(seed=6))],
        [RunSpec(str(i), SMALL.replace(seed=i)) for i in range(4)],
        [RunSpec("one again", SMALL)],
    ):
        session.start(specs)
        session.run_until(3)
        settle(qtbot, session)
        assert steps(session) == [3] * len(specs)
        assert len(live_processes()) == 1


@pytest.mark.parametrize(
    "specs",
    [
        [],
        [RunSpec(str(i), SMALL) for i in range(5)],
        [RunSpec("a", "no config")],
        [RunSpec(" ", SMALL)],
    ],
)
def test_a_bad_set_of_runs_is_refused_before_anything_starts(qtbot, specs) -> None:
    session = RunSession()
    with pytest.raises(ValueError):
        session.start(specs)
    assert session.count == 0 and running_threads() == []


def test_opening_steps_then_the_chosen_speed_and_state(session, qtbot) -> None:
    session.start([RunSpec("one", SMALL)])
    session.set_speed(2.0)  # slow: only the opening runs flat out
    session.run_until(40, then_play=False)
    session.toggle_play()  # Space during the opening: play once it is done
    assert session.opening is not None and session.opening.then_play
    qtbot.waitUntil(lambda: (session.poll(), session.opening is None)[1], timeout=10_000)
    assert steps(session)[0] == 40  # the opening was not cut short
    qtbot.waitUntil(lambda: (session.poll(), session.playing)[1], timeout=5000)
    session.pause()
    settle(qtbot, session)
    assert 40 <= steps(session)[0] <= 43  # then it trained at 2 steps/s, not flat out


def test_a_killed_worker_is_noticed_and_reset_starts_a_new_one(session, qtbot) -> None:
    session.start([RunSpec("one", SMALL)])
    session.step()
    settle(qtbot, session)
    (process,) = live_processes()
    os.kill(process.pid, signal.SIGKILL)
    start = time.monotonic()
    qtbot.waitUntil(
        lambda: (session.poll(), session.worker_error is not None)[1], timeout=5000
    )
    assert time.monotonic() - start < 1.0
    assert "SIGKILL" in session.worker_error and "memory" in session.worker_error
    assert session.is_idle() and not session.playing
    session.reset()  # R: a fresh worker, the same run from step 0
    assert session.worker_error is None
    session.run_until(5)
    settle(qtbot, session)
    assert steps(session) == [5] and session.states == [RunState.PAUSED]
    assert len(live_processes()) == 1 and live_processes()[0].pid != process.pid


def test_exit_descriptions_name_the_cause() -> None:
    assert "SIGTERM" in describe_exit(-signal.SIGTERM) and "memory" not in describe_exit(-15)
    assert "exit code 3" in describe_exit(3)
    assert all("Press R" in describe_exit(code) for code in (-9, -15, 1))
