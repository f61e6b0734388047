"""Background training, and the hand-over of its results to the UI.

The engine's ``Simulation`` runs in a worker *process* (``gradsim.engine.runner``): Python
threads share one interpreter lock, and a window drawing at 30 fps starved an in-process
training thread to a fraction of its speed. A reader object on its own QThread receives the
process's reports and puts them in a ``SnapshotHub``; the UI's draw timer takes the latest
snapshot when it is ready to draw, so training never waits on drawing and drawing never waits on
training. Rows of statistics (and the occasional distributions and learned functions)
accumulate in the hub between takes (the heatmap must not miss a step); everything else is
"latest wins". Commands go to the process over a pipe. A comparison runs 2-4 simulations in
lockstep in the same process; its reports reach the UI as complete sets
(``SnapshotHub.take_all``), one snapshot per run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import threading
import time
import weakref
from collections.abc import Sequence
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QThread, QTimer, Slot

from gradsim.engine.protocol import Command, Report, Stop

# runner imports the simulation only inside the child process, so this stays cheap.
from gradsim.engine.runner import serve

if TYPE_CHECKING:  # only types here: the simulation itself runs in the child process
    from gradsim.engine.distributions import StepDistributions
    from gradsim.engine.learned_function import LearnedFunction
    from gradsim.engine.stats import StepStats
    from gradsim.engine.theory import TheoryProfile

START_DELAY_MS = 100
_THREADS: weakref.WeakSet[QThread] = weakref.WeakSet()
_PROCESSES: weakref.WeakSet[BaseProcess] = weakref.WeakSet()


def running_threads() -> list[QThread | BaseProcess]:
    """Reader threads and worker processes still running (tests fail on any left behind)."""
    threads: list[QThread | BaseProcess] = [t for t in list(_THREADS) if t.isRunning()]
    return threads + [proc for proc in list(_PROCESSES) if proc.is_alive()]


def live_processes() -> list[BaseProcess]:
    """Worker processes still running (the app must never have more than one)."""
    return [proc for proc in list(_PROCESSES) if proc.is_alive()]


# What the UI draws: the worker's report about one run, with the run's theory filled in by the
# reader (the process sends it only with the first report of each generation). ``rows`` are the
# steps since the previous ``take``; their arrays are fresh per step and never written again, so
# handing them over needs no copy.
Snapshot = Report


class SnapshotHub:
    """Thread-safe mailbox between the worker (publishes) and the UI (takes).

    The worker reports its runs as a set (one message); rows accumulate by run until taken,
    everything else is "latest wins"."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: list[Snapshot] = []  # the newest set, by run
        self._rows: list[list[StepStats]] = []  # by run: rows not taken yet
        # Likewise the occasional distributions and learned functions (replay needs each).
        self._distributions: list[list[StepDistributions]] = []
        self._functions: list[list[LearnedFunction]] = []
        self._fresh = False

    def publish(self, snapshots: Sequence[Snapshot]) -> None:
        """Store the newest set; rows of an older generation are dropped (a reset)."""
        with self._lock:
            if not self._latest or self._latest[0].generation != snapshots[0].generation:
                self._rows = [[] for _ in snapshots]
                self._distributions = [[] for _ in snapshots]
                self._functions = [[] for _ in snapshots]
            for i, snapshot in enumerate(snapshots):
                self._rows[i].extend(snapshot.rows)
                self._distributions[i].extend(snapshot.distributions)
                self._functions[i].extend(snapshot.functions)
            self._latest, self._fresh = list(snapshots), True

    def take_all(self) -> list[Snapshot] | None:
        """The newest snapshot of every run, each with all its rows since the last take, or
        None if nothing new."""
        with self._lock:
            if not self._fresh:
                return None
            latest = self._latest
            rows, dists, funcs = self._rows, self._distributions, self._functions
            self._rows, self._fresh = [[] for _ in latest], False
            self._distributions = [[] for _ in latest]
            self._functions = [[] for _ in latest]
        return [
            dataclasses.replace(
                s, rows=tuple(rows[i]), distributions=tuple(dists[i]), functions=tuple(funcs[i])
            )
            for i, s in enumerate(latest)
        ]


class _ReportReader(QObject):
    """Lives on the reader thread: turns the process's reports into snapshots for the UI."""

    def __init__(self, reports: Connection, hub: SnapshotHub) -> None:
        super().__init__()
        self._reports = reports
        self._hub = hub
        self._theory: tuple[TheoryProfile | None, ...] = ()  # by run, of this generation
        self._generation = -1

    @Slot()
    def run(self) -> None:
        """Block on the pipe (without holding the interpreter lock) until the process stops."""
        try:
            while (reports := self._reports.recv()) is not None:
                self._hub.publish(self._with_theory(reports))
        except (EOFError, OSError):
            pass  # the process is gone; nothing more will come
        QThread.currentThread().quit()

    def _with_theory(self, reports: tuple[Report, ...]) -> list[Snapshot]:
        """The process sends each run's theory once, in the first set of a generation: every
        snapshot of the generation carries it."""
        if reports[0].generation != self._generation:
            self._generation = reports[0].generation
            self._theory = tuple(report.theory for report in reports)
        theory = self._theory
        return [dataclasses.replace(r, theory=t) for r, t in zip(reports, theory, strict=True)]


class TrainingController(QObject):
    """The UI's handle on one worker process: starts it and its reader thread, sends typed
    commands, says whether the process is still there, stops both."""

    def __init__(self, parent: QObject | None = None, blas_threads: int = 1) -> None:
        super().__init__(parent)
        self.hub = SnapshotHub()
        # "spawn": a forked copy of a process that runs Qt is not safe.
        context = multiprocessing.get_context("spawn")
        commands_in, self._commands = context.Pipe(duplex=False)
        self._reports, reports_out = context.Pipe(duplex=False)
        self._process: BaseProcess = context.Process(
            target=serve,
            args=(commands_in, reports_out, blas_threads),
            name="gradsim-training",
            daemon=True,
        )
        self._child_ends: tuple[Connection, Connection] | None = (commands_in, reports_out)
        self._lock = threading.Lock()
        self._stopped = False
        # Start the process just after the window's first paint (launching it costs the UI
        # thread ~10 ms, and its imports compete for the CPU). Commands sent before wait in
        # the pipe.
        QTimer.singleShot(START_DELAY_MS, self, self._start_process)

        self._thread = QThread()
        self._thread.setObjectName("gradsim-reports")
        self._reader = _ReportReader(self._reports, self.hub)
        self._reader.moveToThread(self._thread)
        self._thread.started.connect(self._reader.run)
        self._thread.finished.connect(self._reader.deleteLater)
        _THREADS.add(self._thread)
        self._thread.start()

    def _start_process(self) -> None:
        if self._child_ends is None:  # started already, or stopped before it could start
            return
        self._process.start()
        _PROCESSES.add(self._process)
        for end in self._child_ends:  # the child holds its own copies
            end.close()
        self._child_ends = None

    def send(self, command: Command) -> None:
        """Queue ``command`` for the worker. Once the process is gone, commands are dropped:
        ``exit_code`` says it is gone, and the owner starts a new worker."""
        with self._lock, contextlib.suppress(BrokenPipeError, OSError):
            self._commands.send(command)

    def exit_code(self) -> int | None:
        """The process's exit code once it has ended on its own (negative: the signal that
        killed it); None while it runs, before it starts, and after ``stop``."""
        if self._stopped or self._child_ends is not None:
            return None
        return self._process.exitcode

    def stop(self, timeout_ms: int = 1000) -> bool:
        """Stop cooperatively: the process ends after its current step; True if in time.

        Only if it has not ended within ``timeout_ms`` (a single huge step) is the process
        terminated, which is safe for a process that shares no memory with the window.
        """
        if self._stopped:
            return True
        self._stopped = True
        deadline = time.monotonic() + timeout_ms / 1000
        clean = True
        if self._child_ends is not None:  # closed before the process ever started
            for end in self._child_ends:
                end.close()  # the reader sees the pipe end and finishes
            self._child_ends = None
        else:
            self.send(Stop())
            self._process.join(max(0.0, deadline - time.monotonic()))
            clean = not self._process.is_alive()
            if not clean:
                self._process.terminate()
                self._process.join(1.0)
        self._commands.close()
        self._thread.wait(max(100, int((deadline - time.monotonic()) * 1000)))
        if self._thread.isRunning():  # the pipe closes with the process; this is a backstop
            self._reports.close()
            self._thread.wait()
        return clean
