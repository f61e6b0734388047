"""The training loop the app runs in a separate process: play, pause, step, speed, stop.

Why a process and not a thread: the window's drawing is Python code too, and two Python threads
share one interpreter lock, so a busy window halved training speed (and training made the window
lag). In its own process the simulation has a core to itself. This module is pure Python and
numpy, so the child process never loads Qt.

Protocol: the parent sends commands as tuples on ``commands``; the loop sends ``Report`` objects
on ``reports`` — one per time slice while playing, and one after every command — and a final
``None`` when it stops.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the app imports this module for ``Report``; it must stay light
    from gradsim.engine.config import Config
    from gradsim.engine.simulation import Simulation
    from gradsim.engine.stats import StepStats
    from gradsim.engine.theory import TheoryProfile

# Longest stretch of training between two looks at the command pipe (pause, stop...).
TIME_SLICE_S = 0.025
MAX_SPEED = math.inf


@dataclass(frozen=True)
class Report:
    """What the loop tells the app after a command or a slice of training."""

    generation: int  # increases with every reset; the app starts a new history then
    config: Config
    rows: tuple[StepStats, ...]  # steps taken since the previous report, oldest first
    step_count: int
    state: str  # "paused", "running" or "diverged"
    steps_per_second: float
    input_second_moment: float
    theory: TheoryProfile | None = None  # sent with the first report of each generation
    error: str | None = None


@dataclass
class TrainingLoop:
    """Play/pause/step state machine around one ``Simulation`` at a time."""

    send: Any  # callable taking a Report
    speed: float = 30.0
    generation: int = 0
    playing: bool = False
    stopped: bool = False
    _sim: Simulation | None = None
    _config: Config | None = None
    _error: str | None = None
    _target: int | None = None
    _next_due: float = 0.0
    _recent: deque = field(default_factory=lambda: deque(maxlen=64))

    # -- commands --------------------------------------------------------------------------
    def handle(self, command: tuple) -> None:
        """Apply one command: ("reset", config), ("play", until), ("pause",), ("step",),
        ("speed", steps_per_second), ("live", changes), ("stop",)."""
        name, *args = command
        if name == "stop":
            self.stopped = True
            return
        theory = None
        if name == "reset":
            theory = self._reset(args[0])
        elif name == "play":
            self._play(args[0] if args else -1)
        elif name == "pause":
            self.playing = False
        elif name == "step":
            self.playing = False
            if self._can_train():
                self._report(self._steps(1))
                return
        elif name == "speed":
            self.speed = MAX_SPEED if args[0] <= 0 else float(args[0])
            self._next_due = time.perf_counter()
        elif name == "live" and self._sim is not None:
            self._sim.set_live(**args[0])
            self._config = self._sim.config
        self._report((), theory)

    def _reset(self, config: Config) -> TheoryProfile | None:
        self.generation += 1
        self._error = None
        self._config = config
        self._recent.clear()
        from gradsim.engine.simulation import Simulation
        from gradsim.engine.theory import predict

        try:
            self._sim = Simulation(config, record=False)
            return predict(config, self._sim.input_second_moment)
        except MemoryError:
            self._error = "this network does not fit in memory; make it smaller"
        except Exception as exc:  # noqa: BLE001 - shown to the user, never a traceback
            self._error = f"cannot start this run: {exc}"
        self._sim = None
        self.playing = False
        return None

    def _play(self, until: int) -> None:
        if not self._can_train():
            return
        self._target = None if until < 0 else until
        self.playing = True
        self._next_due = time.perf_counter()

    def _can_train(self) -> bool:
        return self._sim is not None and not self._sim.diverged

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
        if not self.playing or not self._can_train():
            return
        if self.speed == MAX_SPEED:
            rows = self._steps(None)
        else:
            now = time.perf_counter()
            due = 1 + int((now - self._next_due) * self.speed)
            rows = self._steps(due)
            # Keep the rate; if a slice could not keep up, do not try to catch up in a burst.
            self._next_due = max(self._next_due + len(rows) / self.speed, now - 0.1)
        self._report(rows)

    def _steps(self, count: int | None) -> list[StepStats]:
        """Up to ``count`` steps (None: as many as fit in a time slice)."""
        sim = self._sim
        assert sim is not None
        if self._target is not None and self.playing:
            remaining = max(0, self._target - sim.step_count)
            count = remaining if count is None else min(count, remaining)
        rows: list[StepStats] = []
        start = time.perf_counter()
        while count != 0 and not sim.diverged:
            try:
                rows.append(sim.step())
            except Exception as exc:  # noqa: BLE001 - e.g. MemoryError: tell the user, stop
                self._error = f"training stopped: {exc}"
                self.playing = False
                break
            if count is not None and len(rows) >= count:
                break
            if time.perf_counter() - start >= TIME_SLICE_S:
                break
        if sim.diverged or (self._target is not None and sim.step_count >= self._target):
            self.playing = False
            self._target = None
        self._recent.append((time.perf_counter(), len(rows)))
        return rows

    def _rate(self) -> float:
        if not self.playing or len(self._recent) < 2:
            return 0.0
        now = time.perf_counter()
        window = [(t, n) for t, n in self._recent if now - t <= 1.0]
        if len(window) < 2:
            return 0.0
        return sum(n for _, n in window[1:]) / max(1e-9, window[-1][0] - window[0][0])

    def _report(self, rows, theory: TheoryProfile | None = None) -> None:
        if self._config is None:
            return  # nothing to say before the first reset
        sim = self._sim
        if sim is not None and sim.diverged:
            state = "diverged"
        else:
            state = "running" if self.playing else "paused"
        self.send(
            Report(
                generation=self.generation,
                config=self._config,
                rows=tuple(rows),
                step_count=0 if sim is None else sim.step_count,
                state=state,
                steps_per_second=self._rate(),
                input_second_moment=1.0 if sim is None else sim.input_second_moment,
                theory=theory,
                error=self._error,
            )
        )


def serve(commands: Connection, reports: Connection, blas_threads: int = 1) -> None:
    """Child-process entry point: run the loop until told to stop or the parent goes away."""
    from threadpoolctl import threadpool_limits

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
