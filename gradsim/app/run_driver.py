"""The window's handle on its single run: commands to the worker, plus "run N steps first".

A lesson scene (or a headless screenshot) often opens on a run that has already trained a few
hundred steps. Those steps are run at full speed, then the chosen speed comes back and the run
pauses or plays as the scene says. The worker numbers its runs 1, 2, ... in the order resets
were sent, which tells stale reports of an earlier run from those of the current one.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QObject

from gradsim.app.model.worker import Snapshot, SnapshotHub, TrainingController
from gradsim.engine.config import Config


class RunDriver(QObject):
    """Sends commands to the training worker and finishes opening runs."""

    def __init__(self, parent: QObject, speed: float) -> None:
        super().__init__(parent)
        self.controller = TrainingController(parent)
        self._speed = speed
        self.controller.set_speed(speed)
        self._resets = 0
        self._opening: tuple[int, int, bool] | None = None  # (run number, steps, then play)

    @property
    def hub(self) -> SnapshotHub:
        return self.controller.hub

    @property
    def run_number(self) -> int:
        """The number the worker gives the newest run (its snapshots' ``generation``)."""
        return self._resets

    def reset(self, config: Config) -> None:
        """Start ``config`` afresh (keeps playing if the old run was)."""
        self._opening = None
        self._resets += 1
        self.controller.reset(config)

    def play(self) -> None:
        self._opening = None  # the user takes over from an opening run
        self.controller.play()

    def pause(self) -> None:
        self._opening = None
        self.controller.pause()

    def step(self) -> None:
        self._opening = None
        self.controller.step()

    def set_live(self, changes: dict) -> None:
        self.controller.set_live(changes)

    def set_speed(self, steps_per_second: float) -> None:
        self._speed = steps_per_second
        if self._opening is None:  # an opening run restores it when done
            self.controller.set_speed(steps_per_second)

    def run_until(self, steps: int, then_play: bool = False) -> None:
        """Train at full speed to ``steps`` steps (or divergence), then go back to the chosen
        speed and pause, or play on if ``then_play``."""
        self._opening = (self._resets, steps, then_play)
        self.controller.set_speed(math.inf)
        self.controller.play_until(steps)

    def stay_paused(self) -> None:
        """After the opening run, pause instead of playing (a picture, not a show)."""
        if self._opening is not None:
            self._opening = (*self._opening[:2], False)
        else:
            self.controller.pause()

    def absorb(self, snapshot: Snapshot) -> None:
        """Look at a new snapshot: finish the opening run when it has done its steps."""
        if self._opening is None or snapshot.generation != self._opening[0]:
            return
        _, steps, play = self._opening
        if snapshot.state == "running":
            return
        if snapshot.state == "paused" and snapshot.step_count < steps and not snapshot.error:
            return
        self._opening = None
        self.controller.set_speed(self._speed)
        if play and snapshot.state == "paused" and not snapshot.error:
            self.controller.play()

    def is_idle(self, snapshot: Snapshot | None) -> bool:
        """The newest run has reported, is not training and has no opening steps left."""
        return (
            snapshot is not None
            and snapshot.generation == self._resets
            and self._opening is None
            and snapshot.state != "running"
        )

    def stop(self, timeout_ms: int = 1000) -> bool:
        return self.controller.stop(timeout_ms)
