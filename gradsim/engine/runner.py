"""The training loop the app runs in a separate process: play, pause, step, speed, stop.

Why a process and not a thread: the window's drawing is Python code too, and two Python threads
share one interpreter lock, so a busy window halved training speed (and training made the window
lag). In its own process the simulation has a core to itself. This module is pure Python and
numpy, so the child process never loads Qt.

The loop holds one run, or 2-4 runs compared side by side: they train in lockstep, one step of
every live run per training step, so their step counts stay equal. A run that diverges (or
fails) stops on its own; the others go on.

Protocol (``gradsim.engine.protocol``): the app sends typed commands on ``commands``; after
every command and every time slice of training the loop sends on ``reports`` one message, a
tuple of ``Report`` (one per run, in run order: the app never sees one run a step ahead of
another), and a final ``None`` when it stops. A command that raises is reported on the run
it failed for (``Report.notice``, or ``error`` when the run cannot go on) and the loop keeps
serving.
"""

from __future__ import annotations

import math
import operator
import signal
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING

from gradsim.engine.live_views import ViewFeed
from gradsim.engine.protocol import (
    Command,
    Pause,
    Play,
    Report,
    Reset,
    RunState,
    SetLive,
    SetSpeed,
    Step,
    Stop,
)

if TYPE_CHECKING:  # the app imports this module's neighbours; the simulation loads in the child
    from gradsim.engine.config import Config
    from gradsim.engine.distributions import StepDistributions
    from gradsim.engine.learned_function import LearnedFunction
    from gradsim.engine.simulation import Simulation
    from gradsim.engine.stats import StepStats
    from gradsim.engine.theory import TheoryProfile

# Longest stretch of training between two looks at the command pipe (pause, stop...).
TIME_SLICE_S = 0.025
MAX_SPEED = math.inf


@dataclass
class _Run:
    """One simulation of the set, and what the app must hear about it."""

    config: Config
    sim: Simulation | None = None
    theory: TheoryProfile | None = None
    error: str | None = None
    failed: bool = False  # a step raised: its state may be half-updated, so it trains no more
    feed: ViewFeed = field(default_factory=ViewFeed)  # distributions, learned function

    @property
    def live(self) -> bool:
        """Whether the next training step advances this run."""
        return self.sim is not None and not self.sim.diverged and not self.failed

    @property
    def step_count(self) -> int:
        return 0 if self.sim is None else self.sim.step_count

    @property
    def state(self) -> RunState:
        if self.failed or self.sim is None:
            return RunState.FAILED
        return RunState.DIVERGED if self.sim.diverged else RunState.PAUSED


@dataclass
class TrainingLoop:
    """Play/pause/step state machine around the runs of the current generation."""

    send: Callable[[tuple[Report, ...]], object]  # one report per run, in run order
    speed: float = 30.0
    generation: int = 0
    playing: bool = False
    stopped: bool = False
    _runs: list[_Run] = field(default_factory=list)
    _target: int | None = None
    _next_due: float = 0.0
    _recent: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=64))
    _notices: dict[int, str] = field(default_factory=dict)  # by run: refused commands

    # -- commands --------------------------------------------------------------------------
    def handle(self, command: Command) -> None:
        """Apply one command and report every run. A command that raises is reported (on
        each run it failed for) instead of ending the loop: the app must hear about it."""
        try:
            rows = self._apply(command)
        except Exception as exc:  # noqa: BLE001 - one bad command must not end the worker
            rows = []
            for i in range(len(self._runs)):
                self._notices[i] = f"{type(command).__name__} was refused: {exc}"
        if not self.stopped:
            # A step to look at: measure its views whatever their budget says.
            look = isinstance(command, (Reset, Step, Pause))
            self._report(rows, theory=isinstance(command, Reset), look=look)

    def _apply(self, command: Command) -> Sequence[Sequence[StepStats]]:
        """Carry out ``command``; the rows it trained, by run (empty: none)."""
        if isinstance(command, Stop):
            self.stopped = True
        elif isinstance(command, Reset):
            self._reset(command.configs, command.generation)
        elif isinstance(command, Play):
            self._play(command.until)
        elif isinstance(command, Pause):
            self.playing = False
        elif isinstance(command, Step):
            self.playing = False
            if self._live():
                return self._steps(1)
        elif isinstance(command, SetSpeed):
            rate = float(command.steps_per_second)
            self.speed = MAX_SPEED if not rate > 0 else rate  # nan or <= 0: flat out
            self._next_due = time.perf_counter()
        elif isinstance(command, SetLive):
            self._set_live(dict(command.changes))
        else:
            raise TypeError(f"unknown command {command!r}")
        return []

    def _set_live(self, changes: dict[str, float]) -> None:
        """Each run takes the changes, or refuses them (reported on that run) and goes on."""
        for i, run in enumerate(self._runs):
            if run.sim is None:
                continue
            try:
                run.sim.set_live(**changes)
            except Exception as exc:  # noqa: BLE001 - e.g. a ConfigError: the run is unchanged
                self._notices[i] = f"the change was refused: {exc}"
            run.config = run.sim.config

    def _reset(self, configs: Sequence[Config], generation: int) -> None:
        self.generation = generation
        self._recent.clear()
        self._notices.clear()
        self._runs = []  # free the old networks before building the new ones
        self._runs = [self._build(config) for config in configs]
        self._target = None
        if not self._live():
            self.playing = False

    @staticmethod
    def _build(config: Config) -> _Run:
        from gradsim.engine.simulation import Simulation
        from gradsim.engine.theory import predict

        run = _Run(config)
        try:
            run.sim = Simulation(config, record=False)
            run.theory = predict(config, run.sim.input_second_moment)
        except MemoryError:
            run.error = "this network does not fit in memory; make it smaller"
        except Exception as exc:  # noqa: BLE001 - shown to the user, never a traceback
            run.error = f"cannot start this run: {exc}"
        if run.error is not None:
            run.sim = None
        return run

    def _play(self, until: int | None) -> None:
        target = None if until is None else operator.index(until)  # TypeError: refused
        if not self._live():
            return
        self._target = target
        self.playing = True
        self._next_due = time.perf_counter()

    def _live(self) -> list[_Run]:
        return [run for run in self._runs if run.live]

    # -- running ---------------------------------------------------------------------------
    def seconds_until_due(self) -> float | None:
        """How long the caller may wait for commands before ``tick`` (None: until one comes)."""
        if not self.playing:
            return None
        if self.speed == MAX_SPEED:
            return 0.0
        return max(0.0, self._next_due - time.perf_counter())

    def tick(self) -> None:
        """Train what is due now (one time slice at most) and report it."""
        if not self.playing or not self._live():
            return
        if self.speed == MAX_SPEED:
            rows = self._steps(None)
        else:
            now = time.perf_counter()
            due = 1 + int((now - self._next_due) * self.speed)
            rows = self._steps(due)
            # Keep the rate; if a slice could not keep up, do not try to catch up in a burst.
            taken = max((len(r) for r in rows), default=0)
            self._next_due = max(self._next_due + taken / self.speed, now - 0.1)
        self._report(rows, look=not self.playing)  # a scene's opening ended: its last step

    def _steps(self, count: int | None) -> list[list[StepStats]]:
        """Up to ``count`` lockstep steps (None: as many as fit in a time slice); the rows
        each run took, by run."""
        rows: list[list[StepStats]] = [[] for _ in self._runs]
        live = self._live()
        if self._target is not None and self.playing and live:
            remaining = max(0, self._target - min(run.step_count for run in live))
            count = remaining if count is None else min(count, remaining)
        taken = 0
        start = time.perf_counter()
        while count != 0 and live:
            for i, run in enumerate(self._runs):
                if not run.live:
                    continue
                assert run.sim is not None
                try:
                    rows[i].append(run.sim.step())
                except Exception as exc:  # noqa: BLE001 - e.g. MemoryError: tell the user, stop
                    run.error = f"training stopped: {exc}"
                    run.failed = True
            taken += 1
            live = self._live()
            if count is not None and taken >= count:
                break
            if any(run.step_count == 1 for run in live):
                break  # step 0 is reported alone: its distributions are always measured
            if time.perf_counter() - start >= TIME_SLICE_S:
                break
        if not live or (
            self._target is not None and min(run.step_count for run in live) >= self._target
        ):
            self.playing = False
            self._target = None
        self._recent.append((time.perf_counter(), taken))
        return rows

    def _rate(self) -> float:
        if not self.playing or len(self._recent) < 2:
            return 0.0
        now = time.perf_counter()
        window = [(t, n) for t, n in self._recent if now - t <= 1.0]
        if len(window) < 2:
            return 0.0
        return sum(n for _, n in window[1:]) / max(1e-9, window[-1][0] - window[0][0])

    def _report(
        self, rows: Sequence[Sequence[StepStats]], theory: bool = False, look: bool = False
    ) -> None:
        """Send the set of reports, one per run in run order (nothing before the first
        reset); ``rows`` by run, or empty. ``look``: a step the user is shown now, whose
        distributions and learned function are measured whatever their budget."""
        if not self._runs:
            return
        rate = self._rate()
        trained = [bool(rows) and bool(rows[i]) for i in range(len(self._runs))]
        views = [self._views(r, took, look) for r, took in zip(self._runs, trained, strict=True)]
        self.send(
            tuple(
                Report(
                    generation=self.generation,
                    config=run.config,
                    rows=tuple(rows[i]) if rows else (),
                    step_count=run.step_count,
                    state=RunState.RUNNING if self.playing and run.live else run.state,
                    steps_per_second=rate,
                    input_second_moment=1.0 if run.sim is None else run.sim.input_second_moment,
                    theory=run.theory if theory else None,
                    error=run.error,
                    notice=self._notices.pop(i, None),
                    distributions=tuple(d for d in views[i][:1] if d is not None),
                    functions=tuple(f for f in views[i][1:] if f is not None),
                )
                for i, run in enumerate(self._runs)
            )
        )


    @staticmethod
    def _views(
        run: _Run, trained: bool, look: bool
    ) -> tuple[StepDistributions | None, LearnedFunction | None]:
        """The run's views that are due (all of them for a step to look at, for step 0 (the
        start every replay and every band over time goes back to), or the step that
        diverged: its numbers are the lesson)."""
        sim = run.sim
        if sim is None or not (trained or look):
            return None, None
        try:
            return run.feed.collect(sim, look or sim.diverged or sim.step_count == 1)
        except Exception:  # noqa: BLE001 - a view that cannot be measured must not stop training
            return None, None


def serve(commands: Connection, reports: Connection, blas_threads: int = 1) -> None:
    """Child-process entry point: run the loop until told to stop or the parent goes away."""
    from threadpoolctl import threadpool_limits

    # Ctrl+C in a terminal reaches the whole process group: the app decides when to stop
    # (it sends Stop, or closes the pipe), so the worker never dies half-way on its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # One BLAS thread here leaves the other core to the window.
    with threadpool_limits(limits=blas_threads, user_api="blas"):
        loop = TrainingLoop(send=reports.send)
        try:
            while not loop.stopped:
                if commands.poll(loop.seconds_until_due()):
                    loop.handle(commands.recv())
                    while not loop.stopped and commands.poll(0):
                        loop.handle(commands.recv())
                    continue
                loop.tick()
            reports.send(None)
        except (EOFError, BrokenPipeError, ConnectionResetError, KeyboardInterrupt):
            return  # the app has gone (or was interrupted): nothing left to report to
