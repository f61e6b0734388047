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
from gradsim.engine.protocol import RunState
from gradsim.engine.recording import Recorder

if TYPE_CHECKING:  # the theory loads after the first paint (start-up time)
    from gradsim.engine.theory import TheoryProfile

MAX_RUNS = 4


@dataclass(frozen=True)
class RunSpec:
    """One run of the session: its label (a comparison's heading), its config, and the preset
    it came from, if any (captions and settings name it)."""

    label: str
    config: Config
    preset_id: str | None = None


def describe_exit(code: int) -> str:
    """One sentence for the window when the worker process ended on its own."""
    if code < 0:
        number = -code
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        text = f"The training process was killed ({name})."
        if number == getattr(signal, "SIGKILL", 9):
            text += (
                " The usual cause is the system running out of memory: make the network"
                " smaller (depth, width or batch size)."
            )
    else:
        text = f"The training process stopped unexpectedly (exit code {code})."
    return text + " Press R to start a new one."


class RunSession(QObject):
    """1-4 runs, their worker process, their histories and where they are heading."""

    runsChanged = Signal()  # a new set of runs (count, labels or configs): views rebuild
    dataChanged = Signal()  # new rows or snapshots: views redraw
    stateChanged = Signal()  # states, step counts, errors, opening or the worker's health
    playingChanged = Signal(bool)  # whether any run is training
    noticed = Signal(str)  # a command the worker refused (the runs go on)

    def __init__(self, parent: QObject | None = None, speed: float = DEFAULT_SPEED) -> None:
        super().__init__(parent)
        self._speed = float(speed)
        self._worker: TrainingController | None = None
        self._schedule = Schedule()
        self._specs: list[RunSpec] = []
        self._histories: list[Recorder] = []
        self._snapshots: list[Snapshot] = []
        self._playing = False
        self._lost: str | None = None
        self._shown_state: tuple[object, ...] = ()

    # -- runs ----------------------------------------------------------------------------------
    def start(self, specs: Sequence[RunSpec]) -> None:
        """Show these 1-4 runs from step 0, paused (ValueError for a bad set; nothing changes)."""
        specs = list(specs)
        if not 1 <= len(specs) <= MAX_RUNS:
            raise ValueError(f"a session has 1 to {MAX_RUNS} runs, got {len(specs)}")
        for spec in specs:
            if not isinstance(spec.config, Config):
                raise ValueError(f"run {spec.label!r}: expected a Config")
            if not spec.label.strip():
                raise ValueError("every run needs a label")
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
        changed = {k: v for k, v in config.to_dict().items() if getattr(old, k) != v}
        if not changed:
            return
        self._specs[0] = replace(self._specs[0], config=config)
        if set(changed) <= set(LIVE_FIELDS) and self._worker is not None and not self._lost:
            self._worker.set_live({name: float(getattr(config, name)) for name in changed})
            self.stateChanged.emit()
        else:
            self._restart(keep_playing=True)
        self.runsChanged.emit()

    def _restart(self, keep_playing: bool) -> None:
        worker = self._ensure_worker()
        if not keep_playing:
            worker.pause()
        generation = self._schedule.new_generation()
        self._histories = [Recorder(spec.config.depth) for spec in self._specs]
        self._snapshots = []
        worker.set_speed(self._speed)
        worker.reset([spec.config for spec in self._specs], generation)
        if not keep_playing:
            self._set_playing(False)
        self.dataChanged.emit()
        self._state_may_have_changed(force=True)

    def _ensure_worker(self) -> TrainingController:
        if self._worker is not None and self._lost is None:
            return self._worker
        if self._worker is not None:  # it died: collect its reader thread, start afresh
            self._worker.stop(0)
            self._worker.deleteLater()
        self._worker = TrainingController(self)
        self._lost = None
        return self._worker

    # -- transport -------------------------------------------------------------------------------
    def toggle_play(self) -> None:
        """Space: pause or play; during a scene's opening, whether it plays once built."""
        if self._schedule.opening is not None:
            self._schedule.toggle_after_opening()
            self._state_may_have_changed(force=True)
        elif self._playing:
            self.pause()
        else:
            self.play()

    def play(self) -> None:
        if self._schedule.opening is not None:
            self._schedule.opening.then_play = True
            self._state_may_have_changed(force=True)
            return
        if self._worker is not None:
            self._schedule.play()
            self._worker.play()

    def pause(self) -> None:
        if self._schedule.opening is not None:
            self._schedule.opening.then_play = False
            self._state_may_have_changed(force=True)
            return
        if self._worker is not None:
            self._schedule.pause()
            self._worker.pause()

    def step(self) -> None:
        """Exactly one more step of every live run (during an opening: stop after it)."""
        if self._schedule.opening is not None:
            self.pause()
        elif self._worker is not None:
            self._schedule.step(self._progress())
            self._worker.step()

    def run_until(self, steps: int, then_play: bool = False) -> None:
        """Train every run to ``steps`` steps at full speed, then go back to the chosen speed
        and pause, or play on if ``then_play`` (a scene's opening)."""
        if self._worker is None:
            return
        self._schedule.start_opening(steps, then_play)
        self._worker.set_speed(math.inf)
        self._worker.play(until=int(steps))
        self._state_may_have_changed(force=True)

    def stay_paused(self) -> None:
        """Pause, or, during an opening, pause once it is done (a picture, not a show)."""
        self.pause()

    def set_speed(self, steps_per_second: float) -> None:
        self._speed = float(steps_per_second)
        if self._worker is not None and self._schedule.opening is None:
            self._worker.set_speed(self._speed)  # an opening restores it when done

    # -- the frame timer -------------------------------------------------------------------------
    def poll(self) -> bool:
        """Take what the worker reported since the last call; True if there was news.

        Also notices a worker that died, within one call."""
        worker = self._worker
        if worker is None:
            return False
        news = False
        taken = worker.hub.take_all()
        if (
            taken is not None
            and taken[0].generation == self._schedule.generation
            and len(taken) == len(self._specs)
        ):
            self._absorb(taken)
            news = True
        if self._lost is None:
            code = worker.exit_code()
            if code is not None:
                self._lost = describe_exit(code)
                self._schedule.opening = None
                self._set_playing(False)
                self._state_may_have_changed(force=True)
        return news

    def _absorb(self, snapshots: list[Snapshot]) -> None:
        for history, snapshot in zip(self._histories, snapshots, strict=True):
            for row in snapshot.rows:
                history.append(row)
        self._snapshots = snapshots
        for notice in dict.fromkeys(s.notice for s in snapshots if s.notice):
            if notice:
                self.noticed.emit(notice)
        self._set_playing(any(s.state is RunState.RUNNING for s in snapshots))
        done = self._schedule.finish_opening(self._progress())
        if done is not None and self._worker is not None:
            self._after_opening(done)
        self.dataChanged.emit()
        self._state_may_have_changed()

    def _after_opening(self, opening: Opening) -> None:
        assert self._worker is not None
        self._worker.set_speed(self._speed)
        if opening.then_play and any(not s.stopped for s in self.states):
            self._worker.play()

    def _set_playing(self, playing: bool) -> None:
        if playing != self._playing:
            self._playing = playing
            self.playingChanged.emit(playing)

    def _state_may_have_changed(self, force: bool = False) -> None:
        opening = self._schedule.opening
        state = (
            tuple((s.state, s.step_count, s.error) for s in self._snapshots),
            None if opening is None else (opening.steps, opening.then_play),
            self._lost,
        )
        if force or state != self._shown_state:
            self._shown_state = state
            self.stateChanged.emit()

    def _progress(self) -> list[RunProgress]:
        return [RunProgress(s.state, s.step_count) for s in self._snapshots]

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
    def histories(self) -> list[Recorder]:
        return list(self._histories)

    @property
    def snapshots(self) -> list[Snapshot]:
        """The newest report of every run (empty until the worker reported on these runs)."""
        return list(self._snapshots)

    @property
    def states(self) -> list[RunState]:
        if not self._snapshots:
            return [RunState.PAUSED] * len(self._specs)
        return [s.state for s in self._snapshots]

    @property
    def errors(self) -> list[str | None]:
        if not self._snapshots:
            return [None] * len(self._specs)
        return [s.error for s in self._snapshots]

    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def opening(self) -> Opening | None:
        """The opening under way (steps and what follows), if any."""
        return self._schedule.opening

    @property
    def generation(self) -> int:
        return self._schedule.generation

    @property
    def worker_error(self) -> str | None:
        """Why the worker process is gone (None while it is fine)."""
        return self._lost

    @property
    def steps_per_second(self) -> float:
        return self._snapshots[0].steps_per_second if self._snapshots else 0.0

    def newest_step(self, run: int = 0) -> int | None:
        """The newest recorded step of ``run`` (None before its first step). Steps count from
        0: the statistics of step k were measured before the k-th update."""
        if run >= len(self._histories) or not len(self._histories[run]):
            return None
        return int(self._histories[run].steps[-1])

    def theory(self, run: int = 0) -> TheoryProfile | None:
        """The worker's prediction for ``run`` (it knows the data's real input scale); None
        until it has reported, or when the config has changed since."""
        if run >= len(self._snapshots) or run >= len(self._specs):
            return None
        snapshot = self._snapshots[run]
        return snapshot.theory if snapshot.config == self._specs[run].config else None

    def is_idle(self) -> bool:
        """Nothing left to do: the runs reported, nothing trains, no opening or target remains
        (or the worker is gone, so nothing ever will)."""
        if self._lost is not None:
            return True
        return self._schedule.is_idle(self._progress())

    def stop(self, timeout_ms: int = 1000) -> bool:
        """Stop the worker process (the window is closing); True if it ended in time."""
        worker, self._worker = self._worker, None
        return True if worker is None else worker.stop(timeout_ms)
