"""The messages between the app and its training process: typed commands in, reports out.

Both sides import this module, so it stays light: no simulation, no Qt, only dataclasses that
pickle across the process boundary. The app numbers the generations itself (``Reset``): a
fresh worker process started after one died carries on with the app's numbering, and a
report always says which set of runs it is about.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gradsim.engine.config import Config
    from gradsim.engine.distributions import StepDistributions
    from gradsim.engine.learned_function import LearnedFunction
    from gradsim.engine.stats import StepStats
    from gradsim.engine.theory import TheoryProfile


class RunState(enum.Enum):
    """Where one run is: training, waiting, stopped by an overflow, or stopped by an error."""

    PAUSED = "paused"
    RUNNING = "running"
    DIVERGED = "diverged"
    FAILED = "failed"  # could not start, or a step raised: it trains no more until a reset

    @property
    def stopped(self) -> bool:
        """Whether the run can never take another step (until a reset)."""
        return self in (RunState.DIVERGED, RunState.FAILED)


# -- commands (app -> worker) ------------------------------------------------------------------
@dataclass(frozen=True)
class Reset:
    """Start these 1-4 runs from their initial weights, in lockstep, as ``generation``."""

    configs: tuple[Config, ...]
    generation: int


@dataclass(frozen=True)
class Play:
    """Train; with ``until``, pause once every live run has taken that many steps."""

    until: int | None = None


@dataclass(frozen=True)
class Pause:
    """Stop training after the current step."""


@dataclass(frozen=True)
class Step:
    """Take exactly one lockstep training step, then stay paused."""


@dataclass(frozen=True)
class SetSpeed:
    """Target lockstep steps per second; ``math.inf`` trains as fast as possible."""

    steps_per_second: float


@dataclass(frozen=True)
class SetLive:
    """Change training-only settings (learning rate, momentum, clipping) of every run."""

    changes: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Stop:
    """End the worker process."""


Command = Reset | Play | Pause | Step | SetSpeed | SetLive | Stop


# -- reports (worker -> app) ---------------------------------------------------------------------
@dataclass(frozen=True)
class Report:
    """What the worker tells the app about one run after a command or a slice of training."""

    generation: int  # the Reset this run belongs to
    config: Config
    rows: tuple[StepStats, ...]  # steps taken since the previous report, oldest first
    step_count: int  # steps taken so far; the newest row is step ``step_count - 1``
    state: RunState
    steps_per_second: float  # lockstep training steps per second
    input_second_moment: float
    theory: TheoryProfile | None = None  # with the first report of each generation
    error: str | None = None  # why this run stopped (state FAILED); the others may be fine
    notice: str | None = None  # a command this run refused; it goes on as before
    # Measured a few times a second at most (gradsim.engine.live_views), so often empty; the
    # app's mailbox gathers them between takes, as it does rows:
    distributions: tuple[StepDistributions, ...] = ()  # each of one step (a row's)
    functions: tuple[LearnedFunction, ...] = ()  # what the weights after a row compute
