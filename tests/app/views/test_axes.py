"""Every axis prints the value at its tick, after every action that restyles or resets the
views (pyqtgraph once kept a stale SI-prefix scale: the loss axis read 10² at 0.1)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from qt_helpers import drawn_ticks, open_window, tick_number, wrong_ticks

from gradsim.engine.lessons import load_lesson
from gradsim.engine.presets import get_preset


def test_tick_labels_are_read_as_numbers() -> None:
    assert tick_number("2·10⁻³") == pytest.approx(2e-3)
    assert tick_number("10⁶⁰") == pytest.approx(1e60)
    assert tick_number("0.0005") == 0.0005 and tick_number("1,000") == 1000
    assert tick_number("≤ 0.5") == 0.5 and tick_number("step") is None


def settle(qtbot, window) -> None:
    qtbot.waitUntil(lambda: (window.draw(), window.session.is_idle())[1], timeout=20_000)
    window.draw()
    qtbot.wait(50)  # layouts and ranges after a restyle


def checked_axes(window) -> int:
    import pyqtgraph as pg
    from PySide6.QtWidgets import QGraphicsView

    return sum(
        1
        for view in window.findChildren(QGraphicsView)
        if view.isVisible()
        for item in view.scene().items()
        if isinstance(item, pg.AxisItem) and item.isVisible() and drawn_ticks(item)
    )


def test_every_axis_prints_its_values_after_every_restyle(qtbot) -> None:
    window = open_window(qtbot, preset=get_preset("tanh-xavier"))
    window.resize(1920, 1080)
    window.session.run_until(60)  # a loss of ~0.05, gradients of ~1e-3: sub-unit values
    settle(qtbot, window)
    lesson = load_lesson("vanishing-exploding")
    actions = {
        "trained": lambda: None,
        "F5 on": lambda: qtbot.keyClick(window, Qt.Key.Key_F5),
        "F5 off": lambda: qtbot.keyClick(window, Qt.Key.Key_F5),
        "F11 on": lambda: qtbot.keyClick(window, Qt.Key.Key_F11),
        "Esc": lambda: qtbot.keyClick(window, Qt.Key.Key_Escape),
        "light theme": lambda: window.view_state.set_theme("light"),
        "dark theme": lambda: window.view_state.set_theme("dark"),
        "metric": lambda: window.view_state.set_metric("activation_rms"),
        "scene": lambda: window.lecture.start_lesson(lesson, 5),
        "comparison scene": lambda: window.lecture.start_lesson(lesson, 2),
        "presented comparison": lambda: qtbot.keyClick(window, Qt.Key.Key_F5),
    }
    try:
        for name, action in actions.items():
            action()
            settle(qtbot, window)
            assert checked_axes(window) >= 4, name
            assert wrong_ticks(window) == [], name
    finally:
        window.close()
