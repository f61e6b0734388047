"""The main window: controls → config → worker → snapshot → plots, in that one direction."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from gradsim import __version__
from gradsim.app.controls import ControlsPanel
from gradsim.app.heatmap import HeatmapView
from gradsim.app.plots import LossPlot, ProfilePlot
from gradsim.app.settings import AppSettings
from gradsim.app.status import StatusPanel
from gradsim.app.toolbar import DEFAULT_SPEED, DEFAULT_WINDOW, Toolbar
from gradsim.app.worker import Snapshot, TrainingController
from gradsim.engine.config import LIVE_FIELDS, Config
from gradsim.engine.presets import Preset, list_presets
from gradsim.engine.recording import Recorder

if TYPE_CHECKING:
    from gradsim.engine.theory import TheoryProfile

FRAME_MS = 33  # ~30 frames per second: plots show the latest snapshot, stale ones are skipped
STATUS_MS = 250  # text changes more slowly than pictures; no need to redraw it every frame


def theory_line(
    theory: TheoryProfile | None, metric: str, measured: np.ndarray
) -> tuple[np.ndarray | None, str]:
    """The theory's prediction for ``metric`` (None where it has none) and its legend label."""
    if theory is None or not theory.available:
        return None, ""
    label = "theory (exact)" if theory.exact else "theory (mean-field, at init)"
    if metric == "preactivation_rms":
        return theory.preactivation_rms, label
    if metric == "activation_rms":
        return theory.activation_rms, label
    if metric == "backprop_grad_rms" and measured.size and np.isfinite(measured[-1]):
        # The theory gives the profile relative to the output layer: anchor it there.
        return theory.backprop_grad_rms_relative * measured[-1], label
    return None, ""


class MainWindow(QMainWindow):
    """Controls dock, toolbar, heatmap with loss and layer-profile plots, status bar."""

    def __init__(
        self,
        config: Config | None = None,
        preset: Preset | None = None,
        remember: bool = True,
        metric: str | None = None,
    ) -> None:
        super().__init__()
        self._settings = AppSettings() if remember else None
        self._presets = list_presets()
        self._preset = preset
        if config is None and preset is None:
            config = self._settings.last_config() if self._settings else None
            if config is None:
                preset = self._presets[0]
                self._preset = preset
        self._config = config if config is not None else preset.config
        self._metric = metric or (preset.metric if preset else "backprop_grad_rms")
        self._window_span: int | None = DEFAULT_WINDOW
        self._generation = -1
        self._history = Recorder(self._config.depth)
        self._snapshot: Snapshot | None = None
        self._dirty = False
        self._shown_error: str | None = None

        self.setWindowTitle("gradsim")
        self._build()
        self.controller = TrainingController(self)
        self.controller.set_speed(DEFAULT_SPEED)
        self._apply_preset_view()
        self.controller.reset(self._config)

        self._frame_timer = QTimer(self)
        self._frame_timer.setInterval(FRAME_MS)
        self._frame_timer.timeout.connect(self.draw)
        self._frame_timer.start()
        self._status_timer = QTimer(self)
        self._status_timer.setInterval(STATUS_MS)
        self._status_timer.timeout.connect(self.refresh_status)
        self._status_timer.start()
        self._restore_geometry()

    # -- layout ------------------------------------------------------------------------------
    def _build(self) -> None:
        self.toolbar = Toolbar(self, self._presets)
        self.addToolBar(self.toolbar.bar)
        self.toolbar.playToggled.connect(self.toggle_play)
        self.toolbar.stepRequested.connect(self.step)
        self.toolbar.resetRequested.connect(self.reset)
        self.toolbar.speedChanged.connect(lambda v: self.controller.set_speed(v))
        self.toolbar.presetChosen.connect(self.load_preset)
        self.toolbar.metricChanged.connect(self.set_metric)
        self.toolbar.windowChanged.connect(self._set_window)

        self.controls = ControlsPanel(self._config)
        self.controls.configEdited.connect(self._on_config_edited)
        dock = QDockWidget("Settings", self)
        dock.setObjectName("settings-dock")
        dock.setWidget(self.controls)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)

        self.caption = QLabel()
        self.caption.setObjectName("caption")
        self.caption.setWordWrap(True)
        self.caption.setTextFormat(Qt.TextFormat.RichText)
        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(
            "QLabel#banner { background: #b3261e; color: white; font-weight: bold;"
            " padding: 8px; border-radius: 4px; }"
        )
        self.banner.hide()

        self.heatmap = HeatmapView()
        self.heatmap.set_metric(self._metric)
        self.heatmap.set_window(self._window_span)
        self.heatmap.levelsChanged.connect(self.toolbar.show_levels)
        self.toolbar.levelsEdited.connect(self.heatmap.set_levels)
        self.toolbar.autoLevelsToggled.connect(self._set_auto_levels)
        self.toolbar.show_levels(*self.heatmap.levels())
        self.loss_plot = LossPlot()
        self.profile_plot = ProfilePlot()
        side = QSplitter(Qt.Orientation.Vertical)
        side.addWidget(self.loss_plot)
        side.addWidget(self.profile_plot)
        plots = QSplitter(Qt.Orientation.Horizontal)
        plots.addWidget(self.heatmap)
        plots.addWidget(side)
        plots.setStretchFactor(0, 3)
        plots.setStretchFactor(1, 2)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.caption)
        layout.addWidget(self.banner)
        layout.addWidget(plots, 1)
        self.setCentralWidget(central)
        self.status = StatusPanel(self.statusBar())

    # -- commands ------------------------------------------------------------------------------
    def toggle_play(self) -> None:
        if self._state() == "running":
            self.controller.pause()
        else:
            self.controller.play()

    def step(self) -> None:
        self.controller.step()

    def reset(self) -> None:
        """Start the current configuration again from its initial weights, paused."""
        self.controller.pause()
        self.controller.reset(self._config)

    def load_preset(self, preset: Preset) -> None:
        """Show a lesson: its configuration, its metric and its explanation; paused at step 0."""
        self._preset = preset
        self._config = preset.config
        self.controls.set_config(preset.config)
        self._metric = preset.metric
        self._apply_preset_view()
        self.controller.pause()
        self.controller.reset(preset.config)

    def load_config(self, config: Config) -> None:
        """Show a configuration (e.g. opened from a file); paused at step 0."""
        self._preset = None
        self._config = config
        self.controls.set_config(config)
        self._apply_preset_view()
        self.controller.pause()
        self.controller.reset(config)

    def set_metric(self, name: str) -> None:
        self._metric = name
        self.toolbar.set_metric(name)
        self.heatmap.set_metric(name)
        self._dirty = True

    def _set_auto_levels(self, on: bool) -> None:
        self.heatmap.set_auto_levels(on)  # off keeps the current range, pinned
        self._dirty = True

    def _set_window(self, span: int | None) -> None:
        self._window_span = span
        self.heatmap.set_window(span)
        self._dirty = True

    def _apply_preset_view(self) -> None:
        self.toolbar.set_metric(self._metric)
        self.heatmap.set_metric(self._metric)
        if self._preset is not None and self._preset.config == self._config:
            title, text = self._preset.title, self._preset.description
        else:
            title, text = "Custom configuration", "Your own settings: press Space to train."
        self.caption.setText(f"<b style='font-size:15pt'>{title}</b><br>{text}")
        self.setWindowTitle(f"gradsim {__version__} — {title}")

    def _on_config_edited(self, config: Config) -> None:
        """A control changed: training-only settings go live, anything else restarts the run."""
        changed = {k: v for k, v in config.to_dict().items() if getattr(self._config, k) != v}
        if not changed:
            return
        self._config = config
        if set(changed) <= set(LIVE_FIELDS):
            self.controller.set_live(changed)
        else:
            self.controller.reset(config)  # keeps playing if it was
        self._apply_preset_view()

    # -- drawing -------------------------------------------------------------------------------
    def draw(self) -> None:
        """Take the newest snapshot (if any) and redraw; called by the frame timer."""
        snapshot = self.controller.hub.take()
        if snapshot is not None:
            self._absorb(snapshot)
        if not self._dirty:
            return
        self._dirty = False
        steps, values = self._history.window(self._metric, self._window_span)
        self.heatmap.set_data(steps, values)
        self.loss_plot.set_data(self._history.steps, self._history.loss)
        if len(values):
            # After an overflow the newest row is all inf/nan: show the last step that still
            # had numbers (for the exploding seed: step 0's straight line of doublings).
            usable = np.flatnonzero(np.isfinite(values).any(axis=1))
            row = int(usable[-1]) if usable.size else len(values) - 1
            theory, label = theory_line(self._theory(), self._metric, values[row])
            self.profile_plot.set_profile(
                values[row], self._metric, theory, label, step=int(steps[row])
            )
        else:
            self.profile_plot.clear()

    def _absorb(self, snapshot: Snapshot) -> None:
        if snapshot.generation != self._generation:
            self._generation = snapshot.generation
            self._history = Recorder(snapshot.config.depth)
        for row in snapshot.rows:
            self._history.append(row)
        self._snapshot = snapshot
        self._dirty = True
        self.toolbar.set_playing(snapshot.state == "running")
        self._update_banner(snapshot)

    def _update_banner(self, snapshot: Snapshot) -> None:
        if snapshot.error:
            self.banner.setText(snapshot.error)
            self.banner.show()
        elif snapshot.state == "diverged" and self._history.diverged_at is not None:
            self.banner.setText(
                f"Diverged at step {self._history.diverged_at}: "
                f"{self._history.divergence_reason}. Training stopped; press R to start again."
            )
            self.banner.show()
        else:
            self.banner.hide()

    def refresh_status(self) -> None:
        """Update the status bar text (on a slower timer than the plots)."""
        snap = self._snapshot
        if snap is None:
            return
        loss = self._history.loss
        self.status.update(
            step=snap.step_count,
            steps_per_second=snap.steps_per_second,
            loss=float(loss[-1]) if loss.size else None,
            state=snap.state,
        )

    def _state(self) -> str:
        return self._snapshot.state if self._snapshot is not None else "paused"

    def _theory(self) -> TheoryProfile | None:
        return self._snapshot.theory if self._snapshot is not None else None

    # -- read-only views for tests and the headless helpers --------------------------------------
    @property
    def history(self) -> Recorder:
        return self._history

    @property
    def config(self) -> Config:
        return self._config

    @property
    def state(self) -> str:
        return self._state()

    @property
    def metric(self) -> str:
        return self._metric

    @property
    def latest_snapshot(self) -> Snapshot | None:
        """The last snapshot drawn (None before the worker's first report)."""
        return self._snapshot

    # -- persistence and shutdown ------------------------------------------------------------
    def _restore_geometry(self) -> None:
        if self._settings is None:
            self.resize(1600, 900)
            return
        geometry, state = self._settings.geometry()
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1600, 900)
        if state is not None:
            self.restoreState(state)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._frame_timer.stop()
        self._status_timer.stop()
        if self._settings is not None:
            self._settings.save_geometry(self.saveGeometry(), self.saveState())
            self._settings.save_config(self._config)
            self._settings.sync()
        self.controller.stop(1000)
        super().closeEvent(event)
