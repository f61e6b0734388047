"""Every scene of the bundled lesson, as the class sees it: in presentation mode at 1920x1080,
the caption's claim checked on what the views draw (colours, curves, axes), on entry and after
the key press the caption asks for. ``tests/engine/test_lessons.py`` checks the same claims
on the engine's numbers; this checks that the picture says them too."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from PySide6.QtCore import Qt
from qt_helpers import clipped_axis_labels, open_window, small_texts, state, wrong_ticks

from gradsim.app.main_window import MainWindow
from gradsim.app.views.heatmap import HeatmapView
from gradsim.engine.lessons import load_lesson
from gradsim.engine.presets import get_preset

pytestmark = pytest.mark.slow  # every scene presented, in the real window with its worker

LESSON = load_lesson("vanishing-exploding")
KEYS = {  # keys a caption may ask for
    "→": Qt.Key.Key_Right,
    "Space": Qt.Key.Key_Space,
    "Home": Qt.Key.Key_Home,
    "End": Qt.Key.Key_End,
}


@pytest.fixture
def window(qtbot):
    win = open_window(qtbot, preset=get_preset("relu-he"))
    win.resize(1920, 1080)
    win.presentation.set_active(True, fullscreen=False)
    yield win
    win.close()


def settle(qtbot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: (window.draw(), window.session.is_idle())[1], timeout=60_000)
    window.draw()
    qtbot.wait(30)  # layouts settle: axis lengths, label positions


def enter(qtbot, window: MainWindow, number: int) -> None:
    """Scene ``number`` (1-based) as the lesson opens it, with its own opening done."""
    window.lecture.start_lesson(LESSON, number - 1)
    scene = LESSON.scenes[number - 1]
    if scene.play:  # it plays on after its opening: wait for the opening only
        qtbot.waitUntil(
            lambda: (window.draw(), window.session.opening is None)[1]
            and min(len(h) for h in window.session.histories) >= scene.steps,
            timeout=60_000,
        )
        window.draw()
        qtbot.wait(30)
    else:
        settle(qtbot, window)
    assert window.caption_bar.caption_text() == scene.caption
    assert_legible(window)


def press(qtbot, window: MainWindow, key: str) -> None:
    """Press a key the caption names; it must be one that works in presentation mode."""
    asked = re.search(r"Press ([^.]*)", window.caption_bar.caption_text())
    assert asked is not None and key in asked.group(1)
    qtbot.keyClick(window, KEYS[key])


def assert_legible(window: MainWindow) -> None:
    assert wrong_ticks(window) == []
    assert clipped_axis_labels(window) == []
    assert small_texts(window) == []


def heatmaps(window: MainWindow) -> list[HeatmapView]:
    if window.session.count == 1:
        return [window.single.heatmap]
    return list(window.compare_view.heatmaps)


def column(heatmap: HeatmapView, step: int) -> np.ndarray:
    """The values a heatmap shows for ``step``, layer 1 first (what a hover reads out)."""
    layers = heatmap.displayed_rgba().shape[0]
    cells = [heatmap.value_at(step, layer) for layer in range(1, layers + 1)]
    assert all(cell is not None and cell[0] == step for cell in cells)
    return np.array([cell[2] for cell in cells])  # type: ignore[index]


def colours(heatmap: HeatmapView, step: int) -> np.ndarray:
    """RGB of the column drawn for ``step``, layer 1 first."""
    index = int(np.flatnonzero(heatmap.displayed_steps() == step)[0])
    return heatmap.displayed_rgba()[:, index, :3].astype(float)


def brightness(rgb: np.ndarray) -> np.ndarray:
    """Viridis runs dark to bright: brightness orders its colours like the values."""
    return rgb @ np.array([0.2126, 0.7152, 0.0722])


def distinct(rgb: np.ndarray) -> int:
    return len({tuple(c) for c in rgb.astype(int)})


def curve_y(curve) -> np.ndarray:
    """The data values of a plot curve (not its log10 display values)."""
    return np.asarray(curve.getOriginalDataset()[1], dtype=float)


def newest(window: MainWindow, run: int = 0) -> int:
    step = window.session.newest_step(run)
    assert step is not None
    return step


# ---------------------------------------------------------------------------------- the scenes
def test_every_caption_asks_only_for_keys_that_work_in_presentation_mode() -> None:
    for scene in LESSON.scenes:
        for sentence in re.findall(r"[Pp]ress ([^.]*)", scene.caption):
            named = re.findall(r"→|\b(?:Space|Home|End|R|N|P)\b", sentence)
            assert named and set(named) <= set(KEYS), (scene.title, sentence)


def test_scene_1_step_0_spreads_over_the_colours_before_and_after_the_overflow(
    window, qtbot
) -> None:
    enter(qtbot, window, 1)
    (heatmap,) = heatmaps(window)
    lo, hi = heatmap.levels()
    assert hi - lo >= 25  # decades: the straight line up of 2^99
    step0 = colours(heatmap, 0)
    assert distinct(step0) >= 50 and np.all(np.diff(brightness(step0)) >= 0)
    measured = curve_y(window.single.profile_plot.measured_curve)
    assert measured[-1] / measured[0] == pytest.approx(2.0**99, rel=1e-9)

    press(qtbot, window, "→")
    settle(qtbot, window)
    assert state(window) == "diverged" and window.banner.isVisible()
    lo, hi = heatmap.levels()
    assert hi < 40  # the scale stays on the finite step 0, not on the overflowing step 1
    step0 = colours(heatmap, 0)
    assert distinct(step0) >= 50 and np.all(np.diff(brightness(step0)) >= 0)
    assert heatmap.beyond()[1]  # what lies above is marked "≥", not stretched over
    assert_legible(window)


def test_scene_2_the_output_is_practically_zero_and_the_loss_never_comes_down(
    window, qtbot
) -> None:
    enter(qtbot, window, 2)
    assert state(window) == "running"  # "watch it jitter"
    window.view_state.set_speed(math.inf)  # "as fast as possible" (the speed menu)
    (heatmap,) = heatmaps(window)
    act = column(heatmap, 0)
    assert act[-1] / act[0] == pytest.approx(0.5**99, rel=1e-9)
    qtbot.waitUntil(lambda: (window.draw(), newest(window) >= 60)[1], timeout=60_000)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    settle(qtbot, window)
    assert state(window) == "paused" and "paused" in window.caption_bar.transport_text()
    loss = curve_y(window.single.loss_plot.curves[0])
    assert loss.size >= 60 and loss.max() / loss.min() < 2  # jitters about one level
    assert abs(np.mean(loss[-20:]) / np.mean(loss[:20]) - 1) < 0.1  # and never comes down
    measured = curve_y(window.single.profile_plot.measured_curve)
    assert measured[-1] / measured[0] < 1e-25  # still ~10^-30 after training: no biases
    assert_legible(window)


def test_scene_3_one_factor_per_layer_on_one_colour_scale(window, qtbot) -> None:
    enter(qtbot, window, 3)
    maps = heatmaps(window)
    assert "W = 0.5I" in window.compare_view.titles[0].text()
    assert len({h.levels() for h in maps}) == 1  # one scale: a colour means one size
    half, one, double = (brightness(colours(h, 0)) for h in maps)
    assert half[0] < half[-1] - 50  # shrinks 10^30-fold on the way back to layer 1
    assert double[0] > double[-1] + 50  # grows as much
    assert np.ptp(one) < 1  # level: one colour all the way down
    assert half[0] < one[0] < double[0]


def test_scene_4_saturation_is_a_share_from_0_to_100_percent_and_the_output_layer_is_na(
    window, qtbot
) -> None:
    enter(qtbot, window, 4)
    (heatmap,) = heatmaps(window)
    assert heatmap.is_fraction() and heatmap.levels() == (0.0, 1.0)
    na = heatmap.not_applicable()
    assert na is not None and na[-1] and not na[:-1].any()
    step0 = colours(heatmap, 0)
    assert np.all(heatmap.displayed_rgba()[-1, :, 3] == 0)  # the linear output layer: blank
    assert distinct(step0[:-1]) >= 10  # shares differ from layer to layer: not one shade
    text = heatmap.readout_text()
    assert "σ′ &lt; 0.05" in text and "inf/nan" not in text and "underflow" not in text
    shares = column(heatmap, 0)[:-1]
    assert np.mean(shares >= 1 / 3) > 0.5  # "in most layers a third or more"
    axis = window.single.profile_plot.plotItem.getAxis("left")
    assert [label for _, label in axis._tickLevels[0]] == ["0 %", "25 %", "50 %", "75 %", "100 %"]


def test_scene_5_the_z_histograms_pile_up_where_the_slope_is_flat(window, qtbot) -> None:
    enter(qtbot, window, 5)
    view = window.single.distributions_view
    assert window.view_state.view.panel == "distributions"
    assert window.single.panel == "distributions" and view.isVisible()
    assert view.kind == "preactivation" and view.drawn_step() == 0
    sigma = view.sigma_curve()
    panel = view.panel()
    assert sigma is not None and panel is not None
    _z, slope = sigma
    assert slope.max() == pytest.approx(0.25, abs=0.01)  # σ′ peaks at 1/4, at z = 0
    # "a third or more of the units sit out where σ′ is almost 0": bins where σ′ < 0.05, and
    # the columns beyond ±8 (σ′ < 0.0004 there), in most of the hidden layers drawn.
    flat = panel.counts[:, slope < 0.05].sum(axis=1) + sum(c.total for c in panel.columns)
    shares = flat / panel.totals
    assert np.mean(shares >= 1 / 3) > 0.5, shares
    assert "σ′(z), slope of sigmoid" in view.texts()[1]


def test_scene_6_relu_carries_the_gradient_where_sigmoid_loses_it(window, qtbot) -> None:
    enter(qtbot, window, 6)
    sigmoid, relu = (column(h, 0) for h in heatmaps(window))
    assert sigmoid[0] / sigmoid[-1] < 1e-10
    assert 0.1 < relu[0] / relu[-1] < 1  # "within a few-fold"
    sig_b, relu_b = (brightness(colours(h, 0)) for h in heatmaps(window))
    assert sig_b[0] < sig_b[-1] - 100 and abs(relu_b[0] - relu_b[-1]) < 60


def test_scene_7_the_sigmoid_regions_stay_flat_where_the_relu_ones_curl(window, qtbot) -> None:
    enter(qtbot, window, 7)
    view = window.compare_view
    assert window.view_state.view.panel == "function"
    for page, function in zip(view._pages, view.functions, strict=True):
        assert page.currentWidget() is function and function.function is not None
    sigmoid, relu = (f.function for f in view.functions)
    assert sigmoid.step == relu.step == 500  # the functions after the scene's 500 steps
    # "a flat split": the sigmoid net picks one class almost everywhere or cuts the plane in
    # two; the ReLU net's regions follow the points (most sampled points in their own class).
    for function, expected in ((sigmoid, (0.4, 0.6)), (relu, (0.85, 1.0))):
        column = np.searchsorted(function.x, function.points[:, 0]).clip(0, function.x.size - 1)
        row = np.searchsorted(function.y, function.points[:, 1]).clip(0, function.y.size - 1)
        agree = np.mean(function.classes[row, column] == function.labels)
        assert expected[0] <= agree <= expected[1], (agree, expected)


def test_scene_9_step_0_is_dotted_beside_step_300_and_home_replays_it(window, qtbot) -> None:
    enter(qtbot, window, 9)
    profile = window.single.profile_plot
    assert window.view_state.view.first_step and profile.title() == "step 300"
    rec = window.session.histories[0]
    np.testing.assert_array_equal(curve_y(profile.first_curve), rec.row("backprop_grad_rms", 0))
    assert "step 0" in profile.legend_entries()
    press(qtbot, window, "Home")
    window.draw()
    assert window.view_state.view.shown_step == 0 and profile.title() == "step 0"
    np.testing.assert_array_equal(curve_y(profile.measured_curve), rec.row("backprop_grad_rms", 0))
    press(qtbot, window, "End")
    window.draw()
    assert window.view_state.view.shown_step is None and profile.title() == "step 300"
    assert_legible(window)


def test_scene_8_xavier_keeps_tanh_trainable(window, qtbot) -> None:
    enter(qtbot, window, 8)
    (heatmap,) = heatmaps(window)
    grad = column(heatmap, newest(window))
    assert 0.1 < grad[0] / grad[-2] < 1  # "only a few times weaker"
    loss = curve_y(window.single.loss_plot.curves[0])
    assert np.mean(loss[-20:]) < 0.3 * loss[0]  # "the loss falls steadily"


def test_scene_10_he_keeps_relu_level_where_xavier_shrinks_it(window, qtbot) -> None:
    enter(qtbot, window, 10)
    xavier, he = heatmaps(window)
    step = newest(window)
    x, h = column(xavier, step), column(he, step)
    assert x[-2] / x[1] < 0.01 and 0.3 < h[-2] / h[1] < 3
    xb, hb = brightness(colours(xavier, step)), brightness(colours(he, step))
    assert xb[-2] < xb[1] - 50 and abs(hb[-2] - hb[1]) < 50  # visibly darker vs level


def test_scene_11_batchnorm_brings_the_gradient_to_layer_1(window, qtbot) -> None:
    enter(qtbot, window, 11)
    off, on = heatmaps(window)
    step = newest(window)
    assert column(on, step)[0] / column(off, step)[0] > 1e3
    assert brightness(colours(on, step))[0] > brightness(colours(off, step))[0] + 50
    loss_off, loss_on = (curve_y(c) for c in window.compare_view.loss_plot.curves)
    assert np.mean(loss_on[-20:]) < 0.5 * np.mean(loss_off[-20:])


def test_scene_12_orthogonal_is_level_at_step_0_and_stays_within_2x_after_training(
    window, qtbot
) -> None:
    enter(qtbot, window, 12)
    profile = window.single.profile_plot
    assert profile.title().endswith("step 0")
    hidden = curve_y(profile.measured_curve)[:-1]
    np.testing.assert_allclose(hidden, hidden[0], rtol=1e-9)  # "exactly the same size"
    theory = curve_y(profile.theory_curve)[:-1]
    np.testing.assert_allclose(theory, hidden, rtol=1e-6)  # and the theory line on it

    window.view_state.set_speed(math.inf)  # "as fast as possible" (the speed menu)
    press(qtbot, window, "Space")
    qtbot.waitUntil(lambda: (window.draw(), newest(window) >= 150)[1], timeout=60_000)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    settle(qtbot, window)
    hidden = curve_y(profile.measured_curve)[:-1]
    assert hidden.max() / hidden.min() < 2  # "within a factor of 2 from layer 1 to 99"
    loss = curve_y(window.single.loss_plot.curves[0])
    assert np.mean(loss[-20:]) < 0.1 * loss[0]  # "even this deep network trains"
    assert_legible(window)


def test_scene_13_residual_paths_carry_the_gradient(window, qtbot) -> None:
    enter(qtbot, window, 13)
    plain, residual = heatmaps(window)
    step = newest(window)
    r = column(residual, step)
    assert r.max() / r.min() < 20
    p = column(plain, step)
    assert p[0] / p[-1] < 1e-20
    assert brightness(colours(plain, step))[0] < brightness(colours(residual, step))[0] - 50


def test_scene_14_the_overflowing_run_does_not_flatten_the_clipped_one(window, qtbot) -> None:
    enter(qtbot, window, 14)
    unclipped, clipped = heatmaps(window)
    assert "diverged&nbsp;at&nbsp;step" in window.compare_view.titles[0].text()
    lo, hi = clipped.levels()
    assert hi - lo <= 6  # decades of the healthy run, not 10^0..10^214
    assert distinct(clipped.displayed_rgba()[:, :, :3].reshape(-1, 3)) >= 20
    assert unclipped.beyond()[1]  # the overflowing run is marked beyond the scale
    loss_plot = window.compare_view.loss_plot
    assert loss_plot.plotItem.vb.viewRange()[1][1] < 8  # decades: the clipped loss shows
    loss = curve_y(loss_plot.curves[1])
    assert np.mean(loss[-10:]) < 1e-4 * loss[0]  # "the loss falls smoothly"
    heights = {title.height() for title in window.compare_view.titles}
    assert len(heights) == 1  # the headings line up though one run diverged


def test_scene_15_adam_moves_every_layer(window, qtbot) -> None:
    enter(qtbot, window, 15)
    sgd, adam = heatmaps(window)
    step = newest(window)
    a, s = column(adam, step), column(sgd, step)
    assert a.max() / a.min() < 10  # "all layers change at similar rates"
    assert s[-1] / s[0] > 1e3  # "layer 1 changes thousands of times more slowly"
    sb = brightness(colours(sgd, step))
    assert sb[0] < sb[-1] - 50


def test_a_full_walk_through_the_lesson_comparisons_and_back_prints_no_traceback(
    qtbot, capfd
) -> None:
    """What a lecture does, by keys where there are keys: F5, every scene with the keys its
    caption asks for, a comparison of activations on a deep net, then back to one run."""
    window = open_window(qtbot, preset=get_preset("relu-he"))
    try:
        window.resize(1920, 1080)
        qtbot.keyClick(window, Qt.Key.Key_F5)
        assert window.presentation.active
        window.lecture.start_lesson(LESSON)
        for number, scene in enumerate(LESSON.scenes, 1):
            assert window.caption_bar.counter_text() == f"{number} / {len(LESSON.scenes)}"
            qtbot.waitUntil(lambda: (window.draw(), bool(window.session.snapshots))[1])
            for sentence in re.findall(r"[Pp]ress ([^.]*)", scene.caption):
                for key in re.findall(r"→|\b(?:Space|Home|End)\b", sentence):
                    qtbot.keyClick(window, KEYS[key])
                    window.draw()
            qtbot.keyClick(window, Qt.Key.Key_PageDown)  # mid-opening, as an eager lecturer
        settle(qtbot, window)
        qtbot.keyClick(window, Qt.Key.Key_Escape)  # leave presentation mode
        deep = get_preset("sigmoid-naive").config.replace(init="xavier_normal", depth=40)
        window.lecture.start_comparison(
            [(f"activation = {a}", deep.replace(activation=a)) for a in ("tanh", "relu", "sigmoid")]
        )
        qtbot.keyClick(window, Qt.Key.Key_F5)
        window.view_state.set_speed(math.inf)
        qtbot.keyClick(window, Qt.Key.Key_Space)
        qtbot.waitUntil(lambda: (window.draw(), newest(window) >= 30)[1], timeout=30_000)
        qtbot.keyClick(window, Qt.Key.Key_Space)
        settle(qtbot, window)
        qtbot.keyClick(window, Qt.Key.Key_Escape)
        window.lecture.stop_comparison()
        settle(qtbot, window)
        assert window.session.count == 1 and not window.presentation.active
    finally:
        window.close()
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Error" not in err, err
