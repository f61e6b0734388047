"""The training loop that runs in the worker process, driven directly (no process, no Qt)."""

from __future__ import annotations

import itertools

import numpy as np

from gradsim.engine.config import Config
from gradsim.engine.protocol import (
    Play,
    Report,
    Reset,
    RunState,
    SetLive,
    SetSpeed,
    Step,
    Stop,
)
from gradsim.engine.runner import TrainingLoop
from gradsim.engine.simulation import Simulation
from gradsim.engine.stats import STAT_NAMES

GENERATIONS = itertools.count(1)
SMALL = Config(depth=4, width=8, input_dim=3, output_dim=2, seed=2)


def _loop() -> tuple[TrainingLoop, list[tuple[Report, ...]]]:
    """A loop and the sets of reports it sent (one report per run, in run order)."""
    sets: list[tuple[Report, ...]] = []
    return TrainingLoop(send=sets.append), sets


def test_reset_reports_theory_and_nothing_runs_until_play() -> None:
    loop, reports = _loop()
    loop.handle(Reset((SMALL,), generation=7))
    assert reports[-1][0].generation == 7 and reports[-1][0].state == RunState.PAUSED
    assert reports[-1][0].theory is not None and reports[-1][0].step_count == 0
    assert loop.seconds_until_due() is None  # paused: wait for a command
    loop.tick()
    assert len(reports) == 1


def test_play_until_stops_exactly_and_matches_the_engine() -> None:
    loop, reports = _loop()
    loop.handle(Reset((SMALL,), generation=next(GENERATIONS)))
    loop.handle(SetSpeed(float("inf")))
    loop.handle(Play(until=30))
    while loop.playing:
        assert loop.seconds_until_due() == 0.0
        loop.tick()
    rows = [row for (report,) in reports for row in report.rows]
    assert [row.step for row in rows] == list(range(30))
    assert reports[-1][0].state == RunState.PAUSED and reports[-1][0].step_count == 30
    reference = Simulation(SMALL, record=False)
    for row in rows:
        expected = reference.step()
        for name in STAT_NAMES:
            np.testing.assert_array_equal(row.layers[name], expected.layers[name])


def test_finite_speed_waits_between_steps() -> None:
    loop, reports = _loop()
    loop.handle(Reset((SMALL,), generation=next(GENERATIONS)))
    loop.handle(SetSpeed(10.0))
    loop.handle(Play())
    loop.tick()
    assert sum(len(r.rows) for (r,) in reports) == 1
    wait = loop.seconds_until_due()
    assert wait is not None and 0.05 < wait <= 0.1  # the next step is due in ~1/10 s


def test_step_live_and_stop() -> None:
    loop, reports = _loop()
    loop.handle(Reset((SMALL,), generation=next(GENERATIONS)))
    loop.handle(Step())
    assert [row.step for row in reports[-1][0].rows] == [0]
    loop.handle(SetLive((("learning_rate", 0.3),)))
    assert reports[-1][0].config.learning_rate == 0.3 and reports[-1][0].step_count == 1
    loop.handle(Stop())
    assert loop.stopped


def test_bad_config_is_reported_not_raised() -> None:
    loop, reports = _loop()
    huge = Config(depth=2000, width=4096)  # 268 GB of weights: refused at once
    loop.handle(Reset((huge,), generation=next(GENERATIONS)))
    assert reports[-1][0].error and "memory" in reports[-1][0].error
    loop.handle(Play())
    assert not loop.playing


# -- several runs in lockstep ---------------------------------------------------------------
EXPLODING = Config(
    depth=100,
    width=8,
    input_dim=8,
    output_dim=8,
    activation="linear",
    init="identity",
    init_gain=2.0,
    batch_size=8,
)  # diverges at step 1
OTHER = SMALL.replace(activation="relu", init="he_normal")


def _latest_set(reports: list[tuple[Report, ...]]) -> list[Report]:
    """The last set of reports (one per run, in run order, of one generation)."""
    latest = list(reports[-1])
    assert len({r.generation for r in latest}) == 1
    return latest


def _steps_by_run(reports: list[tuple[Report, ...]], runs: int) -> list[list[int]]:
    return [[row.step for r in reports for row in r[i].rows] for i in range(runs)]


def test_runs_step_in_lockstep_and_each_matches_its_own_engine() -> None:
    loop, reports = _loop()
    loop.handle(Reset((SMALL, OTHER), generation=next(GENERATIONS)))
    latest = _latest_set(reports)
    assert [r.config for r in latest] == [SMALL, OTHER]
    assert all(r.theory is not None and r.step_count == 0 for r in latest)
    loop.handle(Step())
    loop.handle(Step())
    assert [r.step_count for r in _latest_set(reports)] == [2, 2]
    loop.handle(SetSpeed(float("inf")))
    loop.handle(Play(until=25))
    while loop.playing:
        loop.tick()
        assert len({r.step_count for r in _latest_set(reports)}) == 1  # never one ahead
    latest = _latest_set(reports)
    assert [(r.step_count, r.state) for r in latest] == [(25, RunState.PAUSED)] * 2
    for config, steps in zip((SMALL, OTHER), _steps_by_run(reports, 2), strict=True):
        assert steps == list(range(25))
        reference = Simulation(config, record=False)
        rows = [row for r in reports for run in r if run.config == config for row in run.rows]
        for row in rows:
            np.testing.assert_array_equal(
                row.layers["backprop_grad_rms"], reference.step().layers["backprop_grad_rms"]
            )


def test_a_diverged_run_stops_alone_and_play_ends_when_all_have() -> None:
    loop, reports = _loop()
    loop.handle(Reset((EXPLODING, SMALL), generation=next(GENERATIONS)))
    loop.handle(SetSpeed(float("inf")))
    loop.handle(Play(until=20))
    while loop.playing:
        loop.tick()
    exploded, fine = _latest_set(reports)
    assert (exploded.state, exploded.step_count) == (RunState.DIVERGED, 2)
    assert (fine.state, fine.step_count) == (RunState.PAUSED, 20)
    assert _steps_by_run(reports, 2) == [[0, 1], list(range(20))]
    loop.handle(Step())  # only the live run moves
    assert [r.step_count for r in _latest_set(reports)] == [2, 21]
    # Every run diverged: playing stops by itself.
    loop.handle(Reset((EXPLODING, EXPLODING.replace(init_gain=3.0)), generation=next(GENERATIONS)))
    loop.handle(Play())
    while loop.playing:
        loop.tick()
    assert [r.state for r in _latest_set(reports)] == [RunState.DIVERGED, RunState.DIVERGED]
    loop.handle(Play())  # nothing left to train: stays stopped
    assert not loop.playing and loop.seconds_until_due() is None


def test_an_error_in_one_run_is_that_runs_only() -> None:
    loop, reports = _loop()
    huge = Config(depth=2000, width=4096)
    loop.handle(Reset((SMALL, huge, OTHER), generation=next(GENERATIONS)))
    errors = [r.error for r in _latest_set(reports)]
    assert errors[0] is None and errors[2] is None and "memory" in errors[1]
    loop.handle(SetSpeed(float("inf")))
    loop.handle(Play(until=5))
    while loop.playing:
        loop.tick()
    assert [r.step_count for r in _latest_set(reports)] == [5, 0, 5]


def test_a_failing_step_stops_that_run_only() -> None:
    loop, reports = _loop()
    loop.handle(Reset((SMALL, OTHER), generation=next(GENERATIONS)))
    broken = loop._runs[1].sim

    def fail() -> None:
        raise MemoryError("no room for the next batch")

    broken.step = fail
    loop.handle(Step())
    loop.handle(Step())
    first, second = _latest_set(reports)
    assert first.step_count == 2 and first.error is None
    assert second.step_count == 0 and "no room" in second.error and second.state == RunState.FAILED


def test_a_refused_live_change_is_reported_and_the_runs_go_on() -> None:
    loop, reports = _loop()
    loop.handle(Reset((SMALL, OTHER), generation=1))
    loop.handle(Step())
    loop.handle(SetLive((("learning_rate", -1.0),)))  # out of range: a ConfigError per run
    refused = _latest_set(reports)
    assert all(r.notice and "learning_rate" in r.notice for r in refused)
    assert all(r.error is None and r.state == RunState.PAUSED for r in refused)
    assert [r.config.learning_rate for r in refused] == [SMALL.learning_rate] * 2
    loop.handle(Step())  # still serving, and the notice was said once
    assert [(r.step_count, r.notice) for r in _latest_set(reports)] == [(2, None), (2, None)]


def test_a_command_that_raises_does_not_end_the_loop() -> None:
    loop, reports = _loop()
    loop.handle(Reset((SMALL,), generation=1))
    loop.handle(Play(until="ten"))  # type: ignore[arg-type]  # a malformed command
    loop.tick()
    assert not loop.stopped
    loop.handle("not a command")  # type: ignore[arg-type]
    assert reports[-1][0].notice and "refused" in reports[-1][0].notice
    loop.handle(Step())
    assert reports[-1][0].step_count == 1 and reports[-1][0].notice is None


# -- distributions and the learned function, on a time budget --------------------------------
SPIRALS = Config(
    depth=4, width=8, input_dim=2, output_dim=3, dataset="spirals", loss="cross_entropy", seed=2
)


def test_a_step_to_look_at_carries_its_distributions_and_learned_function() -> None:
    from gradsim.engine.distributions import measure
    from gradsim.engine.learned_function import DecisionMap, learned_function

    loop, reports = _loop()
    loop.handle(Reset((SPIRALS,), generation=next(GENERATIONS)))
    (first,) = reports[-1]
    assert first.distributions == ()  # no step yet, but the untrained function to draw
    assert len(first.functions) == 1 and first.functions[0].step == 0
    for _ in range(3):
        loop.handle(Step())
    (report,) = reports[-1]
    (measured,) = report.distributions
    (function,) = report.functions
    assert measured.step == 2 and function.step == 3  # the row's step; the weights after it
    reference = Simulation(SPIRALS, record=False)
    for _ in range(3):
        reference.step()
    expected = measure(reference.network, SPIRALS.activation, 2)
    for kind, histogram in measured.histograms.items():
        np.testing.assert_array_equal(histogram.counts, expected.histograms[kind].counts)
    assert isinstance(function, DecisionMap)
    again = learned_function(reference, function.x.size)
    assert isinstance(again, DecisionMap)
    np.testing.assert_array_equal(function.classes, again.classes)


def test_playing_flat_out_measures_views_a_few_times_a_second_not_every_step() -> None:
    loop, reports = _loop()
    loop.handle(Reset((SPIRALS,), generation=next(GENERATIONS)))
    loop.handle(SetSpeed(float("inf")))
    loop.handle(Play(until=3000))
    while loop.playing:
        loop.tick()
    rows = sum(len(report.rows) for (report,) in reports)
    measured = [d.step for (report,) in reports for d in report.distributions]
    assert rows == 3000
    assert 1 <= len(measured) < 300  # on a time budget (5 a second at most), not per step
    assert measured[-1] == 2999  # the opening's last step is one to look at: always measured
    assert measured[0] == 0  # and step 0, where every replay and band over time starts
    assert measured == sorted(set(measured))
    functions = [f.step for (report,) in reports for f in report.functions]
    assert functions[-1] == 3000 and len(functions) < 300
