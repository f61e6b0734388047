"""Replay: any recorded step shown exactly in every view, chosen by slider, heatmap click or
keys, and back to live; and a comparison's one layer profile with a line per run."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from qt_helpers import history, open_window

from gradsim.app.main_window import MainWindow
from gradsim.engine.presets import get_preset

pytestmark = pytest.mark.slow  # replay in the real window with its worker


@pytest.fixture
def window(qtbot):
    win = open_window(qtbot, preset=get_preset("tanh-xavier"))
    win.session.run_until(40)
    settle(qtbot, win)
    yield win
    win.close()


def settle(qtbot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: (window.draw(), window.session.is_idle())[1], timeout=30_000)
    window.draw()


def curve_y(curve) -> np.ndarray:
    return np.asarray(curve.getOriginalDataset()[1], dtype=float)


def test_a_replayed_step_shows_its_stored_numbers_exactly_in_every_view(window, qtbot) -> None:
    window.view_state.show_step(17)
    window.draw()
    rec = history(window)
    index = int(np.flatnonzero(rec.steps == 17)[0])
    profile = window.single.profile_plot
    np.testing.assert_array_equal(
        curve_y(profile.measured_curve), rec.row("backprop_grad_rms", index)
    )
    assert profile.title() == "step 17"
    assert window.single.heatmap._marker.isVisible() and window.single.heatmap._marker.value() == 17
    grad = rec.row("backprop_grad_rms", index)
    assert window.single.readout.measured.startswith("measured at step 17: at layer 1 it is ≈ ")
    assert f"{grad[0] / grad[-1]:.2g}"[:3] in window.single.readout.measured
    assert "replaying step 17" in window.caption_bar.transport_text()
    assert window.replay.label.text() == "step 17 of 39" and not window.replay.live.isChecked()

    qtbot.keyClick(window, Qt.Key.Key_End)  # back to live: the newest step, no mark
    window.draw()
    assert window.view_state.view.shown_step is None and profile.title() == "step 39"
    assert not window.single.heatmap._marker.isVisible()
    assert window.single.readout.measured == "" and window.replay.live.isChecked()


def test_keys_step_through_the_recorded_steps(window, qtbot) -> None:
    qtbot.keyClick(window, Qt.Key.Key_Home)
    assert window.view_state.view.shown_step == 0
    qtbot.keyClick(window, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    assert window.view_state.view.shown_step == 1
    qtbot.keyClick(window, Qt.Key.Key_Left, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window, Qt.Key.Key_Left, Qt.KeyboardModifier.ControlModifier)
    assert window.view_state.view.shown_step == 0  # not before the first step
    window.view_state.show_step(38)
    qtbot.keyClick(window, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    assert window.view_state.view.shown_step == 39
    qtbot.keyClick(window, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    assert window.view_state.view.shown_step is None  # past the newest: live again
    assert len(history(window)) == 40  # replay keys never train


def test_clicking_a_heatmap_column_replays_its_step_and_the_slider_follows(window, qtbot) -> None:
    heatmap = window.single.heatmap
    qtbot.waitExposed(window)
    box = heatmap.getItem(1, 0).getViewBox()
    rect = box.sceneBoundingRect()
    x = rect.left() + rect.width() * (25.5 / 40)  # column of step 25 (steps 0..39 fill it)
    point = heatmap.mapFromScene(x, rect.center().y())
    click = QPoint(point.x(), point.y())
    qtbot.mouseClick(heatmap.viewport(), Qt.MouseButton.LeftButton, pos=click)
    window.draw()
    shown = window.view_state.view.shown_step
    assert shown is not None and abs(shown - 25) <= 1
    assert window.single.profile_plot.title() == f"step {shown}"
    assert window.replay.slider.value() == shown
    window.replay.slider.setValue(10)  # dragging the slider replays too
    window.draw()
    assert window.view_state.view.shown_step == 10
    assert window.single.profile_plot.title() == "step 10"


def test_new_runs_follow_the_newest_step_again(window, qtbot) -> None:
    window.view_state.show_step(5)
    window.show_preset(get_preset("relu-he"))
    settle(qtbot, window)
    assert window.view_state.view.shown_step is None


def test_a_comparison_profile_has_one_line_per_run_with_its_values(window, qtbot) -> None:
    base = get_preset("seed-vanishing").config.replace(depth=20)
    runs = [(f"W = {g:g}I", base.replace(init_gain=g)) for g in (0.5, 1.0, 2.0)]
    window.lecture.start_comparison(runs, "backprop_grad_rms")
    window.session.run_until(1)
    settle(qtbot, window)
    plot = window.compare_view.profile_plot
    assert len(plot.curves) == 3
    for curve, rec in zip(plot.curves, window.session.histories, strict=True):
        np.testing.assert_array_equal(curve_y(curve), rec.row("backprop_grad_rms", 0))
    slopes = [curve_y(c)[0] / curve_y(c)[-1] for c in plot.curves]
    assert slopes[0] == pytest.approx(0.5**19) and slopes[1] == pytest.approx(1.0)
    assert slopes[2] == pytest.approx(2.0**19)
    assert plot.title() == "step 0" and plot.legend_entries()[0] == "W = 0.5I (step 0)"

    window.view_state.set_relative_profile(True)
    window.draw()
    for curve, rec in zip(plot.curves, window.session.histories, strict=True):
        grad = rec.row("backprop_grad_rms", 0)
        np.testing.assert_allclose(curve_y(curve), grad / grad[-1], rtol=1e-15)
    assert "relative to the last layer" in plot.title()
    assert plot.plotItem.getAxis("left").labelText.endswith("÷ last layer's")


def test_the_distributions_panel_follows_replay_the_metric_and_the_hovered_layer(
    window, qtbot
) -> None:
    from PySide6.QtCore import QPointF

    qtbot.keyClick(window, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    window.draw()
    single = window.single
    view = single.distributions_view
    assert window.view_state.view.panel == "distributions"
    assert single.panel == "distributions" and view.isVisible()
    measured = window.session.distributions[0]
    assert view.drawn_step() == int(measured.steps[-1])  # live: the newest measurement
    window.view_state.show_step(17)
    window.draw()
    stored = measured.at(17)
    assert stored is not None and view.drawn_step() == stored.step <= 17
    np.testing.assert_array_equal(
        view.panel().counts, stored.histograms[view.kind].counts[: view.panel().rows]
    )
    # The kind follows the heatmap's metric (a scene's choice), when it has histograms.
    window.view_state.set_metric("weight_grad_norm")
    window.draw()
    assert view.kind == "weight_grad"
    # Resting the mouse on layer 5 of the heatmap, then layer 9 of the profile, picks them.
    heatmap = single.heatmap
    heatmap._on_mouse_moved((heatmap._vb.mapViewToScene(QPointF(17, 5)),))
    assert view.layer == 4
    qtbot.keyClick(window, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)  # the profile
    assert window.view_state.view.panel == "profile"
    window.draw()
    profile = single.profile_plot
    y = float(np.mean(profile.plotItem.vb.viewRange()[1]))
    profile._on_mouse_moved((profile.plotItem.vb.mapViewToScene(QPointF(9.2, y)),))
    assert view.layer == 8
    qtbot.keyClick(window, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    window.draw()
    assert "layer 9 over time" in view.texts()[2]
