"""A self-contained comparison of 2-4 runs: its own worker process, histories and drawing.

The runs train in lockstep in one worker process (``TrainingController.reset_runs``), so at
every frame they have taken the same number of steps, except those that diverged, which stop
where they diverged while the others go on. Drawing works as in the main window: a timer takes
the latest set of snapshots (~30 fps), the rows go into one Recorder per run, and only a frame
with news is drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from gradsim.app.model.worker import Snapshot, TrainingController
from gradsim.app.views.colors import NONFINITE_RGBA, to_hex
from gradsim.app.views.compare_view import CompareLossPlot, CompareView
from gradsim.app.views.heatmap import HeatmapView
from gradsim.app.views.themes import DEFAULT_THEME, Theme
from gradsim.engine.config import Config
from gradsim.engine.recording import Recorder
from gradsim.engine.stats import STAT_NAMES

FRAME_MS = 33  # ~30 frames per second, like the main window
MIN_RUNS, MAX_RUNS = 2, 4
DEFAULT_SPEED = 30.0
DEFAULT_WINDOW = 500


class ComparePanel(QWidget):
    """Trains 2-4 configurations side by side and shows them on one colour scale."""

    playingChanged = Signal(bool)  # whether any run is training
    stateChanged = Signal()  # a run's state, step count or error changed

    def __init__(self, parent: QWidget | None = None, theme: Theme = DEFAULT_THEME) -> None:
        super().__init__(parent)
        self._theme = theme
        self._font_scale = 1.0
        self._speed = DEFAULT_SPEED
        self._window: int | None = DEFAULT_WINDOW
        self._metric = "backprop_grad_rms"
        self._labels: list[str] = []
        self._configs: list[Config] = []
        self._histories: list[Recorder] = []
        self._snapshots: list[Snapshot] = []
        self._resets = 0  # resets sent: the worker's generation once it has caught up
        self._generation = -1
        self._target: int | None = None  # the step every live run is heading for, if any
        self._playing = False
        self._dirty = False
        self.controller: TrainingController | None = None
        self.view: CompareView | None = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self.draw)

    # -- starting and stopping ---------------------------------------------------------------
    def start(self, runs: Sequence[tuple[str, Config]], metric: str) -> None:
        """Show and start (paused at step 0) a comparison of 2-4 (label, config) runs.

        Raises ValueError for fewer or more runs, a non-Config, an empty label or an unknown
        metric. A running comparison is replaced; its worker process is reused.
        """
        runs = list(runs)
        if not MIN_RUNS <= len(runs) <= MAX_RUNS:
            raise ValueError(f"compare {MIN_RUNS} to {MAX_RUNS} runs, got {len(runs)}")
        for label, config in runs:
            if not isinstance(config, Config):
                raise ValueError(f"run {label!r}: expected a Config, got {type(config).__name__}")
            if not str(label).strip():
                raise ValueError("every run needs a label")
        if metric not in STAT_NAMES:
            raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(STAT_NAMES)}")
        self._labels = [str(label) for label, _ in runs]
        self._configs = [config for _, config in runs]
        self._metric = metric
        self._build_view()
        if self.controller is None:
            self.controller = TrainingController(self)
            self.controller.set_speed(self._speed)
            self._resets, self._generation = 0, -1  # a new process counts from 1 again
        self._restart()
        self._timer.start()

    def stop(self) -> None:
        """Stop the worker process and its reader thread (closing, or leaving comparison)."""
        self._timer.stop()
        if self.controller is not None:
            self.controller.stop(1000)
            self.controller.deleteLater()
            self.controller = None
        self._set_playing(False)

    def _build_view(self) -> None:
        if self.view is not None:
            self._layout.removeWidget(self.view)
            self.view.deleteLater()
        self.view = CompareView(self._labels, self._theme)
        self.view.set_metric(self._metric)
        self.view.set_window(self._window)
        self.view.set_font_scale(self._font_scale)
        self._layout.addWidget(self.view)

    def _restart(self) -> None:
        assert self.controller is not None
        self.controller.pause()
        self.controller.reset_runs(self._configs)
        self._resets += 1
        self._target = None
        self._histories = [Recorder(config.depth) for config in self._configs]
        self._snapshots = []
        self._dirty = True

    # -- transport ---------------------------------------------------------------------------
    def toggle_play(self) -> None:
        """Pause if any run is training, else play every live run."""
        if self._playing:
            self.pause()
        else:
            self.play()

    def play(self) -> None:
        if self.controller is not None:
            self._target = None
            self.controller.play()

    def pause(self) -> None:
        if self.controller is not None:
            self._target = None
            self.controller.pause()

    def step(self) -> None:
        """Advance every live run by exactly one step."""
        if self.controller is None:
            return
        # Several quick presses each add a step, before the worker has reported any.
        live = [n for n, s in zip(self.step_counts, self.states, strict=True) if s != "diverged"]
        base = max(live, default=0)
        self._target = self._target + 1 if self._target is not None else base + 1
        self.controller.step()

    def play_until(self, steps: int) -> None:
        """Play until every live run has taken ``steps`` steps (or diverged)."""
        if self.controller is not None:
            self._target = int(steps)
            self.controller.play_until(int(steps))

    def reset(self) -> None:
        """Start every run again from its initial weights, paused."""
        if self.controller is not None:
            self._restart()

    def set_speed(self, steps_per_second: float) -> None:
        """Lockstep training steps per second; ``math.inf`` as fast as possible."""
        self._speed = float(steps_per_second)
        if self.controller is not None:
            self.controller.set_speed(self._speed)

    # -- view ------------------------------------------------------------------------------
    def set_metric(self, name: str) -> None:
        self._metric = name
        if self.view is not None:
            self.view.set_metric(name)
        self._dirty = True

    def set_window(self, span: int | None) -> None:
        """Show the last ``span`` steps (None: whole runs)."""
        self._window = span
        if self.view is not None:
            self.view.set_window(span)
        self._dirty = True

    def set_auto_levels(self, on: bool) -> None:
        if self.view is not None:
            self.view.set_auto_levels(on)
        self._dirty = True

    def set_levels(self, lo: float, hi: float) -> None:
        """Pin the shared colour range to [lo, hi] decades."""
        if self.view is not None:
            self.view.set_levels(lo, hi)

    def set_font_scale(self, scale: float) -> None:
        self._font_scale = float(scale)
        if self.view is not None:
            self.view.set_font_scale(scale)

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        if self.view is not None:
            apply_theme(self.view, theme)

    # -- drawing -----------------------------------------------------------------------------
    def draw(self) -> None:
        """Take the newest set of snapshots (if any) and redraw; called by the frame timer."""
        taken = self.controller.hub.take_all() if self.controller is not None else None
        if taken is not None and taken[0].generation == self._resets:
            self._absorb(taken)
        if not self._dirty or self.view is None:
            return
        self._dirty = False
        self.view.set_data([h.window(self._metric, self._window) for h in self._histories])
        self.view.loss_plot.set_data([(h.steps, h.loss) for h in self._histories])
        notes, tips = [], []
        for i, history in enumerate(self._histories):
            snap = self._snapshots[i] if self._snapshots else None
            if snap is not None and snap.error:
                notes.append(overflow_note(snap.error, keep_together=False))
                tips.append(snap.error)
            elif history.diverged_at is not None:
                notes.append(overflow_note(f"diverged at step {history.diverged_at}"))
                tips.append(f"Training stopped: {history.divergence_reason}.")
            else:
                notes.append(plain_note(f"step {snap.step_count if snap else 0}"))
                tips.append("")
        self.view.set_notes(notes, tips)

    def _absorb(self, snapshots: list[Snapshot]) -> None:
        if snapshots[0].generation != self._generation:
            self._generation = snapshots[0].generation
            self._histories = [Recorder(s.config.depth) for s in snapshots]
        for history, snapshot in zip(self._histories, snapshots, strict=True):
            for row in snapshot.rows:
                history.append(row)
        before = [(s.state, s.step_count, s.error) for s in self._snapshots]
        self._snapshots = snapshots
        self._dirty = True
        self._set_playing(any(s.state == "running" for s in snapshots))
        if before != [(s.state, s.step_count, s.error) for s in snapshots]:
            self.stateChanged.emit()

    def _set_playing(self, playing: bool) -> None:
        if playing != self._playing:
            self._playing = playing
            self.playingChanged.emit(playing)

    # -- read-only views for tests and screenshots -------------------------------------------
    @property
    def labels(self) -> list[str]:
        return list(self._labels)

    @property
    def histories(self) -> list[Recorder]:
        return list(self._histories)

    @property
    def states(self) -> list[str]:
        """Per run: "paused", "running" or "diverged" (as last drawn)."""
        if not self._snapshots:
            return ["paused"] * len(self._labels)
        return [s.state for s in self._snapshots]

    @property
    def step_counts(self) -> list[int]:
        if not self._snapshots:
            return [0] * len(self._labels)
        return [s.step_count for s in self._snapshots]

    @property
    def errors(self) -> list[str | None]:
        if not self._snapshots:
            return [None] * len(self._labels)
        return [s.error for s in self._snapshots]

    @property
    def heatmaps(self) -> list[HeatmapView]:
        return list(self.view.heatmaps) if self.view is not None else []

    @property
    def loss_plot(self) -> CompareLossPlot | None:
        return self.view.loss_plot if self.view is not None else None

    @property
    def metric(self) -> str:
        return self._metric

    def levels(self) -> tuple[float, float] | None:
        """The shared colour levels in decades (None before ``start``)."""
        return self.view.levels() if self.view is not None else None

    def is_playing(self) -> bool:
        return self._playing

    def is_idle(self) -> bool:
        """Nothing training, and every run at its target, diverged or failed.

        Commands sent but not yet reported on count as not idle: the snapshots must be of the
        latest reset, and a run short of the target it was sent to is still on its way.
        """
        if self.controller is None:
            return True
        if not self._snapshots or self._generation != self._resets:
            return False
        for snap in self._snapshots:
            if snap.state == "running":
                return False
            stopped = snap.state == "diverged" or snap.error is not None
            if not stopped and self._target is not None and snap.step_count < self._target:
                return False
        return True


def apply_theme(widget: object, theme: Theme) -> None:
    """``widget.set_theme(theme)`` if the widget has one."""
    method = getattr(widget, "set_theme", None)
    if callable(method):
        method(theme)


def plain_note(text: str) -> str:
    """HTML for a short per-run note (e.g. "step 200") that wraps as one piece."""
    return escape(text).replace(" ", "&nbsp;")


def overflow_note(text: str, keep_together: bool = True) -> str:
    """HTML for a per-run note in the overflow colour (divergence; errors may wrap)."""
    body = plain_note(text) if keep_together else escape(text)
    return f"<span style='color:{to_hex(NONFINITE_RGBA)}'><b>{body}</b></span>"
