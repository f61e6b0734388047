"""Lecture tools in the real window: lesson scenes, presentation mode and themes (offscreen)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from qt_helpers import config_of, error_box, error_text, history, open_window, state

from gradsim.app.lecture.presentation import presentation_scale
from gradsim.app.main_window import MainWindow
from gradsim.app.views.themes import DARK, LIGHT
from gradsim.engine.lessons import Lesson, load_lesson, load_lesson_file
from gradsim.engine.presets import get_preset

pytestmark = pytest.mark.slow  # lessons driven through the real window


@pytest.fixture
def window(qtbot):
    win = open_window(qtbot, preset=get_preset("relu-he"))
    yield win
    win.close()


def _small_lesson(tmp_path) -> Lesson:
    """Three quick single-run scenes: steps on entry, plain, and play."""
    path = tmp_path / "small.toml"
    path.write_text(
        'title = "Small"\n'
        '[[scenes]]\ntitle = "First"\ncaption = "Look at the first."\npreset = "relu-he"\n'
        "steps = 7\nset = { depth = 6, width = 16 }\n"
        '[[scenes]]\ntitle = "Second"\ncaption = "Now the second."\npreset = "tanh-xavier"\n'
        'metric = "activation_rms"\nset = { depth = 5, width = 16 }\n'
        '[[scenes]]\ntitle = "Third"\ncaption = "And play."\npreset = "relu-xavier"\n'
        "play = true\nset = { depth = 4, width = 16 }\n",
        encoding="utf-8",
    )
    return load_lesson_file(path)


def _shows(win: MainWindow, lesson: Lesson, index: int) -> bool:
    scene = lesson.scenes[index]
    return (
        config_of(win) == scene.config
        and win.view_state.view.metric == scene.metric
        and win.caption_bar.title_text() == scene.title
        and win.caption_bar.caption_text() == scene.caption
        and win.caption_bar.counter_text() == f"{index + 1} / {len(lesson.scenes)}"
    )


def test_lesson_keys_move_forward_and_back_with_captions(window, qtbot, tmp_path) -> None:
    lesson = _small_lesson(tmp_path)
    window.lecture.start_lesson(lesson)
    assert _shows(window, lesson, 0)
    # The first scene opens on 7 steps already trained, then pauses.
    qtbot.waitUntil(lambda: window.session.is_idle() and len(history(window)) == 7, timeout=10_000)
    assert state(window) == "paused"

    qtbot.keyClick(window, Qt.Key.Key_PageDown)  # what a presentation clicker sends
    assert _shows(window, lesson, 1)
    qtbot.keyClick(window, Qt.Key.Key_N)
    assert _shows(window, lesson, 2)
    qtbot.waitUntil(lambda: state(window) == "running", timeout=10_000)  # "play = true"
    qtbot.keyClick(window, Qt.Key.Key_N)  # past the end: stays on the last scene
    assert _shows(window, lesson, 2)
    qtbot.keyClick(window, Qt.Key.Key_PageUp)
    assert _shows(window, lesson, 1)
    qtbot.waitUntil(lambda: window.session.is_idle() and state(window) == "paused", timeout=10_000)
    qtbot.keyClick(window, Qt.Key.Key_P)
    assert _shows(window, lesson, 0)
    qtbot.keyClick(window, Qt.Key.Key_P)  # before the start: stays on the first scene
    assert _shows(window, lesson, 0)


def test_caption_bar_buttons_and_leaving_the_lesson(window, qtbot, tmp_path) -> None:
    lesson = _small_lesson(tmp_path)
    window.lecture.start_lesson(lesson, 1)
    assert _shows(window, lesson, 1)
    window.caption_bar.nextRequested.emit()
    assert _shows(window, lesson, 2)
    window.lecture.leave_lesson()
    assert window.caption_bar.counter_text() == ""
    assert config_of(window) == lesson.scenes[2].config  # the run stays
    qtbot.keyClick(window, Qt.Key.Key_PageUp)  # no lesson: the key does nothing
    assert config_of(window) == lesson.scenes[2].config


def test_bundled_lesson_opens_from_the_menu(window) -> None:
    lesson = load_lesson("vanishing-exploding")
    window.menus.lesson_actions[lesson.id].trigger()
    assert window.lessons.lesson == lesson
    assert window.caption_bar.title_text() == lesson.scenes[0].title
    assert window.caption_bar.counter_text() == f"1 / {len(lesson.scenes)}"


def test_malformed_lesson_file_is_explained_and_the_run_is_kept(window, tmp_path) -> None:
    before = config_of(window)
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'title = "Bad"\n[[scenes]]\ntitle = "Fine"\ncaption = "ok"\npreset = "relu-he"\n'
        '[[scenes]]\ntitle = "Broken"\ncaption = "no"\npreset = "relu-he"\nmetric = "nope"\n',
        encoding="utf-8",
    )
    assert not window.lecture.open_lesson_file(bad)
    box = error_box(window)
    assert box is not None and box.isVisible()
    assert "scene 2" in box.text() and "Broken" in box.text() and "metric" in box.text()
    assert config_of(window) == before and not window.lessons.active
    box.close()
    assert not window.lecture.open_lesson_file(tmp_path / "missing.toml")
    assert "missing.toml" in error_text(window)
    deep = tmp_path / "deep.toml"  # 500 levels: a RecursionError in the parser, once
    deep.write_text("a = " + "[" * 500 + "]" * 500 + "\n", encoding="utf-8")
    assert not window.lecture.open_lesson_file(deep)
    assert "nested too deeply" in error_text(window) and not window.lessons.active


def test_f5_enters_presentation_mode_and_esc_leaves(window, qtbot) -> None:
    assert window.controls_dock.isVisible() and window.toolbar.bar.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_F5)
    assert window.presentation.active and window.isFullScreen()
    for chrome in (window.controls_dock, window.toolbar.bar, window.statusBar(), window.menuBar()):
        assert not chrome.isVisible()
    assert window.look().projector and window.look().background == "#000000"
    # The transport keys still work with the toolbar hidden.
    window.view_state.set_speed(float("inf"))
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: state(window) == "running", timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: state(window) == "paused", timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.presentation.active and not window.isFullScreen()
    assert window.controls_dock.isVisible() and window.toolbar.bar.isVisible()
    assert window.look() == DARK
    qtbot.keyClick(window, Qt.Key.Key_F11)  # the other usual full-screen key
    assert window.presentation.active
    qtbot.keyClick(window, Qt.Key.Key_F11)
    assert not window.presentation.active


def test_presentation_fonts_are_readable_at_1080p(window) -> None:
    window.resize(1920, 1080)
    window.presentation.set_active(True, fullscreen=False)
    assert window.caption_bar.caption_pixel_size() >= 24
    axis = window.single.heatmap._plot.getAxis("bottom")
    tick_px = axis.style["tickFont"].pointSizeF() * 96 / 72
    assert tick_px >= 24
    assert window.single.profile_plot.theme.line_width >= 2 * DARK.line_width  # thicker lines
    window.presentation.set_active(False)
    assert window.caption_bar.caption_pixel_size() < 24
    assert presentation_scale(540) == 1.0
    assert presentation_scale(2160) == 2 * presentation_scale(1080)


def test_light_and_dark_themes_recolour_the_plots(window) -> None:
    def background(widget) -> str:
        return QColor(widget.backgroundBrush().color()).name()

    window.view_state.set_theme("light")
    assert window.look() == LIGHT
    assert background(window.single.heatmap) == LIGHT.background
    assert background(window.single.loss_plot) == LIGHT.background
    assert window.menus.theme_actions["light"].isChecked()
    window.view_state.set_theme("dark")
    assert background(window.single.profile_plot) == DARK.background
    assert window.menus.theme_actions["dark"].isChecked()


def test_theme_is_remembered(qtbot) -> None:
    first = MainWindow(preset=get_preset("relu-he"))
    qtbot.addWidget(first)
    first.view_state.set_theme("light")
    first.close()
    second = MainWindow()
    qtbot.addWidget(second)
    assert second.look() == LIGHT
    second.close()
