"""The costlier views of a live run, measured in the worker on a time budget.

Distributions (histograms of every layer) and the learned function (a forward pass over a
grid) cost from a fraction of a training step to several steps each on a deep net, so the
worker measures them a few times a second at most, and less when they are slow: each may
take about ``SHARE`` of the training time (both together about 5 %). A step the user is
meant to look at (a single step, the end of a scene's opening, a pause) is always measured,
so the view on screen matches the step shown.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gradsim.engine.distributions import Meter, StepDistributions
    from gradsim.engine.learned_function import LearnedFunction
    from gradsim.engine.simulation import Simulation

PERIOD_S = 0.2  # at most five measurements of each a second
SHARE = 0.025  # of the training time, for each kind of view: 5 % for both at most
GRID_BUDGET = 3e8  # multiply-adds for one grid pass (~20 ms here): sets the grid's size
MIN_RESOLUTION, MAX_RESOLUTION = 24, 80


def grid_resolution(weights: int) -> int:
    """Points along each side of the learned function's grid for a net of ``weights``
    weights: fine for small nets, coarser for deep ones, so one pass costs about the same."""
    side = math.isqrt(int(GRID_BUDGET // max(1, weights)))
    return max(MIN_RESOLUTION, min(MAX_RESOLUTION, side))


@dataclass
class ViewFeed:
    """For one run: when the next distributions and learned function are due."""

    _meter: Meter | None = None
    _next: dict[str, float] = field(default_factory=dict)
    _done: dict[str, int] = field(default_factory=dict)  # the step each was last measured at

    def collect(
        self, sim: Simulation, force: bool
    ) -> tuple[StepDistributions | None, LearnedFunction | None]:
        """What is due now (or everything, with ``force``), measured on the step just taken:
        the network's buffers still hold it, the learned function describes the weights the
        next step will use."""
        distributions = function = None
        if sim.step_count and self._due("distributions", sim.step_count, force):
            start = time.perf_counter()
            distributions = self._measure(sim)
            self._spent("distributions", sim.step_count, start)
        if self._due("function", sim.step_count, force):
            from gradsim.engine.learned_function import learned_function

            start = time.perf_counter()
            function = learned_function(sim, grid_resolution(sim.network.n_weights))
            self._spent("function", sim.step_count, start)
        return distributions, function

    def _measure(self, sim: Simulation) -> StepDistributions:
        if self._meter is None:
            from gradsim.engine.distributions import Meter

            self._meter = Meter(sim.network, sim.config.activation)
        return self._meter.measure(sim.step_count - 1)

    def _due(self, kind: str, steps: int, force: bool) -> bool:
        if self._done.get(kind) == steps:
            return False  # this step's is out already (a pause right after a measured step)
        return force or time.perf_counter() >= self._next.get(kind, 0.0)

    def _spent(self, kind: str, steps: int, start: float) -> None:
        now = time.perf_counter()
        self._done[kind] = steps
        self._next[kind] = now + max(PERIOD_S, (now - start) / SHARE)
