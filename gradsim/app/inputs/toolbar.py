"""The main toolbar: transport (play, step, reset), speed, presets, metric and colour range.

Transport and presets are commands (signals the window routes). Speed, metric, step window and
colour range belong to the view state: the toolbar writes them there and mirrors them back, so
a change made anywhere else (a lesson scene, a restored session) shows here too."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtCore import QObject, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLabel,
    QMenu,
    QSpinBox,
    QToolBar,
    QToolButton,
    QWidget,
)

from gradsim.app.inputs.actions import window_action
from gradsim.app.model.view_state import ViewState
from gradsim.engine.presets import Preset
from gradsim.engine.stats import FRACTION_STATS, STAT_DESCRIPTIONS, STAT_NAMES, STAT_TITLES

SPEEDS: tuple[tuple[str, float], ...] = (
    ("1 step/s", 1.0),
    ("5 steps/s", 5.0),
    ("10 steps/s", 10.0),
    ("30 steps/s", 30.0),
    ("100 steps/s", 100.0),
    ("as fast as possible", math.inf),
)

WINDOWS: tuple[tuple[str, int | None], ...] = (
    ("last 100 steps", 100),
    ("last 500 steps", 500),
    ("last 2,000 steps", 2000),
    ("last 10,000 steps", 10000),
    ("whole run", None),
)


class Toolbar(QObject):
    """Builds the toolbar and reports what the user asks for as signals."""

    playToggled = Signal()
    stepRequested = Signal()
    resetRequested = Signal()
    presetChosen = Signal(object)  # Preset

    def __init__(self, parent: QWidget, presets: list[Preset], state: ViewState) -> None:
        super().__init__(parent)
        self._window, self._state = parent, state
        self.bar = QToolBar("Simulation", parent)
        self.bar.setObjectName("simulation-toolbar")
        self.bar.setMovable(False)
        self.bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)

        self.play_action = self._action(
            "Play", "Space", "Start or pause training (Space)", self.playToggled.emit
        )
        self.step_action = self._action(
            "Step", "Right", "Take exactly one training step (→)", self.stepRequested.emit
        )
        tip = "Start the run again from its initial weights (R)"
        self.reset_action = self._action("Reset", "R", tip, self.resetRequested.emit)
        self.bar.addSeparator()

        self.speed = self._combo("Speed", [text for text, _ in SPEEDS], "Training steps per second")
        self.speed.currentIndexChanged.connect(lambda i: state.set_speed(SPEEDS[i][1]))

        self.presets_button = QToolButton(parent)
        self.presets_button.setText("Presets")
        self.presets_button.setToolTip(
            "Ready-made runs: each one shows one effect (Lesson menu: whole lessons)"
        )
        self.presets_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.presets_button)
        menu.setToolTipsVisible(True)
        for preset in presets:
            emit = partial(self.presetChosen.emit, preset)
            window_action(parent, preset.title, emit, tip=preset.description, menu=menu)
        self.presets_button.setMenu(menu)
        self.bar.addWidget(self.presets_button)
        self.bar.addSeparator()

        titles = [STAT_TITLES[name] for name in STAT_NAMES]
        self.metric = self._combo("Show", titles, "Statistic shown in the heatmap")
        for i, name in enumerate(STAT_NAMES):  # the code name, as in exports, in the tooltip
            tip = f"{STAT_DESCRIPTIONS[name]} ({name} in exports)"
            self.metric.setItemData(i, tip, Qt.ItemDataRole.ToolTipRole)
        self.metric.currentIndexChanged.connect(lambda i: state.set_metric(STAT_NAMES[i]))

        self.window = self._combo(
            "Window", [label for label, _ in WINDOWS], "How many recent steps the heatmap shows"
        )
        self.window.currentIndexChanged.connect(lambda i: state.set_window(WINDOWS[i][1]))
        self._build_levels()
        for name in ("speed", "metric", "window", "auto_levels", "levels"):
            self._mirror(name)
        state.changed.connect(self._mirror)

    def _build_levels(self) -> None:
        """Colour range: automatic (steady, with hysteresis) or pinned by the user in decades."""
        self.bar.addSeparator()
        self.auto_levels = QCheckBox("auto colours", self.bar)
        self.auto_levels.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.auto_levels.setToolTip(
            "Let the colour range follow the data (it moves only when the data leaves it)."
            " Untick, or edit the range, to pin it: then colours mean the same across runs."
        )
        self.auto_levels.toggled.connect(self._state.set_auto_levels)
        self.bar.addWidget(self.auto_levels)
        self.level_low = self._decade_box("lowest colour: 10 to this power")
        self.bar.addWidget(QLabel(" to ", self.bar))
        self.level_high = self._decade_box("highest colour: 10 to this power")

    def _decade_box(self, tip: str) -> QSpinBox:
        box = QSpinBox(self.bar)
        box.setRange(-330, 330)
        box.setPrefix("1e")
        box.setKeyboardTracking(False)
        box.setToolTip(tip)
        box.valueChanged.connect(self._levels_edited)
        self.bar.addWidget(box)
        return box

    def _levels_edited(self) -> None:
        low, high = self.level_low.value(), self.level_high.value()
        if high <= low:
            return  # mid-edit; an empty range means nothing yet
        self._state.pin_levels(float(low), float(high))

    def _mirror(self, name: str) -> None:
        """Show the view state's ``name`` without writing it back (signals blocked)."""
        view = self._state.view
        widgets = (self.speed, self.metric, self.window, self.auto_levels)
        blockers = [QSignalBlocker(w) for w in (*widgets, self.level_low, self.level_high)]
        if name == "speed":
            self._select(self.speed, SPEEDS, view.speed)
        elif name == "metric":
            self.metric.setCurrentIndex(STAT_NAMES.index(view.metric))
            # A share is always drawn from 0 to 100 %: no decades to pin.
            for widget in (self.auto_levels, self.level_low, self.level_high):
                widget.setEnabled(view.metric not in FRACTION_STATS)
        elif name == "window":
            self._select(self.window, WINDOWS, view.window)
        elif name == "auto_levels":
            self.auto_levels.setChecked(view.auto_levels)
        elif name == "levels":
            self.level_low.setValue(round(view.levels[0]))
            self.level_high.setValue(round(view.levels[1]))
        for blocker in blockers:
            blocker.unblock()

    @staticmethod
    def _select(combo: QComboBox, choices: tuple[tuple[str, Any], ...], value: object) -> None:
        values = [v for _, v in choices]
        if value in values:
            combo.setCurrentIndex(values.index(value))

    def _action(self, text: str, key: str, tip: str, slot: Callable[[], object]) -> QAction:
        action = window_action(self._window, text, slot, [key], tip)  # works with the bar hidden
        self.bar.addAction(action)
        return action

    def _combo(self, label: str, items: list[str], tip: str) -> QComboBox:
        caption = QLabel(f" {label}: ", self.bar)
        combo = QComboBox(self.bar)
        combo.addItems(items)
        combo.setToolTip(tip)
        combo.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keep arrow keys for the Step shortcut
        self.bar.addWidget(caption)
        self.bar.addWidget(combo)
        return combo

    def set_playing(self, playing: bool) -> None:
        self.play_action.setText("Pause" if playing else "Play")
