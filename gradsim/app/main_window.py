"""The main window: controls → config → session (worker) → snapshots → views, in that order.

The window composes the pieces and routes between them; it holds no state of its own beyond
its widgets. What is shown is the run session's (1-4 runs) and the view state's (metric, step
window, levels, theme, speed); one frame timer polls the session and lets the view of the
current mode (one run, or a comparison) draw the latest state.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent, QResizeEvent
from PySide6.QtWidgets import QDockWidget, QMainWindow, QStackedWidget, QVBoxLayout, QWidget

from gradsim import __version__
from gradsim.app.export.file_commands import FileCommands
from gradsim.app.inputs.controls import ControlsPanel
from gradsim.app.inputs.menus import ReplayKeys, build_file_menus, build_menus
from gradsim.app.inputs.replay_bar import ReplayBar, replay_by, replay_first
from gradsim.app.inputs.toolbar import Toolbar
from gradsim.app.lecture.captions import caption
from gradsim.app.lecture.lecture_commands import LectureCommands
from gradsim.app.lecture.lesson_player import LessonPlayer
from gradsim.app.lecture.presentation import PresentationMode
from gradsim.app.model.session import RunSession, RunSpec
from gradsim.app.model.settings import AppSettings, Origin
from gradsim.app.model.view_state import View, ViewState
from gradsim.app.views.caption_bar import CaptionBar
from gradsim.app.views.single_view import PANELS, SingleRunView
from gradsim.app.views.status import DivergenceBanner, StatusPanel, banner_text, transport_text
from gradsim.app.views.themes import THEMES, Theme
from gradsim.engine.config import Config
from gradsim.engine.lessons import Lesson, LessonError, load_lesson
from gradsim.engine.presets import Preset, list_presets

if TYPE_CHECKING:  # loaded on first use: most sessions never compare (~20 ms of start-up)
    from gradsim.app.views.compare_view import CompareView

FRAME_MS = 33  # ~30 frames per second: views draw the latest state, stale snapshots are skipped
STATUS_MS = 250  # text changes more slowly than pictures; no need to redraw it every frame
CLOSE_TIMEOUT_MS = 500  # then the worker is terminated: closing never hangs on a long step


class MainWindow(QMainWindow):
    """Controls dock, toolbar, caption bar, and the view of the runs (heatmap, loss, profile
    and theory for one run; a heatmap per run for a comparison)."""

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
        self.view_state = ViewState(View(), self)
        if self._settings is not None:
            self.view_state.restore(self._settings.last_view())
        self.session = RunSession(self, self.view_state.view.speed)
        first, lesson_scene = self._first_run(config, preset, lesson)
        self._dirty = True
        self._dock_hidden_by_mode = False
        self.compare_view: CompareView | None = None
        self.setWindowTitle("gradsim")
        self._build(first.config)
        self.view: SingleRunView | CompareView = self.single
        self._connect()
        self.show_runs([first], metric or (preset.metric if preset else None))
        self._apply_look()
        self._frame_timer = self._timer(FRAME_MS, self.draw)
        self._status_timer = self._timer(STATUS_MS, self.refresh_status)
        self._restore_geometry()
        if lesson_scene is not None:
            self.lecture.start_lesson(*lesson_scene)

    def _first_run(
        self, config: Config | None, preset: Preset | None, lesson: Lesson | None
    ) -> tuple[RunSpec, tuple[Lesson, int] | None]:
        """What opens: the lesson, preset or config asked for, else the last session's run
        (and its preset or lesson scene), else the first preset."""
        by_id = {p.id: p for p in self._presets}
        scene: tuple[Lesson, int] | None = (lesson, 0) if lesson is not None else None
        if config is None and preset is None and lesson is None and self._settings is not None:
            config = self._settings.last_config()
            origin = self._settings.last_origin()
            scene = _saved_lesson(origin)
            saved = by_id.get(origin.preset_id or "")
            if saved is not None and config == saved.config:
                preset = saved
        if preset is not None and config is None:
            config = preset.config
        if config is None:
            preset = self._presets[0]
            config = preset.config
        label = preset.title if preset is not None else "Custom configuration"
        return RunSpec(label, config, preset.id if preset else None), scene

    # -- layout ----------------------------------------------------------------------------------
    def _build(self, config: Config) -> None:
        self.toolbar = Toolbar(self, self._presets, self.view_state)
        self.addToolBar(self.toolbar.bar)
        self.controls = ControlsPanel(config)
        self.controls_dock = QDockWidget("Settings", self)
        self.controls_dock.setObjectName("settings-dock")
        self.controls_dock.setWidget(self.controls)
        features = QDockWidget.DockWidgetFeature
        # Closable: View → Settings panel (its toggle action) hides and shows it.
        self.controls_dock.setFeatures(features.DockWidgetMovable | features.DockWidgetClosable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.controls_dock)
        self.caption_bar = CaptionBar()
        self.banner = DivergenceBanner()
        self.single = SingleRunView()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.single)
        self._central = central = QWidget()
        central.setObjectName("central")
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.caption_bar)
        layout.addWidget(self.banner)
        layout.addWidget(self.stack, 1)
        self.replay = ReplayBar(self.view_state)
        layout.addWidget(self.replay)
        self._replay_generation = -1  # new runs follow the newest step again
        self.setCentralWidget(central)
        self.status = StatusPanel(self.statusBar())

        self.lessons = LessonPlayer(self)
        self.lecture = LectureCommands(
            self, self.session, self.lessons, self._presets, self.view_state
        )
        self.files = FileCommands(self, self.session, self.view_state, self._settings)
        self.presentation = PresentationMode(
            self,
            hide=lambda: (self.controls_dock, self.toolbar.bar, self.statusBar(), self.menuBar()),
            apply_look=self._set_presenting,
        )
        self.file_actions = build_file_menus(self, self.files)
        self.menus = build_menus(
            self,
            self.lecture,
            self.lessons,
            self.view_state,
            presentation=self.presentation.toggle_action,
            settings_panel=self.controls_dock.toggleViewAction(),
            replay_keys=ReplayKeys(
                first=lambda: replay_first(self.session, self.view_state),
                back=lambda: replay_by(self.session, self.view_state, -1),
                forward=lambda: replay_by(self.session, self.view_state, 1),
                live=lambda: self.view_state.show_step(None),
            ),
        )

    def _connect(self) -> None:
        session, toolbar = self.session, self.toolbar
        toolbar.playToggled.connect(session.toggle_play)
        toolbar.stepRequested.connect(session.step)
        toolbar.resetRequested.connect(session.reset)
        toolbar.presetChosen.connect(self.show_preset)
        self.controls.configEdited.connect(self._on_config_edited)
        self.caption_bar.nextRequested.connect(self.lessons.next)
        self.caption_bar.previousRequested.connect(self.lessons.previous)
        session.runsChanged.connect(self._on_runs_changed)
        session.stateChanged.connect(self._on_session_state)
        session.playingChanged.connect(toolbar.set_playing)
        session.playingChanged.connect(lambda _playing: self._on_session_state())
        session.noticed.connect(self.show_status)
        self.view_state.changed.connect(self._on_view_changed)
        self.single.heatmap.stepClicked.connect(self.view_state.show_step)
        self.single.tabs.currentChanged.connect(
            lambda index: self.view_state.set_panel(PANELS[index])
        )

    def _timer(self, interval_ms: int, slot: object) -> QTimer:
        timer = QTimer(self)
        timer.setInterval(interval_ms)
        timer.timeout.connect(slot)
        timer.start()
        return timer

    # -- what is shown -----------------------------------------------------------------------------
    def show_runs(
        self, specs: Sequence[RunSpec], metric: str | None = None, leave_lesson: bool = True
    ) -> None:
        """Show these runs from step 0, paused; ``metric`` in the heatmap if given."""
        if leave_lesson:
            self.lessons.stop()
        self.session.start(specs)
        if metric is not None:
            self.view_state.set_metric(metric)

    def show_preset(self, preset: Preset) -> None:
        """A preset: its configuration, its metric and its explanation; paused at step 0."""
        self.show_runs([RunSpec(preset.title, preset.config, preset.id)], preset.metric)

    def single_config(self) -> Config:
        return self.controls.config()

    def _on_runs_changed(self) -> None:
        """New runs: the view of their mode, the controls (one run's) and the caption."""
        count = self.session.count
        if count == 1 and self.controls.config() != self.session.configs[0]:
            self.controls.set_config(self.session.configs[0])
        self._choose_view(count)
        self.update_caption()

    def _choose_view(self, count: int) -> None:
        """One run: the single view and its settings dock; 2-4: a comparison view of them."""
        old = self.compare_view
        if count > 1:
            from gradsim.app.views.compare_view import CompareView

            self.compare_view = CompareView(self.session.labels, self.look())
            self.compare_view.set_font_scale(self.view_state.view.font_scale)
            for heatmap in self.compare_view.heatmaps:
                heatmap.stepClicked.connect(self.view_state.show_step)
            self.stack.addWidget(self.compare_view)
            self.view = self.compare_view
        else:
            self.compare_view = None
            self.view = self.single
        self.stack.setCurrentWidget(self.view)
        if old is not None:
            self.stack.removeWidget(old)
            old.deleteLater()
        self.controls_dock.toggleViewAction().setEnabled(count == 1)
        self.menus.stop_comparing.setEnabled(count > 1)
        self._sync_dock()
        self._dirty = True

    def _on_config_edited(self, config: Config) -> None:
        """A control changed: training-only settings go live, anything else restarts."""
        if self.session.count == 1:
            self.session.edit(config)
            self.update_caption()

    def _on_session_state(self) -> None:
        self.banner.show_message(banner_text(self.session))
        shown = self.view_state.view.shown_step
        self.caption_bar.set_transport(transport_text(self.session, shown))

    def _on_view_changed(self, name: str) -> None:
        if name == "speed":
            self.session.set_speed(self.view_state.view.speed)
        elif name in ("theme", "font_scale"):
            self._apply_look()
        elif name == "shown_step":
            self._on_session_state()
        elif name == "panel":
            self.single.show_panel(self.view_state.view.panel)
        self._dirty = True

    def update_caption(self) -> None:
        by_id = {p.id: p for p in self._presets}
        title, text = caption(self.session, self.lessons, by_id)
        lesson = self.lessons.lesson
        if lesson is None:
            self.caption_bar.set_counter(None, 0)
        else:
            self.caption_bar.set_counter(self.lessons.index, len(lesson.scenes))
        self.caption_bar.set_text(title, text)
        self.setWindowTitle(f"gradsim {__version__} — {title}")

    # -- look ------------------------------------------------------------------------------------
    def _set_presenting(self, on: bool, scale: float) -> None:
        self.view_state.set_font_scale(scale if on else self._window_scale())
        self._apply_look()  # the projector variant of the theme, even at an unchanged scale
        self._sync_dock()

    def _sync_dock(self) -> None:
        """A comparison hides the settings dock (they are a single run's); back with one run,
        the dock returns if the comparison hid it (not if the user closed it)."""
        if self.presentation.active:
            return
        dock = self.controls_dock
        if self.session.count > 1 and not dock.isHidden():
            dock.hide()
            self._dock_hidden_by_mode = True
        elif self.session.count == 1 and self._dock_hidden_by_mode:
            dock.show()
            self._dock_hidden_by_mode = False

    def _apply_look(self) -> None:
        """Theme (high-contrast in presentation mode) and font scale on every view."""
        theme, scale = self.look(), self.view_state.view.font_scale
        self.menus.theme_actions[self.view_state.view.theme].setChecked(True)
        self.caption_bar.set_theme(theme)
        self.caption_bar.set_font_scale(scale)
        self.banner.set_font_scale(scale)
        self.replay.set_font_scale(scale)
        self.replay.set_colors(theme.window_text, theme.window)
        self.single.set_look(theme, scale)
        if self.compare_view is not None:
            self.compare_view.set_theme(theme)
            self.compare_view.set_font_scale(scale)
        background = theme.background if theme.projector else "none"
        self._central.setStyleSheet(f"QWidget#central {{ background: {background}; }}")
        self._dirty = True

    def look(self) -> Theme:
        """The theme in use (its projector variant in presentation mode)."""
        theme = THEMES[self.view_state.view.theme]
        return theme.for_projector() if self.presentation.active else theme

    # -- drawing ---------------------------------------------------------------------------------
    def draw(self) -> None:
        """Take the session's news and let the current view draw it (the frame timer's slot)."""
        news = self.session.poll()
        if self.session.generation != self._replay_generation:
            self._replay_generation = self.session.generation
            self.view_state.show_step(None)  # new runs: nothing of the old ones to replay
        if news or self._dirty:
            self._dirty = False
            self.view.draw(self.session, self.view_state)
            self.replay.show_session(self.session)

    def refresh_status(self) -> None:
        """Update the status bar text (on a slower timer than the plots)."""
        self.status.show(self.session)

    # -- for the commands (Host) and the headless helpers ----------------------------------------
    def export_widget(self, target: str) -> QWidget:
        if target == "window":
            return self
        if target in PANELS:  # brought to the front and drawn, as the user would see it
            self.view_state.set_panel(target)
            self._dirty = True
            self.draw()
        return self.view.export_widget(target)

    def dialog_parent(self) -> QWidget:
        return self

    def show_status(self, text: str) -> None:
        self.statusBar().showMessage(text, 5000)

    # -- persistence and shutdown ------------------------------------------------------------------
    def _restore_geometry(self) -> None:
        geometry, state = self._settings.geometry() if self._settings else (None, None)
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1600, 900)
        if state is not None:
            self.restoreState(state)
        self._sync_dock()  # the mode decides, not a comparison's saved layout

    def _save(self) -> None:
        """What the next start shows: the layout with its chrome, the run and its origin."""
        if self._settings is None:
            return
        self.presentation.set_active(False)  # save the normal layout, never the hidden chrome
        if self._dock_hidden_by_mode:  # a comparison's doing, not the user's
            self.controls_dock.show()
        self._settings.save_geometry(self.saveGeometry(), self.saveState())
        single = self.session.count == 1
        spec = self.session.specs[0] if single else None
        config = spec.config if spec is not None else self.controls.config()
        lesson = self.lessons.lesson
        origin = Origin(
            preset_id=spec.preset_id if spec is not None else None,
            lesson=lesson.ref if lesson is not None else None,
            scene=self.lessons.index,
        )
        self._settings.save_session(config, origin, self.view_state.to_dict())
        self._settings.sync()

    def _window_scale(self) -> float:
        """Outside presentation mode, texts shrink a little in a small window (a laptop's
        1280 x 720), so that the plots keep room for their data: 1 from 1600 x 900 up."""
        fit = min(self.width() / 1600, self.height() / 900)
        return round(min(1.0, max(0.75, fit)) * 20) / 20

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if not self.presentation.active:
            self.view_state.set_font_scale(self._window_scale())

    def closeEvent(self, event: QCloseEvent) -> None:
        self._frame_timer.stop()
        self._status_timer.stop()
        self._save()
        self.session.stop(CLOSE_TIMEOUT_MS)
        super().closeEvent(event)


def _saved_lesson(origin: Origin) -> tuple[Lesson, int] | None:
    """The lesson scene the last session showed, if it can still be loaded."""
    if origin.lesson is None:
        return None
    try:
        lesson = load_lesson(origin.lesson)
    except (LessonError, OSError, KeyError):  # KeyError: a bundled lesson id no longer known
        return None
    return lesson, min(max(origin.scene, 0), len(lesson.scenes) - 1)
