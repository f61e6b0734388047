"""The background worker: commands, snapshot hand-over, exact steps, clean shutdown."""

from __future__ import annotations

import numpy as np
import pytest

from gradsim.app.model.worker import Snapshot, SnapshotHub, TrainingController, running_threads
from gradsim.engine.config import Config
from gradsim.engine.protocol import Play, Reset, RunState, SetLive, SetSpeed, Step
from gradsim.engine.simulation import Simulation
from gradsim.engine.stats import STAT_NAMES, StepStats

SMALL = Config(depth=6, width=16, input_dim=4, output_dim=2, activation="tanh", seed=5)


@pytest.fixture
def controller(qtbot):
    ctrl = TrainingController()
    yield ctrl
    assert ctrl.stop(1000)


def _collect(ctrl: TrainingController, qtbot, until, timeout: int = 10_000) -> list[Snapshot]:
    """Take snapshots until ``until(all_rows, latest)`` holds."""
    taken: list[Snapshot] = []
    rows: list[StepStats] = []

    def check() -> bool:
        taken_now = ctrl.hub.take_all()
        snap = taken_now[0] if taken_now else None
        if snap is not None:
            taken.append(snap)
            rows.extend(snap.rows)
        return bool(taken) and until(rows, taken[-1])

    qtbot.waitUntil(check, timeout=timeout)
    return taken


def test_play_until_runs_exactly_and_matches_the_engine(controller, qtbot) -> None:
    controller.send(Reset((SMALL,), 1))
    controller.send(SetSpeed(float("inf")))
    controller.send(Play(until=40))
    snaps = _collect(
        controller, qtbot, lambda rows, s: s.state == RunState.PAUSED and len(rows) >= 40
    )
    rows = [row for snap in snaps for row in snap.rows]
    assert [row.step for row in rows] == list(range(40))
    reference = Simulation(SMALL, record=False)
    for row in rows:
        expected = reference.step()
        assert row.loss == expected.loss
        for name in STAT_NAMES:
            np.testing.assert_array_equal(row.layers[name], expected.layers[name])


def test_step_takes_exactly_one(controller, qtbot) -> None:
    controller.send(Reset((SMALL,), 1))
    controller.send(Step())
    controller.send(Step())
    snaps = _collect(controller, qtbot, lambda rows, s: s.step_count == 2)
    assert [row.step for snap in snaps for row in snap.rows] == [0, 1]
    assert snaps[-1].state is RunState.PAUSED


# 100 linear layers, W = 2I: diverges at step 1.
EXPLODING = Config(
    depth=100,
    width=8,
    input_dim=8,
    output_dim=8,
    activation="linear",
    init="identity",
    init_gain=2.0,
    batch_size=8,
)


def test_divergence_stops_the_run(controller, qtbot) -> None:
    exploding = EXPLODING
    controller.send(Reset((exploding,), 1))
    controller.send(SetSpeed(float("inf")))
    controller.send(Play())
    snaps = _collect(controller, qtbot, lambda rows, s: s.state == RunState.DIVERGED)
    rows = [row for snap in snaps for row in snap.rows]
    assert [row.step for row in rows] == [0, 1] and rows[-1].diverged
    controller.send(Play())  # ignored once diverged
    qtbot.wait(50)
    later = (controller.hub.take_all() or [None])[0]
    assert later is None or (later.state is RunState.DIVERGED and not later.rows)


def test_live_settings_do_not_restart(controller, qtbot) -> None:
    controller.send(Reset((SMALL,), 1))
    controller.send(Step())
    _collect(controller, qtbot, lambda rows, s: s.step_count == 1)
    controller.send(SetLive((("learning_rate", 0.5),)))
    snaps = _collect(controller, qtbot, lambda rows, s: s.config.learning_rate == 0.5)
    assert snaps[-1].step_count == 1 and snaps[-1].generation == 1


def test_reset_starts_a_new_generation(controller, qtbot) -> None:
    controller.send(Reset((SMALL,), 1))
    controller.send(Step())
    controller.send(Reset((SMALL.replace(depth=3),), 2))
    snaps = _collect(controller, qtbot, lambda rows, s: s.generation == 2)
    assert snaps[-1].config.depth == 3 and snaps[-1].step_count == 0
    assert snaps[-1].theory is not None and snaps[-1].theory.available


def test_stop_ends_the_thread_while_running_flat_out(qtbot) -> None:
    ctrl = TrainingController()
    ctrl.send(Reset((Config(depth=30, width=64),), 1))
    ctrl.send(SetSpeed(float("inf")))
    ctrl.send(Play())
    qtbot.wait(200)
    assert ctrl.stop(1000)
    assert running_threads() == []


def _snapshot(gen: int, steps: list[int], **extra) -> Snapshot:
    """A running snapshot of generation ``gen`` carrying one row per step in ``steps``."""
    layers = {name: np.zeros(1) for name in STAT_NAMES}
    rows = tuple(StepStats(step=s, loss=1.0, accuracy=np.nan, layers=layers) for s in steps)
    return Snapshot(
        generation=gen,
        config=SMALL,
        rows=rows,
        step_count=len(steps),
        state=RunState.RUNNING,
        steps_per_second=1.0,
        input_second_moment=1.0,
        **extra,
    )


def test_hub_accumulates_rows_and_drops_old_generations() -> None:
    hub = SnapshotHub()

    def rows(taken) -> list[list[int]]:
        return [[row.step for row in snapshot.rows] for snapshot in taken]

    assert hub.take_all() is None
    hub.publish([_snapshot(1, [0, 1]), _snapshot(1, [0, 1])])
    hub.publish([_snapshot(1, [2]), _snapshot(1, [2])])
    assert rows(hub.take_all()) == [[0, 1, 2], [0, 1, 2]]  # every row since the last take
    assert hub.take_all() is None  # nothing new
    hub.publish([_snapshot(1, [3]), _snapshot(1, [3])])
    hub.publish([_snapshot(2, [0])])  # a reset to one run: the old rows are of no use
    assert rows(hub.take_all()) == [[0]]


def test_stop_before_the_process_started(qtbot) -> None:
    ctrl = TrainingController()
    ctrl.send(Reset((SMALL,), 1))
    assert ctrl.stop(1000)  # no event loop turn yet: the process never started
    assert running_threads() == []


def test_runs_in_lockstep_reach_the_ui_as_complete_sets(controller, qtbot) -> None:
    exploding = EXPLODING
    configs = (SMALL, exploding, SMALL.replace(activation="relu"))
    controller.send(Reset(tuple(configs), 1))
    controller.send(SetSpeed(float("inf")))
    controller.send(Play(until=30))
    rows: list[list[int]] = [[], [], []]
    latest: list[Snapshot] = []

    def done() -> bool:
        taken = controller.hub.take_all()
        if taken is not None:
            live = [s.step_count for s in taken if s.state is not RunState.DIVERGED]
            assert len(set(live)) == 1  # the UI never sees one run ahead of another
            for steps, snap in zip(rows, taken, strict=True):
                steps.extend(row.step for row in snap.rows)
            latest[:] = taken
        stopped = all(s.state is not RunState.RUNNING for s in latest)
        return bool(latest) and stopped and len(rows[0]) == 30

    qtbot.waitUntil(done, timeout=10_000)
    assert [s.config for s in latest] == list(configs)
    assert [s.state for s in latest] == [RunState.PAUSED, RunState.DIVERGED, RunState.PAUSED]
    assert rows == [list(range(30)), [0, 1], list(range(30))]
    assert all(s.theory is not None for s in latest)  # each run keeps its own theory
    assert latest[0].theory is not latest[2].theory


def test_a_refused_command_is_reported_and_the_worker_keeps_serving(controller, qtbot) -> None:
    controller.send(Reset((SMALL,), 1))
    controller.send(SetLive((("learning_rate", -1.0),)))  # out of range: would once end the worker
    snaps = _collect(controller, qtbot, lambda rows, s: s.notice is not None)
    assert "learning_rate" in snaps[-1].notice and snaps[-1].error is None
    controller.send(Step())
    snaps = _collect(controller, qtbot, lambda rows, s: s.step_count == 1)
    assert snaps[-1].notice is None and controller.exit_code() is None


def test_exit_code_says_how_the_process_ended(qtbot) -> None:
    import os
    import signal

    from gradsim.app.model.worker import live_processes

    ctrl = TrainingController()
    ctrl.send(Reset((SMALL,), 1))
    qtbot.waitUntil(lambda: bool(live_processes()), timeout=5000)
    assert ctrl.exit_code() is None
    os.kill(live_processes()[0].pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: ctrl.exit_code() is not None, timeout=5000)
    assert ctrl.exit_code() == -signal.SIGKILL
    ctrl.send(Step())  # sent into the void: no error
    assert ctrl.stop(1000) and ctrl.exit_code() is None  # stopped on purpose: not "died"
    assert running_threads() == []
