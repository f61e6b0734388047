"""The main window end to end: real worker thread, real plots, offscreen."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from qt_helpers import config_of, history, latest, open_window, run_gradsim, state

from gradsim.app.main_window import MainWindow
from gradsim.app.model.session import RunSpec
from gradsim.app.model.worker import running_threads
from gradsim.engine.presets import get_preset, list_presets
from gradsim.engine.simulation import Simulation
from gradsim.engine.stats import STAT_NAMES

pytestmark = pytest.mark.slow  # the real window and its worker, a render soak, the self-test


@pytest.fixture
def window(qtbot):
    win = open_window(qtbot, preset=list_presets()[0])
    yield win
    win.close()


def _wait_steps(qtbot, win: MainWindow, steps: int, timeout: int = 15_000) -> None:
    qtbot.waitUntil(lambda: len(history(win)) >= steps, timeout=timeout)


def test_opens_on_the_default_preset(window) -> None:
    first = list_presets()[0]
    assert first.id == "seed-exploding"
    assert config_of(window) == first.config
    assert first.title in window.windowTitle()
    assert window.view_state.view.metric == "backprop_grad_rms"
    assert state(window) == "paused" and len(history(window)) == 0


def test_play_records_exactly_what_the_engine_records(window, qtbot) -> None:
    window.show_preset(get_preset("tanh-xavier"))
    qtbot.waitUntil(lambda: config_of(window).activation == "tanh" and latest(window)
                    and latest(window).config == config_of(window), timeout=5000)
    window.view_state.set_speed(float("inf"))
    qtbot.keyClick(window, Qt.Key.Key_Space)
    _wait_steps(qtbot, window, 25)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: state(window) == "paused", timeout=5000)
    window.draw()
    recorded = history(window).arrays()
    reference = Simulation(config_of(window))
    reference.run(len(recorded["step"]))
    expected = reference.recorder.arrays()
    for name in ("step", "loss", *STAT_NAMES):
        np.testing.assert_array_equal(recorded[name], expected[name])


def test_step_key_advances_exactly_one_step(window, qtbot) -> None:
    qtbot.keyClick(window, Qt.Key.Key_Right)
    _wait_steps(qtbot, window, 1)
    qtbot.keyClick(window, Qt.Key.Key_Right)
    _wait_steps(qtbot, window, 2)
    qtbot.wait(100)
    window.draw()
    assert history(window).steps.tolist() == [0, 1]
    assert state(window) in ("paused", "diverged")


def test_reset_key_starts_again(window, qtbot) -> None:
    window.show_preset(get_preset("relu-he"))
    qtbot.keyClick(window, Qt.Key.Key_Right)
    _wait_steps(qtbot, window, 1)
    qtbot.keyClick(window, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: len(history(window)) == 0 and latest(window) is not None
                    and latest(window).step_count == 0, timeout=5000)


def test_changing_depth_restarts_with_the_new_layers(window, qtbot) -> None:
    window.show_preset(get_preset("relu-he"))
    window.controls.widget_for("depth").setValue(7)
    window.controls.widget_for("depth").editingFinished.emit()
    qtbot.waitUntil(lambda: config_of(window).depth == 7, timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: len(history(window)) == 1 and history(window).depth == 7, timeout=5000)


def test_live_setting_keeps_the_run(window, qtbot) -> None:
    window.show_preset(get_preset("relu-he"))
    qtbot.keyClick(window, Qt.Key.Key_Right)
    _wait_steps(qtbot, window, 1)
    window.controls.widget_for("learning_rate").setValue(0.05)
    window.controls.widget_for("learning_rate").editingFinished.emit()
    qtbot.waitUntil(
        lambda: latest(window) is not None and latest(window).config.learning_rate == 0.05,
        timeout=5000,
    )
    assert len(history(window)) == 1  # not restarted


def test_exploding_preset_shows_the_divergence_banner(window, qtbot) -> None:
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: state(window) == "diverged", timeout=10_000)
    window.draw()
    assert window.banner.isVisible()
    assert "Diverged at step 1" in window.banner.text()
    assert "overflowed" in window.banner.text()
    assert history(window).steps.tolist() == [0, 1]


def test_closing_stops_the_worker(qtbot) -> None:
    win = MainWindow(remember=False)
    qtbot.addWidget(win)
    win.view_state.set_speed(float("inf"))
    win.show()
    qtbot.keyClick(win, Qt.Key.Key_Space)
    qtbot.wait(100)
    win.close()
    assert running_threads() == []


def test_settings_remember_the_last_configuration(qtbot) -> None:
    first = MainWindow()
    qtbot.addWidget(first)
    first.show_preset(get_preset("relu-xavier"))
    first.close()
    second = MainWindow()
    qtbot.addWidget(second)
    assert config_of(second) == get_preset("relu-xavier").config
    second.close()


def test_render_soak(window, qtbot) -> None:
    """Thousands of real heatmap frames (PySide6 6.12's refcount bug crashed after ~1,100)."""
    rng = np.random.default_rng(0)
    heatmap = window.single.heatmap
    steps = np.arange(300)
    for frame in range(3000):
        values = 10.0 ** rng.normal(0, 5, size=(300, 100))
        heatmap.set_data(steps + frame, values)
        heatmap.repaint()
    assert heatmap.displayed_rgba().size > 0



def test_screenshot_command_writes_a_png_of_the_requested_size(tmp_path) -> None:
    out = tmp_path / "shot.png"
    result = run_gradsim("screenshot", "--preset", "seed-vanishing", "--steps", "5",
                      "--size", "1024x640", "--out", str(out))
    assert result.returncode == 0, result.stderr
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1024, 640)
    pixels = np.frombuffer(image.convertToFormat(QImage.Format.Format_RGB32).constBits(),
                           np.uint8).reshape(640, 1024, 4)
    assert pixels.std() > 20  # not blank
    assert len(np.unique(pixels.reshape(-1, 4)[::97], axis=0)) > 50


def test_screenshot_bad_input_exits_2(tmp_path) -> None:
    result = run_gradsim("screenshot", "--size", "12x", "--out", str(tmp_path / "a.png"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    result = run_gradsim("screenshot", "--out", str(tmp_path / "a.jpg"))
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1


def test_self_test_passes() -> None:
    result = run_gradsim("--self-test")
    assert result.returncode == 0, result.stderr
    assert "gradsim self-test ok" in result.stdout


def test_zero_and_overflow_cells_use_the_legend_colours(window, qtbot) -> None:
    from gradsim.app.views.colors import NONFINITE_RGBA, ZERO_RGBA
    from gradsim.engine.config import Config

    # Dead ReLUs (bias -100): no gradient gets below the output layer, exactly 0.
    dead = Config(depth=5, width=8, input_dim=4, output_dim=2, activation="relu",
                  bias_init=-100.0)
    window.show_runs([RunSpec("mine", dead)])
    qtbot.waitUntil(
        lambda: latest(window) is not None and latest(window).config == dead, timeout=5000
    )
    qtbot.keyClick(window, Qt.Key.Key_Right)
    _wait_steps(qtbot, window, 1)
    window.draw()
    rgba = window.single.heatmap.displayed_rgba()  # (layers, columns, 4), row 0 = layer 1
    assert np.all(rgba[:4, -1] == ZERO_RGBA)
    assert not np.all(rgba[4, -1] == ZERO_RGBA)

    window.show_preset(get_preset("seed-exploding"))
    qtbot.waitUntil(
        lambda: latest(window) is not None and latest(window).config.depth == 100, timeout=5000
    )
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: state(window) == "diverged", timeout=10_000)
    window.draw()
    rgba = window.single.heatmap.displayed_rgba()
    assert np.all(rgba[:, -1] == NONFINITE_RGBA)  # step 1: every layer overflowed
    assert not np.any(np.all(rgba[:, 0] == NONFINITE_RGBA, axis=-1))  # step 0 still finite


def test_colour_range_can_be_pinned_and_released(window, qtbot) -> None:
    window.show_preset(get_preset("seed-vanishing"))
    qtbot.keyClick(window, Qt.Key.Key_Right)
    _wait_steps(qtbot, window, 1)
    window.draw()
    window.toolbar.level_low.setValue(-40)
    window.toolbar.level_high.setValue(10)
    window.draw()  # the view takes the pinned range from the view state when it draws
    assert window.single.heatmap.levels() == (-40.0, 10.0)
    assert not window.toolbar.auto_levels.isChecked()
    window.toolbar.auto_levels.setChecked(True)
    window.draw()
    assert window.view_state.view.auto_levels and window.single.heatmap.levels() != (-40, 10)
