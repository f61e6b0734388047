"""The main window: controls → config → worker → snapshot → plots, in that one direction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from gradsim import __version__
from gradsim.app.compare_mode import CompareMode
from gradsim.app.export.file_commands import FileCommands, build_file_menus
from gradsim.app.inputs.controls import ControlsPanel
from gradsim.app.inputs.menus import build_menus
from gradsim.app.inputs.toolbar import DEFAULT_SPEED, DEFAULT_WINDOW, Toolbar
from gradsim.app.lecture.lecture_commands import LectureCommands, bundled_lessons
from gradsim.app.lecture.lesson_player import LessonPlayer
from gradsim.app.lecture.presentation import PresentationMode
from gradsim.app.model.settings import AppSettings
from gradsim.app.model.worker import Snapshot
from gradsim.app.run_driver import RunDriver
from gradsim.app.views.banner import DivergenceBanner
from gradsim.app.views.caption_bar import CaptionBar
from gradsim.app.views.single_view import MAP_TAB, SingleRunView
from gradsim.app.views.status import StatusPanel
from gradsim.app.views.themes import DEFAULT_THEME, THEMES, Theme
from gradsim.engine.config import LIVE_FIELDS, Config
from gradsim.engine.lessons import Lesson
from gradsim.engine.presets import Preset, list_presets
from gradsim.engine.recording import Recorder

if TYPE_CHECKING:
    from gradsim.app.views.theory_panel import ChaosMap
    from gradsim.engine.theory import TheoryProfile

FRAME_MS = 33  # ~30 frames per second: plots show the latest snapshot, stale ones are skipped
STATUS_MS = 250  # text changes more slowly than pictures; no need to redraw it every frame


class MainWindow(FileCommands, LectureCommands, QMainWindow):
    """Controls dock, toolbar, caption bar, heatmap with loss and layer-profile plots, theory.

    Lecture tools: lessons scene by scene (``lessons``), presentation mode (``presentation``),
    light and dark themes, and side-by-side comparisons (``compare``).
    """

    def __init__(
        self,
        config: Config | None = None,
        preset: Preset | None = None,
        remember: bool = True,
        metric: str | None = None,
        lesson: Lesson | None = None,
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
        self._speed = DEFAULT_SPEED
        self._generation = -1
        self._history = Recorder(self._config.depth)
        self._snapshot: Snapshot | None = None
        self._dirty = False
        self._compare_labels: list[str] = []
        saved = self._settings.value("view/theme", DEFAULT_THEME.name) if self._settings else ""
        self._theme = THEMES.get(saved, DEFAULT_THEME)
        self._font_scale = 1.0

        self.setWindowTitle("gradsim")
        self._build()
        self.driver = RunDriver(self, DEFAULT_SPEED)
        self.controller = self.driver.controller  # tests and benchmarks talk to it directly
        self._apply_preset_view()
        self.driver.reset(self._config)
        if self._theme is not DEFAULT_THEME:  # the views are built in the default look
            self._apply_look()
        self.menus.theme_actions[self._theme.name].setChecked(True)

        self._frame_timer = QTimer(self)
        self._frame_timer.setInterval(FRAME_MS)
        self._frame_timer.timeout.connect(self.draw)
        self._frame_timer.start()
        self._status_timer = QTimer(self)
        self._status_timer.setInterval(STATUS_MS)
        self._status_timer.timeout.connect(self.refresh_status)
        self._status_timer.start()
        self._restore_geometry()
        if lesson is not None:
            self.start_lesson(lesson)

    # -- layout ------------------------------------------------------------------------------
    def _build(self) -> None:
        self.toolbar = Toolbar(self, self._presets)
        self.addToolBar(self.toolbar.bar)
        for action in self.toolbar.transport_actions():
            self.addAction(action)  # the keys work with the toolbar hidden (presentation)
        self.toolbar.playToggled.connect(self.toggle_play)
        self.toolbar.stepRequested.connect(self.step)
        self.toolbar.resetRequested.connect(self.reset)
        self.toolbar.speedChanged.connect(self._set_speed)
        self.toolbar.presetChosen.connect(self.load_preset)
        self.toolbar.metricChanged.connect(self.set_metric)
        self.toolbar.windowChanged.connect(self._set_window)
        self.toolbar.levelsEdited.connect(self._set_levels)
        self.toolbar.autoLevelsToggled.connect(self._set_auto_levels)

        self.controls = ControlsPanel(self._config)
        self.controls.configEdited.connect(self._on_config_edited)
        self.controls_dock = QDockWidget("Settings", self)
        self.controls_dock.setObjectName("settings-dock")
        self.controls_dock.setWidget(self.controls)
        self.controls_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.controls_dock)

        self.caption_bar = CaptionBar()
        self.banner = DivergenceBanner()

        self.stack = QStackedWidget()
        self.stack.addWidget(self._build_single_view())
        self.compare = CompareMode(self.stack, self.stack.widget(0))
        self.compare.playingChanged.connect(self.toolbar.set_playing)
        self.compare.levelsChanged.connect(self.toolbar.show_levels)

        central = QWidget()
        central.setObjectName("central")
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.caption_bar)
        layout.addWidget(self.banner)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.status = StatusPanel(self.statusBar())

        self.lessons = LessonPlayer(self)
        self.lessons.sceneChanged.connect(self._show_scene)
        self.caption_bar.nextRequested.connect(self.lessons.next)
        self.caption_bar.previousRequested.connect(self.lessons.previous)
        self.presentation = PresentationMode(
            self,
            hide=lambda: (self.controls_dock, self.toolbar.bar, self.statusBar(), self.menuBar()),
            apply_look=self._set_presenting,
        )
        self.file_actions = build_file_menus(self)
        self.menus = build_menus(
            self,
            presentation=self.presentation.toggle_action,
            next_scene=self.lessons.next_action,
            previous_scene=self.lessons.previous_action,
            lessons=bundled_lessons(),
            on_theme=self.set_theme,
            on_map=self.single.show_map,
            on_lesson=self.start_lesson,
            on_open_lesson=self._choose_lesson_file,
            on_leave_lesson=self.leave_lesson,
            on_compare=self._choose_comparison,
            on_stop_comparing=self.stop_comparison,
        )

    def _build_single_view(self) -> SingleRunView:
        self.single = SingleRunView(self._metric, self._window_span)
        self.single.levelsChanged.connect(self._single_levels_changed)
        # Short names for the views the tests and screenshots reach.
        self.heatmap = self.single.heatmap
        self.loss_plot = self.single.loss_plot
        self.profile_plot = self.single.profile_plot
        self.readout = self.single.readout
        self.toolbar.show_levels(*self.heatmap.levels())
        self.single.tabs.currentChanged.connect(
            lambda index: self.menus.show_map.setChecked(index == MAP_TAB)
        )
        return self.single

    # -- commands ------------------------------------------------------------------------------
    def toggle_play(self) -> None:
        if self.compare.active:
            self.compare.toggle_play()
        elif self._state() == "running":
            self.driver.pause()
        else:
            self.driver.play()

    def step(self) -> None:
        if self.compare.active:
            self.compare.step()
        else:
            self.driver.step()

    def reset(self) -> None:
        """Start the current run (or every compared run) again from its initial weights."""
        if self.compare.active:
            self.compare.reset()
            return
        self.driver.pause()
        self.driver.reset(self._config)

    def load_preset(self, preset: Preset) -> None:
        """Show a preset: its configuration, its metric and its explanation; paused at step 0."""
        self.lessons.stop()
        self._show_run(preset.config, preset, preset.metric)

    def load_config(self, config: Config) -> None:
        """Show a configuration (e.g. opened from a file); paused at step 0."""
        self.lessons.stop()
        self._show_run(config, None, self._metric)

    def run_until(self, steps: int) -> None:
        """Train at full speed to ``steps`` steps (or divergence), then pause."""
        (self.compare if self.compare.active else self.driver).run_until(steps)

    def is_idle(self) -> bool:
        """Nothing left to do: the newest run(s) reported and are not training."""
        if self.compare.active:
            return self.compare.is_idle()
        return self.driver.is_idle(self._snapshot)

    def pause_after_entry(self) -> None:
        """Stay paused after the scene's opening steps instead of playing (screenshots)."""
        (self.compare if self.compare.active else self.driver).stay_paused()

    def set_metric(self, name: str) -> None:
        self._metric = name
        self.toolbar.set_metric(name)
        self.heatmap.set_metric(name)
        self.compare.set_metric(name)
        self._dirty = True

    def set_theme(self, name: str) -> None:
        """Switch to the light or dark theme (kept for the next session)."""
        self._theme = THEMES[name]
        self.menus.theme_actions[name].setChecked(True)
        if self._settings is not None:
            self._settings.set_value("view/theme", name)
        self._apply_look()

    def _show_run(self, config: Config, preset: Preset | None, metric: str) -> None:
        if self.compare.active:
            self.compare.leave()
        self._preset = preset
        self._config = config
        self.controls.set_config(config)
        self._metric = metric
        self._after_mode_change()
        self.driver.pause()
        self.driver.reset(config)

    def _after_mode_change(self) -> None:
        """Single run or comparison: controls, banner, levels and captions follow."""
        comparing = self.compare.active
        # The settings are the single run's: out of the way while comparing.
        self._sync_dock()
        self.menus.stop_comparing.setEnabled(comparing)
        if comparing:
            self.banner.hide()
            levels = self.compare.levels()
        else:
            levels = self.heatmap.levels()
        if levels is not None:
            self.toolbar.show_levels(*levels)
        self._apply_preset_view()

    def _set_speed(self, steps_per_second: float) -> None:
        self._speed = steps_per_second
        self.driver.set_speed(steps_per_second)
        self.compare.set_speed(steps_per_second)

    def _set_auto_levels(self, on: bool) -> None:
        self.heatmap.set_auto_levels(on)  # off keeps the current range, pinned
        self.compare.set_auto_levels(on)
        self._dirty = True

    def _set_levels(self, lo: float, hi: float) -> None:
        (self.compare if self.compare.active else self.heatmap).set_levels(lo, hi)

    def _single_levels_changed(self, lo: float, hi: float) -> None:
        if not self.compare.active:
            self.toolbar.show_levels(lo, hi)

    def _set_window(self, span: int | None) -> None:
        self._window_span = span
        self.heatmap.set_window(span)
        self.compare.set_window(span)
        self._dirty = True

    def _apply_preset_view(self) -> None:
        self.toolbar.set_metric(self._metric)
        self.heatmap.set_metric(self._metric)
        title, text = self._caption()
        self.caption_bar.set_text(title, text)
        self.setWindowTitle(f"gradsim {__version__} — {title}")
        self.single.set_theory(self._config, self._current_theory())

    def _on_config_edited(self, config: Config) -> None:
        """A control changed: training-only settings go live, anything else restarts the run."""
        changed = {k: v for k, v in config.to_dict().items() if getattr(self._config, k) != v}
        if not changed:
            return
        self._config = config
        if set(changed) <= set(LIVE_FIELDS):
            self.driver.set_live(changed)
        else:
            self.driver.reset(config)  # keeps playing if it was
        self._apply_preset_view()

    # -- look ------------------------------------------------------------------------------------
    def _set_presenting(self, on: bool, scale: float) -> None:
        self._font_scale = scale
        self._apply_look()
        self._sync_dock()

    def _sync_dock(self) -> None:
        """The settings dock shows for a single run outside presentation mode."""
        if not self.presentation.active:
            self.controls_dock.setVisible(not self.compare.active)

    def _apply_look(self) -> None:
        """Theme (high-contrast in presentation mode) and font scale on every view."""
        theme = self.theme
        self.caption_bar.set_theme(theme)
        self.caption_bar.set_font_scale(self._font_scale)
        self.single.set_look(theme, self._font_scale)
        self.compare.set_look(theme, self._font_scale)
        background = theme.background if theme.projector else "none"
        self.centralWidget().setStyleSheet(f"QWidget#central {{ background: {background}; }}")
        self._dirty = True

    @property
    def chaos_map(self) -> ChaosMap:
        return self.single.chaos_map

    @property
    def theme(self) -> Theme:
        """The theme in use (its projector variant in presentation mode)."""
        return self._theme.for_projector() if self.presentation.active else self._theme

    # -- drawing -------------------------------------------------------------------------------
    def draw(self) -> None:
        """Take the newest snapshot (if any) and redraw; called by the frame timer."""
        snapshot = self.driver.hub.take()
        if snapshot is not None:
            self._absorb(snapshot)
        if not self._dirty:
            return
        self._dirty = False
        self.single.draw(self._history, self._metric, self._window_span, self._current_theory())

    def _absorb(self, snapshot: Snapshot) -> None:
        if snapshot.generation != self._generation:
            self._generation = snapshot.generation
            self._history = Recorder(snapshot.config.depth)
            if snapshot.theory is not None and snapshot.config == self._config:
                # The worker's prediction uses the data's real input scale.
                self.single.set_theory(self._config, snapshot.theory)
        for row in snapshot.rows:
            self._history.append(row)
        self._snapshot = snapshot
        self._dirty = True
        self.driver.absorb(snapshot)
        if not self.compare.active:
            self.toolbar.set_playing(snapshot.state == "running")
            self.banner.show_for(snapshot, self._history)

    def refresh_status(self) -> None:
        """Update the status bar text (on a slower timer than the plots)."""
        if self.compare.active:
            step, state = self.compare.status()
            self.status.update(step=step, steps_per_second=0.0, loss=None, state=state)
            return
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

    def _current_theory(self) -> TheoryProfile | None:
        """The worker's prediction for the config shown (None until it has reported)."""
        snap = self._snapshot
        if snap is None or snap.config != self._config:
            return None
        return snap.theory

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
        self.compare.stop()
        self.driver.stop(1000)
        super().closeEvent(event)
