"""Which recorded step a view shows: the newest, or one the user replays.

Every view that shows one step (the layer profile, a comparison's profile, the theory
readout's measured clause, the distributions, the learned function) asks here, so they all
show the same step: the one asked for, or, where old history was thinned out, the newest
recorded step before it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gradsim.engine.recording import Recorder


@dataclass(frozen=True)
class ProfileRow:
    """One recorded step's values of a statistic across layers."""

    step: int
    values: NDArray[np.float64]  # (depth,), index 0 = layer 1
    # Why another step stands in, or "": "step 7: every layer inf/nan" (the row before it is
    # shown, since an all-overflow row draws nothing).
    note: str = ""


def shown_index(history: Recorder, shown_step: int | None) -> int | None:
    """Index into ``history.steps`` of the step to show (None: nothing recorded yet)."""
    count = len(history)
    if not count:
        return None
    if shown_step is None:
        return count - 1
    index = history.index_at(shown_step)
    return 0 if index is None else index


def profile_row(history: Recorder, metric: str, shown_step: int | None) -> ProfileRow | None:
    """The values of ``metric`` to draw for ``shown_step`` (None: the newest step).

    A step whose every layer overflowed has nothing to draw on a log axis: the newest step
    before it with a finite value stands in, and the note says so (for the exploding seed,
    step 0's straight line of doublings)."""
    index = shown_index(history, shown_step)
    if index is None:
        return None
    values = history.row(metric, index)
    step = int(history.steps_at(index))
    if np.isfinite(values).any():
        return ProfileRow(step, values)
    for earlier in range(index - 1, -1, -1):
        candidate = history.row(metric, earlier)
        if np.isfinite(candidate).any():
            return ProfileRow(
                int(history.steps_at(earlier)), candidate, f"step {step}: every layer inf/nan"
            )
    return ProfileRow(step, values)
