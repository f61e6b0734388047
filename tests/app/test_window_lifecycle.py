"""The window's state across what a class sees: closing and reopening, Space during a scene's
opening, R, one step counter everywhere, one worker process, a worker that dies, and Ctrl+C
or SIGTERM in the terminal."""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from qt_helpers import history, open_window, state

from gradsim.app.main_window import MainWindow
from gradsim.app.model.view_state import DEFAULT_LEVELS
from gradsim.app.model.worker import live_processes
from gradsim.app.views.plots import EMPTY_STEP_RANGE
from gradsim.engine.lessons import load_lesson
from gradsim.engine.presets import get_preset

pytestmark = pytest.mark.slow  # real windows, workers and signals to whole processes

LESSON = load_lesson("vanishing-exploding")


def scene_index(title: str) -> int:
    return next(i for i, scene in enumerate(LESSON.scenes) if scene.title == title)


def settle(qtbot, window: MainWindow, timeout: int = 20_000) -> None:
    qtbot.waitUntil(lambda: (window.draw(), window.session.is_idle())[1], timeout=timeout)
    window.draw()
    window.refresh_status()


@pytest.fixture
def window(qtbot):
    win = open_window(qtbot, preset=get_preset("seed-exploding"))
    yield win
    win.close()


def test_closing_during_a_comparison_keeps_the_settings_dock_for_next_time(qtbot) -> None:
    first = MainWindow(preset=get_preset("relu-he"))
    qtbot.addWidget(first)
    first.show()
    first.lecture.start_lesson(LESSON, scene_index("Backprop multiplies one factor per layer"))
    assert first.session.count == 3 and not first.controls_dock.isVisible()
    first.close()
    second = MainWindow()
    qtbot.addWidget(second)
    second.show()
    try:
        # Reopened on the lesson scene it was closed on (a comparison: no dock, by mode) ...
        assert second.lessons.index == scene_index("Backprop multiplies one factor per layer")
        second.lecture.leave_lesson()
        second.lecture.stop_comparison()
        # ... and the dock is back with a single run, and the View menu can toggle it.
        assert second.controls_dock.isVisible()
        panel = second.controls_dock.toggleViewAction()
        assert panel in second.menus.view.actions() and panel.isEnabled()
        panel.trigger()
        assert not second.controls_dock.isVisible()
        panel.trigger()
        assert second.controls_dock.isVisible()
    finally:
        second.close()


def test_reopening_after_a_preset_names_the_preset(qtbot) -> None:
    preset = get_preset("seed-vanishing")
    first = MainWindow(preset=preset)
    qtbot.addWidget(first)
    first.view_state.set_metric("activation_rms")
    first.close()
    second = MainWindow()
    qtbot.addWidget(second)
    try:
        assert second.caption_bar.title_text() == preset.title
        assert second.session.specs[0].preset_id == preset.id
        assert second.view_state.view.metric == "activation_rms"
    finally:
        second.close()


def test_space_during_the_opening_steps_finishes_the_scene(window, qtbot) -> None:
    index = scene_index("Residual connections")
    scene = LESSON.scenes[index]
    assert scene.steps == 100 and not scene.play
    window.lecture.start_lesson(LESSON, index)
    qtbot.keyClick(window, Qt.Key.Key_Space)  # at once: the opening has only just begun
    assert "preparing" in window.caption_bar.transport_text()
    assert "then plays" in window.caption_bar.transport_text()
    qtbot.waitUntil(lambda: window.session.opening is None, timeout=20_000)
    window.draw()
    assert min(s.step_count for s in window.session.snapshots) >= scene.steps  # not cut short
    # Space asked for "play" during the opening: it plays now, and says so.
    qtbot.waitUntil(lambda: state(window) == "running", timeout=5000)
    assert "playing" in window.caption_bar.transport_text()
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: state(window) == "paused", timeout=5000)
    assert "paused" in window.caption_bar.transport_text()
    window.presentation.set_active(True, fullscreen=False)
    assert window.caption_bar.isVisible()  # the indicator stays in presentation mode


def test_reset_leaves_empty_plots_with_fresh_axes(window, qtbot) -> None:
    window.session.run_until(5)  # W = 2I: diverges at step 1; colours up to ~10^60
    settle(qtbot, window)
    heatmap, loss = window.single.heatmap, window.single.loss_plot
    assert heatmap.levels()[1] > 20 and history(window).diverged_at == 1
    qtbot.keyClick(window, Qt.Key.Key_R)
    settle(qtbot, window)
    assert len(history(window)) == 0 and not window.banner.isVisible()
    assert heatmap.levels() == DEFAULT_LEVELS and window.view_state.view.levels == DEFAULT_LEVELS
    (x0, x1), (y0, y1) = heatmap._vb.viewRange()
    assert x0 == pytest.approx(-0.5) and x1 == pytest.approx(499.5)  # the window's span
    assert (y0, y1) == pytest.approx((0.5, 100.5))  # every layer of the new run
    (lx0, lx1), _ = loss.plotItem.vb.viewRange()
    assert lx0 <= 0 and lx1 <= EMPTY_STEP_RANGE[1] * 1.1  # not the old run's steps
    assert window.single.profile_plot.measured_curve.xData is None or not len(
        window.single.profile_plot.measured_curve.xData
    )
    # Going to a scene starts its colours afresh too.
    window.lecture.start_lesson(LESSON, scene_index("Sigmoid saturates"))
    settle(qtbot, window)
    assert heatmap.levels()[1] < 10


def test_one_step_counter_everywhere(window, qtbot) -> None:
    for _ in range(2):
        qtbot.keyClick(window, Qt.Key.Key_Right)
    settle(qtbot, window)  # W = 2I: step 0 finite, step 1 overflowed (diverged)
    newest = window.session.newest_step(0)
    assert newest == 1 and history(window).steps.tolist() == [0, 1]
    assert window.status.step.text() == f"step {newest}"
    assert window.single.heatmap.displayed_steps()[-1] == newest
    profile = window.single.profile_plot
    # The profile draws step 0 (step 1 has no finite value) and says which step it stands for.
    assert profile.title().endswith("step 0")
    assert f"step {newest}: every layer inf/nan" in profile.legend_entries()

    window.show_preset(get_preset("relu-he"))
    for _ in range(3):
        qtbot.keyClick(window, Qt.Key.Key_Right)
    settle(qtbot, window)
    assert window.status.step.text() == "step 2"
    assert window.single.heatmap.displayed_steps()[-1] == 2
    assert re.search(r"step 2$", window.single.profile_plot.title())

    window.lecture.start_comparison(
        [("relu-he", get_preset("relu-he").config), ("xavier", get_preset("relu-xavier").config)]
    )
    qtbot.keyClick(window, Qt.Key.Key_Right)
    settle(qtbot, window)
    view = window.compare_view
    for title, heatmap in zip(view.titles, view.heatmaps, strict=True):
        assert "step&nbsp;0" in title.text() and heatmap.displayed_steps()[-1] == 0
    assert window.status.step.text() == "step 0"


def test_a_classification_run_shows_its_accuracy_and_a_regression_run_none(window, qtbot) -> None:
    spirals = get_preset("relu-he").config.replace(
        dataset="spirals", loss="cross_entropy", input_dim=2, output_dim=3, depth=4
    )
    window.lecture.start_comparison([("spirals", spirals), ("spirals too", spirals)])
    for _ in range(3):
        qtbot.keyClick(window, Qt.Key.Key_Right)
    settle(qtbot, window)
    accuracy = window.session.histories[0].accuracy[-1]
    assert 0.0 <= accuracy <= 1.0
    assert f"accuracy&nbsp;{100 * accuracy:.0f}&nbsp;%" in window.compare_view.titles[0].text()

    window.show_preset(dataclasses.replace(get_preset("relu-he"), config=spirals))
    qtbot.keyClick(window, Qt.Key.Key_Right)
    settle(qtbot, window)
    accuracy = window.session.histories[0].accuracy[-1]
    assert window.status.accuracy.text() == f"accuracy {100 * accuracy:.0f} %"

    window.show_preset(get_preset("relu-he"))  # regression: no accuracy to show
    qtbot.keyClick(window, Qt.Key.Key_Right)
    settle(qtbot, window)
    assert window.status.loss.text().startswith("loss ")
    assert window.status.accuracy.text() == ""


def test_one_worker_process_after_any_sequence_of_comparisons(window, qtbot) -> None:
    runs = [(p, get_preset(p).config) for p in ("relu-he", "relu-xavier", "tanh-xavier")]
    window.lecture.start_comparison(runs[:2])
    settle(qtbot, window)
    window.lecture.start_lesson(LESSON, scene_index("Backprop multiplies one factor per layer"))
    qtbot.keyClick(window, Qt.Key.Key_PageDown)
    window.lecture.start_comparison(runs)
    window.lecture.stop_comparison()
    window.lecture.start_comparison(runs[1:])
    settle(qtbot, window)
    assert len(live_processes()) == 1


def test_leaving_a_comparison_scene_at_once_is_clean(window, qtbot) -> None:
    """The comparison view's colour-bar alignment was queued on a timer that outlived it
    (RuntimeError: Internal C++ object (HeatmapView) already deleted)."""
    index = scene_index("Backprop multiplies one factor per layer")
    for _ in range(3):
        window.lecture.start_lesson(LESSON, index)
        window.resize(1300, 820)  # resize and show events queue an alignment
        qtbot.keyClick(window, Qt.Key.Key_PageUp)  # gone before it runs
        qtbot.wait(30)  # pytest-qt fails the test on any exception raised in the event loop
    assert window.session.count == 1


def test_a_killed_worker_is_shown_and_r_then_space_trains_again(window, qtbot) -> None:
    window.show_preset(get_preset("relu-he"))
    qtbot.keyClick(window, Qt.Key.Key_Right)
    settle(qtbot, window)
    (process,) = live_processes()
    os.kill(process.pid, signal.SIGKILL)
    start = time.monotonic()
    qtbot.waitUntil(window.banner.isVisible, timeout=5000)
    assert time.monotonic() - start < 1.0
    assert "killed (SIGKILL)" in window.banner.text() and "memory" in window.banner.text()
    assert state(window) == "stopped" and "R starts again" in window.caption_bar.transport_text()
    qtbot.keyClick(window, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: not window.banner.isVisible(), timeout=5000)
    window.view_state.set_speed(float("inf"))
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: len(history(window)) >= 20, timeout=10_000)
    assert state(window) == "running"


# -- the terminal: Ctrl+C and SIGTERM --------------------------------------------------------------
def _app_env(settings: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.startswith(("HOME", "PATH", "XDG"))}
    env.update(QT_QPA_PLATFORM="offscreen", GRADSIM_SETTINGS_DIR=str(settings))
    return env


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(child) for child in text]
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_or_sigterm_closes_the_app_and_saves_its_settings(tmp_path, qtbot, signum) -> None:
    app = subprocess.Popen(
        [sys.executable, "-m", "gradsim", "--preset", "seed-vanishing"],
        env=_app_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not _children(app.pid):  # the worker starts just after the first paint
            assert app.poll() is None, app.communicate()
            assert time.monotonic() < deadline, "the app never started its worker"
            time.sleep(0.05)
        time.sleep(0.3)
        # As a terminal does: the signal reaches the whole process group, worker included.
        os.killpg(app.pid, signum)
        start = time.monotonic()
        code = app.wait(timeout=10)
        elapsed = time.monotonic() - start
    finally:
        if app.poll() is None:
            app.kill()
    _, err = app.communicate()
    assert code == 0 and elapsed < 1.0, (code, elapsed, err)
    assert "Traceback" not in err
    saved = (tmp_path / "gradsim.ini").read_text()
    assert "seed-vanishing" in saved and "geometry" in saved
    # The next start opens on the preset, named as such.
    os.environ["GRADSIM_SETTINGS_DIR"] = str(tmp_path)  # conftest restores it
    again = MainWindow()
    qtbot.addWidget(again)
    try:
        assert again.caption_bar.title_text() == get_preset("seed-vanishing").title
    finally:
        again.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_on_a_long_screenshot_exits_130_at_once(tmp_path) -> None:
    out = tmp_path / "long.png"
    shot = subprocess.Popen(
        [sys.executable, "-m", "gradsim", "screenshot", "--preset", "tanh-xavier",
         "--steps", "10000000", "--out", str(out)],
        env=_app_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not _children(shot.pid):
            assert shot.poll() is None, shot.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.5)  # training, somewhere in its ten million steps
        os.killpg(shot.pid, signal.SIGINT)
        start = time.monotonic()
        code = shot.wait(timeout=10)
        elapsed = time.monotonic() - start
    finally:
        if shot.poll() is None:
            shot.kill()
    _, err = shot.communicate()
    assert code == 130 and elapsed < 1.0, (code, elapsed, err)
    assert err.strip() == "gradsim: interrupted" and not out.exists()
    assert np.isfinite(elapsed)
