"""The run session: 1-4 runs trained in lockstep by one worker process, and what they recorded.

Everything the views draw about the runs comes from here: labels, configs, histories (one
``Recorder`` per run), the newest snapshots, and whether they are training. A single run is a
session of one; a comparison is a session of 2-4. The window's frame timer calls ``poll()``,
which takes whatever the worker reported since the last frame (rows accumulate in the worker's
hub, so no step is missed) and emits typed signals; the views redraw from the session on that
same timer, so drawing never waits on training and training never waits on drawing.

The session owns exactly one worker process for its whole life. If that process dies (killed,
or ended by the kernel's out-of-memory killer), ``poll`` notices within a frame, says why in
``worker_error``, and the next ``reset`` or ``start`` runs on a fresh process.
"""

from __future__ import annotations

import math
import signal
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from gradsim.app.model.schedule import Opening, RunProgress, Schedule
from gradsim.app.model.view_state import DEFAULT_SPEED
from gradsim.app.model.worker import Snapshot, TrainingController
from gradsim.engine.config import LIVE_FIELDS, Config
from gradsim.engine.distributions import DistributionHistory
from gradsim.engine.learned_function import FunctionHistory
from gradsim.engine.protocol import Pause, Play, Reset, RunState, SetLive, SetSpeed, Step
from gradsim.engine.recording import Recorder

if TYPE_CHECKING:  # the theory loads after the first paint (start-up time)
    from gradsim.engine.theory import TheoryProfile

MAX_RUNS = 4
# Bytes of histograms kept per run (thinned beyond, as the statistics are): with the
# recorder's ~32 MB and the learned functions' ~17 MB, under 100 MB per run at any length.
DISTRIBUTION_BUDGET = 48 * 2**20


@dataclass(frozen=True)
class RunSpec:
    """One run of the session: its label (a comparison's heading), its config, and the preset
    it came from, if any (captions and settings name it)."""

    label: str
    config: Config
    preset_id: str | None = None


def describe_exit(code: int) -> str:
    """One sentence for the window when the worker process ended on its own."""
    if code >= 0:
        text = f"The training process stopped unexpectedly (exit code {code})."
    else:
        name = signal.Signals(-code).name if -code in signal.valid_signals() else -code
        text = f"The training process was killed ({name})."
    if code == -getattr(signal, "SIGKILL", 9):
        text += (
            " The usual cause is the system running out of memory: make the network smaller"
            " (depth, width or batch size)."
        )
    return text + " Press R to start a new one."


class RunSession(QObject):
    """1-4 runs, their worker process, their histories and where they are heading."""

    runsChanged = Signal()  # another set of runs, or a run's config: views and captions follow
    stateChanged = Signal()  # states, step counts, errors, the opening, the worker's health
    playingChanged = Signal(bool)  # whether any run is training
    noticed = Signal(str)  # a command the worker refused (the runs go on)

    def __init__(self, parent: QObject | None = None, speed: float = DEFAULT_SPEED) -> None:
        super().__init__(parent)
        self._speed = float(speed)
        self._worker: TrainingController | None = None
        self._schedule = Schedule()
        self._specs: list[RunSpec] = []
        self.histories: list[Recorder] = []  # one per run: every step since the (re)start
        # One per run, as measured a few times a second (thinned like the histories):
        self.distributions: list[DistributionHistory] = []
        self.functions: list[FunctionHistory] = []
        self.snapshots: list[Snapshot] = []  # the newest report of each run (none: not yet)
        self.playing = False
        self.worker_error: str | None = None  # why the worker process is gone, if it is
        self._shown_state: tuple[object, ...] = ()

    # -- runs ----------------------------------------------------------------------------------
    def start(self, specs: Sequence[RunSpec]) -> None:
        """Show these 1-4 runs from step 0, paused (ValueError for a bad set; nothing changes)."""
        specs = list(specs)
        if not 1 <= len(specs) <= MAX_RUNS:
            raise ValueError(f"a session has 1 to {MAX_RUNS} runs, got {len(specs)}")
        for spec in specs:
            if not isinstance(spec.config, Config) or not spec.label.strip():
                raise ValueError(f"run {spec.label!r}: needs a label and a Config")
        self._specs = specs
        self._restart(keep_playing=False)
        self.runsChanged.emit()

    def reset(self) -> None:
        """The same runs again from their initial weights, paused (on a fresh worker if the
        old one died)."""
        if self._specs:
            self._restart(keep_playing=False)

    def edit(self, config: Config) -> None:
        """A single run's config changed: training-only settings apply from the next step,
        anything else restarts the run (playing on if it was)."""
        if len(self._specs) != 1:
            raise ValueError("only a single run can be edited")
        old = self._specs[0].config
        changed = {k for k, v in config.to_dict().items() if getattr(old, k) != v}
        if not changed:
            return
        self._specs[0] = replace(self._specs[0], config=config)
        if changed <= set(LIVE_FIELDS) and self._worker is not None and not self.worker_error:
            live = tuple((name, float(getattr(config, name))) for name in sorted(changed))
            self._worker.send(SetLive(live))
        else:
            self._restart(keep_playing=True)
        self.runsChanged.emit()

    def _restart(self, keep_playing: bool) -> None:
        if self._worker is None or self.worker_error is not None:
            if self._worker is not None:  # it died: collect its reader thread, start afresh
                self._worker.stop(0)
                self._worker.deleteLater()
            self._worker = TrainingController(self)
            self.worker_error = None
        if not keep_playing:
            self._worker.send(Pause())
            self._set_playing(False)
        generation = self._schedule.new_generation()
        self.histories = [Recorder(spec.config.depth) for spec in self._specs]
        self.distributions = [DistributionHistory(DISTRIBUTION_BUDGET) for _ in self._specs]
        self.functions = [FunctionHistory() for _ in self._specs]
        self.snapshots = []
        self._worker.send(SetSpeed(self._speed))
        self._worker.send(Reset(tuple(self.configs), generation))
        self._state_may_have_changed(force=True)

    # -- transport -------------------------------------------------------------------------------
    def toggle_play(self) -> None:
        """Space: pause or play; during a scene's opening, whether it plays once built."""
        opening = self._schedule.opening
        if self.playing or (opening is not None and opening.then_play):
            self.pause()
        else:
            self.play()

    def play(self) -> None:
        """Train on; during an opening, play once it is done (it is not cut short)."""
        if not self._after_opening(play=True) and self._worker is not None:
            self._schedule.clear_target()
            self._worker.send(Play())

    def pause(self) -> None:
        """Stop training; during an opening, pause once it is done."""
        if not self._after_opening(play=False) and self._worker is not None:
            self._schedule.clear_target()
            self._worker.send(Pause())

    def step(self) -> None:
        """Exactly one more step of every live run (during an opening: pause after it)."""
        if not self._after_opening(play=False) and self._worker is not None:
            self._schedule.step(self._progress())
            self._worker.send(Step())

    def _after_opening(self, play: bool) -> bool:
        """Whether an opening is under way; if so, it plays or pauses when done."""
        if self._schedule.opening is None:
            return False
        self._schedule.opening.then_play = play
        self._state_may_have_changed(force=True)
        return True

    def run_until(self, steps: int, then_play: bool = False) -> None:
        """Train every run to ``steps`` steps at full speed, then go back to the chosen speed
        and pause, or play on if ``then_play`` (a scene's opening)."""
        if self._worker is not None:
            self._schedule.start_opening(steps, then_play)
            self._worker.send(SetSpeed(math.inf))
            self._worker.send(Play(until=int(steps)))
            self._state_may_have_changed(force=True)

    def set_speed(self, steps_per_second: float) -> None:
        self._speed = float(steps_per_second)
        if self._worker is not None and self._schedule.opening is None:
            self._worker.send(SetSpeed(self._speed))  # an opening restores it when done

    # -- the frame timer -------------------------------------------------------------------------
    def poll(self) -> bool:
        """Take what the worker reported since the last call; True if there was news. Also
        notices, within one call, a worker that died."""
        worker = self._worker
        if worker is None:
            return False
        taken = worker.hub.take_all() or []
        news = bool(taken) and taken[0].generation == self._schedule.generation
        if news and len(taken) == len(self._specs):
            self._absorb(taken)
        if self.worker_error is None and (code := worker.exit_code()) is not None:
            self.worker_error = describe_exit(code)
            self._schedule.opening = None
            self._set_playing(False)
            self._state_may_have_changed(force=True)
        return news

    def _absorb(self, snapshots: list[Snapshot]) -> None:
        for i, snapshot in enumerate(snapshots):
            for row in snapshot.rows:
                self.histories[i].append(row)
            for measured in snapshot.distributions:
                self.distributions[i].append(measured)
            for function in snapshot.functions:
                self.functions[i].append(function)
        self.snapshots = snapshots
        for notice in dict.fromkeys(s.notice for s in snapshots if s.notice):
            self.noticed.emit(notice)
        self._set_playing(any(s.state is RunState.RUNNING for s in snapshots))
        done = self._schedule.finish_opening(self._progress())
        if done is not None and self._worker is not None:
            self._worker.send(SetSpeed(self._speed))
            if done.then_play and not all(state.stopped for state in self.states):
                self._worker.send(Play())
        self._state_may_have_changed()

    def _set_playing(self, playing: bool) -> None:
        if playing != self.playing:
            self.playing = playing
            self.playingChanged.emit(playing)

    def _state_may_have_changed(self, force: bool = False) -> None:
        opening = self._schedule.opening
        state = (
            tuple((s.state, s.step_count, s.error) for s in self.snapshots),
            None if opening is None else (opening.steps, opening.then_play),
            self.worker_error,
        )
        if force or state != self._shown_state:
            self._shown_state = state
            self.stateChanged.emit()

    def _progress(self) -> list[RunProgress]:
        return [RunProgress(s.state, s.step_count) for s in self.snapshots]

    # -- reading -----------------------------------------------------------------------------------
    @property
    def specs(self) -> list[RunSpec]:
        return list(self._specs)

    @property
    def count(self) -> int:
        return len(self._specs)

    @property
    def labels(self) -> list[str]:
        return [spec.label for spec in self._specs]

    @property
    def configs(self) -> list[Config]:
        return [spec.config for spec in self._specs]

    @property
    def states(self) -> list[RunState]:
        return [s.state for s in self.snapshots] or [RunState.PAUSED] * self.count

    @property
    def errors(self) -> list[str | None]:
        return [s.error for s in self.snapshots] or [None] * self.count

    @property
    def opening(self) -> Opening | None:
        """The opening under way (steps and what follows), if any."""
        return self._schedule.opening

    @property
    def generation(self) -> int:
        return self._schedule.generation

    def newest_step(self, run: int = 0) -> int | None:
        """The newest recorded step of ``run`` (None before its first step). Steps count from
        0: the statistics of step k were measured before the k-th update."""
        history = self.histories[run] if run < len(self.histories) else None
        return int(history.steps[-1]) if history is not None and len(history) else None

    def theory(self, run: int = 0) -> TheoryProfile | None:
        """The worker's prediction for ``run`` (it knows the data's real input scale); None
        until it has reported, or when the config has changed since."""
        if run >= len(self.snapshots):
            return None
        snapshot = self.snapshots[run]
        return snapshot.theory if snapshot.config == self._specs[run].config else None

    def is_idle(self) -> bool:
        """Nothing left to do: the runs reported, nothing trains, no opening or target remains
        (or the worker is gone, so nothing ever will)."""
        return self.worker_error is not None or self._schedule.is_idle(self._progress())

    def stop(self, timeout_ms: int = 1000) -> bool:
        """Stop the worker process (the window is closing); True if it ended in time."""
        worker, self._worker = self._worker, None
        return True if worker is None else worker.stop(timeout_ms)
