"""The training loop that runs in the worker process, driven directly (no process, no Qt)."""

from __future__ import annotations

import numpy as np

from gradsim.engine.config import Config
from gradsim.engine.runner import Report, TrainingLoop
from gradsim.engine.simulation import Simulation
from gradsim.engine.stats import STAT_NAMES

SMALL = Config(depth=4, width=8, input_dim=3, output_dim=2, seed=2)


def _loop() -> tuple[TrainingLoop, list[Report]]:
    reports: list[Report] = []
    return TrainingLoop(send=reports.append), reports


def test_reset_reports_theory_and_nothing_runs_until_play() -> None:
    loop, reports = _loop()
    loop.handle(("reset", SMALL))
    assert reports[-1].generation == 1 and reports[-1].state == "paused"
    assert reports[-1].theory is not None and reports[-1].step_count == 0
    assert loop.seconds_until_due() is None  # paused: wait for a command
    loop.tick()
    assert len(reports) == 1


def test_play_until_stops_exactly_and_matches_the_engine() -> None:
    loop, reports = _loop()
    loop.handle(("reset", SMALL))
    loop.handle(("speed", float("inf")))
    loop.handle(("play", 30))
    while loop.playing:
        assert loop.seconds_until_due() == 0.0
        loop.tick()
    rows = [row for report in reports for row in report.rows]
    assert [row.step for row in rows] == list(range(30))
    assert reports[-1].state == "paused" and reports[-1].step_count == 30
    reference = Simulation(SMALL, record=False)
    for row in rows:
        expected = reference.step()
        for name in STAT_NAMES:
            np.testing.assert_array_equal(row.layers[name], expected.layers[name])


def test_finite_speed_waits_between_steps() -> None:
    loop, reports = _loop()
    loop.handle(("reset", SMALL))
    loop.handle(("speed", 10.0))
    loop.handle(("play", -1))
    loop.tick()
    assert sum(len(r.rows) for r in reports) == 1
    wait = loop.seconds_until_due()
    assert wait is not None and 0.05 < wait <= 0.1  # the next step is due in ~1/10 s


def test_step_live_and_stop() -> None:
    loop, reports = _loop()
    loop.handle(("reset", SMALL))
    loop.handle(("step",))
    assert [row.step for row in reports[-1].rows] == [0]
    loop.handle(("live", {"learning_rate": 0.3}))
    assert reports[-1].config.learning_rate == 0.3 and reports[-1].step_count == 1
    loop.handle(("stop",))
    assert loop.stopped


def test_bad_config_is_reported_not_raised() -> None:
    loop, reports = _loop()
    huge = Config(depth=2000, width=4096)  # 268 GB of weights: refused at once
    loop.handle(("reset", huge))
    assert reports[-1].error and "memory" in reports[-1].error
    loop.handle(("play", -1))
    assert not loop.playing
