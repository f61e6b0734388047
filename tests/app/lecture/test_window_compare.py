"""Comparisons and theory readouts in the real window (offscreen, real worker processes)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from qt_helpers import config_of, latest, open_window, run_gradsim

from gradsim.app.main_window import MainWindow
from gradsim.app.model.session import RunSpec
from gradsim.engine.config import Config
from gradsim.engine.lessons import load_lesson
from gradsim.engine.presets import get_preset
from gradsim.engine.protocol import RunState
from gradsim.engine.theory import predict
from gradsim.engine.theory_summary import map_point, summarize

pytestmark = pytest.mark.slow  # comparisons in the real window, and their screenshots

SMALL = {"depth": 6, "width": 16, "input_dim": 4, "output_dim": 2, "batch_size": 16}


@pytest.fixture
def window(qtbot):
    win = open_window(qtbot, config=Config(activation="tanh", **SMALL))
    yield win
    win.close()


def _steps(win: MainWindow) -> list[int]:
    return [s.step_count for s in win.session.snapshots]


def test_compare_with_dialog_starts_a_lockstep_comparison(window, qtbot) -> None:
    window.menus.compare_with.trigger()
    dialog = window.lecture.compare_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.choose_variation("activation", ["relu", "sigmoid"])
    dialog.accept()
    assert window.session.count == 3 and not window.controls_dock.isVisible()
    view = window.compare_view
    assert window.view is view and window.stack.currentWidget() is view
    assert window.session.labels == [
        "activation = tanh", "activation = relu", "activation = sigmoid"
    ]
    assert "Comparison" in window.caption_bar.title_text()
    qtbot.waitUntil(window.session.is_idle, timeout=10_000)
    window.activateWindow()  # back from the dialog (a window manager would do it)
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    for _ in range(3):  # the window's keys drive every run at once
        qtbot.keyClick(window, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: window.session.is_idle() and _steps(window) == [3] * 3, timeout=10_000)
    window.draw()
    assert all(list(h.steps) == [0, 1, 2] for h in window.session.histories)
    levels = {hm.levels() for hm in view.heatmaps}
    assert len(levels) == 1 and levels == {view.levels()}  # one colour scale

    window.lecture.stop_comparison()
    assert window.session.count == 1 and window.controls_dock.isVisible()
    assert window.view is window.single and window.compare_view is None
    assert config_of(window).activation == "tanh"  # the single run is back as it was


def test_one_diverging_run_leaves_the_others_training(window, qtbot) -> None:
    window.lecture.start_comparison(
        [
            ("W = 2I", get_preset("seed-exploding").config),
            ("W = 0.5I", get_preset("seed-vanishing").config),
        ]
    )
    window.session.run_until(6)
    qtbot.waitUntil(window.session.is_idle, timeout=20_000)
    window.draw()
    assert window.session.states == [RunState.DIVERGED, RunState.PAUSED]
    steps = _steps(window)
    assert steps[1] == 6 and steps[0] < 6
    assert "diverged" in window.compare_view.titles[0].text()


def test_lesson_comparison_scene_and_back_to_a_single_scene(window, qtbot) -> None:
    lesson = load_lesson("vanishing-exploding")
    index = next(i for i, scene in enumerate(lesson.scenes) if len(scene.compare) == 3)
    scene = lesson.scenes[index]
    window.lecture.start_lesson(lesson, index)
    assert window.session.count == 3
    assert window.session.labels == [run.label for run in scene.compare]
    assert window.caption_bar.title_text() == scene.title
    qtbot.waitUntil(window.session.is_idle, timeout=20_000)
    window.draw()
    assert _steps(window) == [scene.steps] * 3  # the scene's opening steps, in lockstep
    assert len({hm.levels() for hm in window.compare_view.heatmaps}) == 1
    qtbot.keyClick(window, Qt.Key.Key_PageUp)  # the scene before is a single run
    assert window.session.count == 1
    assert config_of(window) == lesson.scenes[index - 1].config


def test_readout_and_map_follow_the_config(window, qtbot) -> None:
    config = get_preset("relu-xavier").config
    window.show_runs([RunSpec("mine", config)])
    qtbot.waitUntil(
        lambda: (
            latest(window) is not None
            and latest(window).config == config
            and latest(window).theory is not None
        ),
        timeout=10_000,
    )
    window.draw()
    m0 = latest(window).input_second_moment
    expected = summarize(config, predict(config, m0))
    shown = window.single.readout.summary
    assert shown.text == expected.text and shown.factor == pytest.approx(expected.factor)
    assert shown.compounded == pytest.approx(expected.compounded)
    assert "vanishing" in window.single.readout.text()
    window.menus.show_map.trigger()  # Ctrl+M: the map tab
    assert window.single.chaos_map.isVisible()
    assert window.single.chaos_map.marker_position() == pytest.approx(map_point(config))
    # Doubling the init gain moves the dot to twice the weight scale at once.
    window.controls.widget_for("init_gain").setValue(2.0)
    qtbot.waitUntil(lambda: config_of(window).init_gain == 2.0, timeout=5000)
    window.draw()
    sigma_w, sigma_b = window.single.chaos_map.marker_position()
    assert sigma_w == pytest.approx(2 * map_point(config)[0]) and sigma_b == 0.0
    shown = config_of(window)
    assert window.single.readout.summary.text == summarize(shown, predict(shown)).text


def test_screenshot_of_a_comparison_and_of_a_presented_scene(tmp_path) -> None:
    out = tmp_path / "compare.png"
    result = run_gradsim(
        "screenshot", "--compare", "relu-xavier", "--compare", "relu-he", "--steps", "5",
        "--size", "1280x720", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "relu-xavier vs relu-he" in result.stdout
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1280, 720)
    pixels = np.frombuffer(
        image.convertToFormat(QImage.Format.Format_RGB32).constBits(), np.uint8
    ).reshape(720, 1280, 4)
    assert pixels.std() > 20

    shot = tmp_path / "scene.png"
    result = run_gradsim(
        "screenshot", "--lesson", "vanishing-exploding", "--scene", "2", "--present",
        "--theme", "light", "--size", "960x540", "--steps", "200", "--out", str(shot),
    )  # fmt: skip  (scene 2 plays after its opening: --steps must still end in a picture)
    assert result.returncode == 0, result.stderr
    image = QImage(str(shot))
    assert (image.width(), image.height()) == (960, 540)
    assert QImage(str(shot)).pixelColor(2, 540 // 2).name() == "#ffffff"  # projector light


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--compare", "relu-he"], "2 to 4"),
        (["--compare", "relu-he", "--compare", "nope"], "nope"),
        (["--compare", "relu-he", "--compare", "relu-xavier", "--preset", "relu-he"], "presets"),
        (["--lesson", "vanishing-exploding", "--scene", "40"], "scenes"),
    ],
)
def test_screenshot_bad_comparison_or_scene_exits_2(tmp_path, args, message) -> None:
    result = run_gradsim("screenshot", *args, "--out", str(tmp_path / "x.png"))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr
