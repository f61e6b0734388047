"""Training on a background thread, and the hand-over of its results to the UI.

The worker object lives in its own QThread and owns the engine's ``Simulation``; the UI talks to
it only through queued signals (commands) and a ``SnapshotHub`` (results). The UI's draw timer
takes the latest snapshot when it is ready to draw, so training never waits on drawing and
drawing never waits on training. Rows of statistics accumulate in the hub between takes (the
heatmap must not miss a step); everything else is "latest wins".
"""

from __future__ import annotations

import math
import threading
import time
import weakref
from dataclasses import dataclass

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot
from threadpoolctl import threadpool_limits

from gradsim.engine.config import Config
from gradsim.engine.simulation import Simulation
from gradsim.engine.stats import StepStats
from gradsim.engine.theory import TheoryProfile, predict

# Longest stretch of training between two looks at the event loop (commands, stop requests).
TIME_SLICE_S = 0.025
MAX_SPEED = math.inf

_THREADS: weakref.WeakSet[QThread] = weakref.WeakSet()


def running_threads() -> list[QThread]:
    """Worker threads still running (tests fail if any is left after closing the window)."""
    return [thread for thread in list(_THREADS) if thread.isRunning()]


@dataclass(frozen=True)
class Snapshot:
    """What the UI needs to draw, handed over from the worker thread.

    ``rows`` are the steps taken since the previous ``take`` (oldest first); their arrays are
    fresh per step and never written again, so handing them over needs no copy.
    """

    generation: int  # increases with every reset; the UI starts a new history then
    config: Config
    rows: tuple[StepStats, ...]
    step_count: int
    state: str  # "paused", "running" or "diverged"
    steps_per_second: float
    theory: TheoryProfile | None
    input_second_moment: float
    error: str | None = None


class SnapshotHub:
    """Thread-safe mailbox between the worker (publishes) and the UI (takes)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: Snapshot | None = None
        self._rows: list[StepStats] = []
        self._fresh = False

    def publish(self, snapshot: Snapshot) -> None:
        """Store the worker's newest state; its rows are added to those not yet taken."""
        with self._lock:
            if self._latest is not None and snapshot.generation != self._latest.generation:
                self._rows = []  # a reset: rows of the old run are of no use any more
            self._rows.extend(snapshot.rows)
            self._latest = snapshot
            self._fresh = True

    def take(self) -> Snapshot | None:
        """The newest snapshot with every row since the last take, or None if nothing new."""
        with self._lock:
            if not self._fresh or self._latest is None:
                return None
            rows, self._rows = tuple(self._rows), []
            self._fresh = False
            latest = self._latest
        return Snapshot(**{**latest.__dict__, "rows": rows})


class TrainingWorker(QObject):
    """Owns the simulation; runs in the worker thread. Slots are called via queued signals."""

    def __init__(self, hub: SnapshotHub, blas_threads: int = 1) -> None:
        super().__init__()
        self._hub = hub
        self._blas_threads = blas_threads
        self._blas_limit: threadpool_limits | None = None
        self._stop = threading.Event()
        self._timer: QTimer | None = None
        self._sim: Simulation | None = None
        self._theory: TheoryProfile | None = None
        self._generation = 0
        self._playing = False
        self._speed = 30.0
        self._carry = 0.0
        self._last_tick = 0.0
        self._rate = 0.0
        self._rate_window: list[tuple[float, int]] = []
        self._error: str | None = None
        self._config: Config | None = None
        self._target: int | None = None  # play_until: pause when the run reaches this step

    # -- life cycle (worker thread) -----------------------------------------------------------
    @Slot()
    def start(self) -> None:
        """Runs first in the worker thread: timer and BLAS limits belong to this thread."""
        # BLAS would otherwise take both cores and starve the UI thread.
        self._blas_limit = threadpool_limits(limits=self._blas_threads, user_api="blas")
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)

    def request_stop(self) -> None:
        """Thread-safe: makes a running time slice end after its current step."""
        self._stop.set()

    @Slot()
    def shutdown(self) -> None:
        """Stop training and end the thread's event loop (never terminate the thread)."""
        self._stop.set()
        if self._timer is not None:
            self._timer.stop()
        if self._blas_limit is not None:
            self._blas_limit.restore_original_limits()
            self._blas_limit = None
        self._sim = None
        QThread.currentThread().quit()

    # -- commands -------------------------------------------------------------------------------
    @Slot(object)
    def reset(self, config: Config) -> None:
        """Start a new run from ``config`` (same seed → the same run)."""
        self._generation += 1
        self._error = None
        self._rate_window.clear()
        try:
            self._sim = Simulation(config, record=False)
            self._theory = predict(config, self._sim.input_second_moment)
        except MemoryError:
            self._sim = None
            self._error = "this network does not fit in memory; make it smaller"
        except Exception as exc:  # noqa: BLE001 - shown to the user, never a traceback
            self._sim = None
            self._error = f"cannot start this run: {exc}"
        self._config = config
        if self._sim is None:
            self._playing = False
        self._schedule()
        self._publish(())

    @Slot()
    def play(self) -> None:
        self.play_until(-1)

    @Slot(int)
    def play_until(self, step_count: int) -> None:
        """Play; with ``step_count`` >= 0, pause once the run has taken that many steps."""
        if self._sim is None or self._sim.diverged:
            return
        self._target = None if step_count < 0 else step_count
        self._playing = True
        self._schedule()
        self._publish(())

    @Slot()
    def pause(self) -> None:
        self._playing = False
        self._schedule()
        self._publish(())

    @Slot()
    def step_once(self) -> None:
        """Exactly one step (pauses first if running)."""
        self._playing = False
        self._schedule()
        if self._sim is not None and not self._sim.diverged:
            self._publish(self._run_steps(1))
        else:
            self._publish(())

    @Slot(float)
    def set_speed(self, steps_per_second: float) -> None:
        """Target rate; ``math.inf`` (or <= 0) runs as fast as possible."""
        self._speed = MAX_SPEED if steps_per_second <= 0 else float(steps_per_second)
        self._schedule()

    @Slot(object)
    def set_live(self, changes: dict) -> None:
        """Training-only settings (learning rate, momentum, clipping) from the next step."""
        if self._sim is None:
            return
        self._sim.set_live(**changes)
        self._config = self._sim.config
        self._publish(())

    # -- running -------------------------------------------------------------------------------
    def _schedule(self) -> None:
        if self._timer is None:
            return
        if not self._playing:
            self._timer.stop()
            return
        # Slow speeds: one tick per step. Fast ones: a tick every ~16 ms runs what is due.
        interval = 0 if self._speed == MAX_SPEED else max(1, min(16, int(1000 / self._speed)))
        self._timer.setInterval(interval)
        self._last_tick = time.perf_counter()
        self._carry = 0.0
        if not self._timer.isActive():
            self._timer.start()

    @Slot()
    def _tick(self) -> None:
        if self._sim is None or not self._playing:
            return
        now = time.perf_counter()
        if self._speed == MAX_SPEED:
            due = None
        else:
            self._carry += (now - self._last_tick) * self._speed
            due = int(self._carry)
            self._carry -= due
            if due == 0:
                self._last_tick = now
                return
        self._last_tick = now
        rows = self._run_steps(due)
        self._publish(rows)

    def _run_steps(self, count: int | None) -> list[StepStats]:
        """Take ``count`` steps (None: as many as fit in a time slice); stop early if asked."""
        sim = self._sim
        assert sim is not None
        if self._target is not None and self._playing:
            remaining = max(0, self._target - sim.step_count)
            count = remaining if count is None else min(count, remaining)
        rows: list[StepStats] = []
        start = time.perf_counter()
        while count != 0 and not self._stop.is_set() and not sim.diverged:
            try:
                rows.append(sim.step())
            except Exception as exc:  # noqa: BLE001 - e.g. MemoryError: tell the user, stop
                self._error = f"training stopped: {exc}"
                self._playing = False
                break
            if count is not None and len(rows) >= count:
                break
            if time.perf_counter() - start >= TIME_SLICE_S:
                break
        reached = self._target is not None and sim.step_count >= self._target
        if sim.diverged or (self._playing and reached):
            self._playing = False
            self._target = None
            if self._timer is not None:
                self._timer.stop()
        self._note_rate(len(rows))
        return rows

    def _note_rate(self, steps: int) -> None:
        now = time.perf_counter()
        self._rate_window.append((now, steps))
        while self._rate_window and now - self._rate_window[0][0] > 1.0:
            self._rate_window.pop(0)
        span = now - self._rate_window[0][0] if len(self._rate_window) > 1 else 0.0
        counted = sum(n for _, n in self._rate_window[1:])
        self._rate = counted / span if span > 0 else 0.0

    def _publish(self, rows: list[StepStats] | tuple[()]) -> None:
        if self._config is None:  # nothing to show before the first reset
            return
        sim = self._sim
        if sim is not None and sim.diverged:
            state = "diverged"
        else:
            state = "running" if self._playing else "paused"
        self._hub.publish(
            Snapshot(
                generation=self._generation,
                config=self._config,
                rows=tuple(rows),
                step_count=0 if sim is None else sim.step_count,
                state=state,
                steps_per_second=self._rate if self._playing else 0.0,
                theory=self._theory,
                input_second_moment=1.0 if sim is None else sim.input_second_moment,
                error=self._error,
            )
        )


class TrainingController(QObject):
    """The UI thread's handle on the worker: starts the thread, sends commands, stops it."""

    _reset = Signal(object)
    _play = Signal()
    _play_until = Signal(int)
    _pause = Signal()
    _step = Signal()
    _speed = Signal(float)
    _live = Signal(object)
    _shutdown = Signal()

    def __init__(self, parent: QObject | None = None, blas_threads: int = 1) -> None:
        super().__init__(parent)
        self.hub = SnapshotHub()
        self._thread = QThread()
        self._thread.setObjectName("gradsim-training")
        self._worker = TrainingWorker(self.hub, blas_threads)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.start)
        self._thread.finished.connect(self._worker.deleteLater)
        self._reset.connect(self._worker.reset)
        self._play.connect(self._worker.play)
        self._play_until.connect(self._worker.play_until)
        self._pause.connect(self._worker.pause)
        self._step.connect(self._worker.step_once)
        self._speed.connect(self._worker.set_speed)
        self._live.connect(self._worker.set_live)
        self._shutdown.connect(self._worker.shutdown)
        _THREADS.add(self._thread)
        self._thread.start()

    def reset(self, config: Config) -> None:
        self._reset.emit(config)

    def play(self) -> None:
        self._play.emit()

    def play_until(self, step_count: int) -> None:
        """Play and pause once the run has taken ``step_count`` steps (or diverged)."""
        self._play_until.emit(int(step_count))

    def pause(self) -> None:
        self._pause.emit()

    def step(self) -> None:
        self._step.emit()

    def set_speed(self, steps_per_second: float) -> None:
        self._speed.emit(float(steps_per_second))

    def set_live(self, changes: dict) -> None:
        self._live.emit(dict(changes))

    def stop(self, timeout_ms: int = 1000) -> bool:
        """Stop the worker cooperatively; True if its thread ended within ``timeout_ms``."""
        if not self._thread.isRunning():
            return True
        self._worker.request_stop()
        self._shutdown.emit()
        if self._thread.wait(timeout_ms):
            return True
        # A single huge step can outlast the timeout; it ends at the step's end, never killed.
        return self._thread.wait()
