"""The window's comparison mode: a ComparePanel in place of the single run's plots.

The panel (and its worker process) is made the first time a comparison starts and kept for the
next one; leaving the comparison pauses it and shows the single run again. The window's
transport, speed, metric, window length and colour range go to whichever view is showing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QStackedWidget, QWidget

from gradsim.app.views.themes import Theme
from gradsim.engine.config import Config

if TYPE_CHECKING:  # imported on first use: most sessions never compare (~20 ms of start-up)
    from gradsim.app.compare_panel import ComparePanel


class CompareMode(QObject):
    """Owns the comparison page of the window's plot stack."""

    playingChanged = Signal(bool)
    levelsChanged = Signal(float, float)

    def __init__(self, stack: QStackedWidget, single_page: QWidget) -> None:
        super().__init__(stack)
        self._stack = stack
        self._single = single_page
        self.panel: ComparePanel | None = None
        self._speed = 30.0
        self._opening: tuple[int, bool] | None = None  # (steps, then play)

    @property
    def active(self) -> bool:
        return self.panel is not None and self._stack.currentWidget() is self.panel

    def start(
        self,
        runs: Sequence[tuple[str, Config]],
        metric: str,
        *,
        speed: float,
        window: int | None,
        theme: Theme,
        font_scale: float,
    ) -> None:
        """Show ``runs`` side by side, paused at step 0 (ValueError for a bad set of runs)."""
        if self.panel is None:
            from gradsim.app.compare_panel import ComparePanel

            self.panel = ComparePanel(theme=theme)
            self.panel.playingChanged.connect(self.playingChanged.emit)
            self.panel.stateChanged.connect(self._finish_opening)
            self._stack.addWidget(self.panel)
        panel = self.panel
        panel.start(runs, metric)
        assert panel.view is not None
        panel.view.levelsChanged.connect(self.levelsChanged.emit)
        self._opening = None
        self._speed = speed
        panel.set_speed(speed)
        panel.set_window(window)
        panel.set_theme(theme)
        panel.set_font_scale(font_scale)
        self._stack.setCurrentWidget(panel)

    def leave(self) -> None:
        """Back to the single run; the comparison pauses (its worker stays for next time)."""
        if self.panel is not None:
            self.panel.pause()
        self._opening = None
        self._stack.setCurrentWidget(self._single)

    def stop(self) -> None:
        """Stop the comparison's worker (the window is closing)."""
        if self.panel is not None:
            self.panel.stop()

    # -- transport -----------------------------------------------------------------------------
    def toggle_play(self) -> None:
        self._opening = None
        if self.panel is not None:
            self.panel.toggle_play()

    def play(self) -> None:
        self._opening = None
        if self.panel is not None:
            self.panel.play()

    def step(self) -> None:
        self._opening = None
        if self.panel is not None:
            self.panel.step()

    def reset(self) -> None:
        self._opening = None
        if self.panel is not None:
            self.panel.reset()

    def set_speed(self, steps_per_second: float) -> None:
        self._speed = steps_per_second
        if self.panel is not None and self._opening is None:
            self.panel.set_speed(steps_per_second)

    def run_until(self, steps: int, then_play: bool = False) -> None:
        """Every run to ``steps`` steps at full speed, then the chosen speed again."""
        if self.panel is None:
            return
        self._opening = (steps, then_play)
        self.panel.set_speed(math.inf)
        self.panel.play_until(steps)

    def stay_paused(self) -> None:
        if self._opening is not None:
            self._opening = (self._opening[0], False)
        elif self.panel is not None:
            self.panel.pause()

    def is_idle(self) -> bool:
        return self.panel is None or (self._opening is None and self.panel.is_idle())

    def _finish_opening(self) -> None:
        panel = self.panel
        if self._opening is None or panel is None or not panel.is_idle():
            return
        _, play = self._opening
        self._opening = None
        panel.set_speed(self._speed)
        if play:
            panel.play()

    # -- view ----------------------------------------------------------------------------------
    def set_metric(self, name: str) -> None:
        if self.panel is not None:
            self.panel.set_metric(name)

    def set_window(self, span: int | None) -> None:
        if self.panel is not None:
            self.panel.set_window(span)

    def set_auto_levels(self, on: bool) -> None:
        if self.panel is not None:
            self.panel.set_auto_levels(on)

    def set_levels(self, lo: float, hi: float) -> None:
        if self.panel is not None:
            self.panel.set_levels(lo, hi)

    def set_look(self, theme: Theme, font_scale: float) -> None:
        if self.panel is not None:
            self.panel.set_theme(theme)
            self.panel.set_font_scale(font_scale)

    def levels(self) -> tuple[float, float] | None:
        return self.panel.levels() if self.panel is not None else None

    def status(self) -> tuple[int, str]:
        """(step, state) for the status bar: the live runs' step and the overall state."""
        panel = self.panel
        if panel is None:
            return 0, "paused"
        steps = [n for n, s in zip(panel.step_counts, panel.states, strict=True)]
        states = panel.states
        if any(s == "running" for s in states):
            state = "running"
        elif states and all(s == "diverged" for s in states):
            state = "diverged"
        else:
            state = "paused"
        return max(steps, default=0), state
