"""The colour levels of a view's heatmaps (a single run's, or a comparison's): one range for
all (a colour means one size everywhere), pinned by the view state or following the data."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from gradsim.app.model.view_state import ViewState
from gradsim.app.views.colors import LevelTracker
from gradsim.app.views.heatmap import HeatmapView


class SharedLevels:
    """Chooses and applies the levels after the heatmaps took their data."""

    def __init__(self) -> None:
        self._tracker = LevelTracker()
        self._key: Hashable = None

    def apply(
        self,
        heatmaps: Sequence[HeatmapView],
        state: ViewState,
        key: Hashable,
        diverged_at: Sequence[int | None] = (),
    ) -> tuple[float, float]:
        """Pin the state's levels, or (automatic) follow the finite values the heatmaps draw
        and tell the state; a fraction always spans 0-1. Another ``key`` (new runs, metric or
        step window) starts afresh: nothing of an earlier picture lingers in the colours.

        A run that diverged (``diverged_at``, by heatmap) must not flatten the others: the
        levels follow the runs still healthy, or, when none is, every run up to the step it
        diverged at (the overflowing step's wild values would squeeze the lesson, step 0,
        into one colour). What lies beyond is drawn in the end colours; the bar says so."""
        view = state.view
        # A run that has just diverged leaves the levels: what it drew while still healthy
        # (its values on the way to overflow) must not hold them wide either.
        key = (key, tuple(stop is not None for stop in diverged_at))
        if key != self._key or not view.auto_levels:
            self._key = key
            self._tracker.reset()  # also when automatic levels come back
        if heatmaps[0].is_fraction():
            levels = (0.0, 1.0)
        elif view.auto_levels:
            stops = list(diverged_at) or [None] * len(heatmaps)
            healthy = [h for h, stop in zip(heatmaps, stops, strict=True) if stop is None]
            extents = (
                [h.drawn_extent() for h in healthy]
                if healthy
                else [h.drawn_extent(before=stop) for h, stop in zip(heatmaps, stops, strict=True)]
            )
            lo, hi = min(e[0] for e in extents), max(e[1] for e in extents)
            levels = self._tracker.update_range(lo, hi)
            state.show_levels(*levels)
        else:
            levels = view.levels
        for heatmap in heatmaps:
            heatmap.set_levels(*levels)
        return levels
