"""Where the runs are heading: the generation, a target step, and a scene's opening steps.

A lesson scene (or a headless screenshot) often opens on runs that have already trained a few
hundred steps. Those steps run at full speed; then the chosen speed comes back and the runs
pause or play as the scene says. Keys pressed meanwhile must not leave the scene half-built:
Space changes what happens *after* the opening (play or pause), it does not stop the opening.

This is plain bookkeeping, no Qt and no worker: ``RunSession`` asks it what to do and does it,
and tests drive it directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gradsim.engine.protocol import RunState


@dataclass(frozen=True)
class RunProgress:
    """What the newest report said about one run."""

    state: RunState
    step_count: int


@dataclass
class Opening:
    """A scene's opening: train to ``steps`` at full speed, then play or stay paused."""

    steps: int
    then_play: bool


class Schedule:
    """Generation numbers, the step the runs are heading for, and the opening in progress."""

    def __init__(self) -> None:
        self.generation = 0
        self.target: int | None = None  # every live run trains (at least) to this step count
        self.opening: Opening | None = None

    def new_generation(self) -> int:
        """Number a fresh set of runs (a start or a reset): no target, no opening."""
        self.generation += 1
        self.target = None
        self.opening = None
        return self.generation

    # -- what the user and the scenes ask for ------------------------------------------------
    def start_opening(self, steps: int, then_play: bool) -> None:
        self.opening = Opening(int(steps), bool(then_play))
        self.target = int(steps)

    def clear_target(self) -> None:
        """Play or pause: the user took over, no step count to reach."""
        self.target = None

    def step(self, progress: Sequence[RunProgress]) -> None:
        """One step more than the runs have (or than the last step asked for: quick presses
        each count, before the worker has reported any)."""
        live = [p.step_count for p in progress if not p.state.stopped]
        base = self.target if self.target is not None else max(live, default=0)
        self.target = base + 1

    # -- what the reports say --------------------------------------------------------------------
    def is_idle(self, progress: Sequence[RunProgress]) -> bool:
        """Nothing training, and every run at the target (if any), diverged or failed.

        ``progress`` must be of the current generation (the caller drops older reports); an
        empty one means the worker has not reported on these runs yet.
        """
        if not progress:
            return False
        for run in progress:
            if run.state is RunState.RUNNING:
                return False
            if not run.state.stopped and self.target is not None and run.step_count < self.target:
                return False
        return True

    def finish_opening(self, progress: Sequence[RunProgress]) -> Opening | None:
        """The opening that has just finished (the caller restores the speed and plays if it
        says so), or None while one is still under way or there is none."""
        if self.opening is None or not self.is_idle(progress):
            return None
        done, self.opening = self.opening, None
        self.target = None
        return done
