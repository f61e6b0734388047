"""LossPlot and ProfilePlot: log axes that drop 0/inf/nan from the lines but report them."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from PySide6 import QtGui
from qt_helpers import paints_caused_by

from gradsim.app.views.colors import NONFINITE_RGBA


@pytest.fixture
def loss_plot(qtbot):
    from gradsim.app.views.loss_plot import LossPlot

    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(600, 400)
    return plot


@pytest.fixture
def profile_plot(qtbot):
    from gradsim.app.views.plots import ProfilePlot

    plot = ProfilePlot()
    qtbot.addWidget(plot)
    plot.resize(600, 400)
    return plot


def _points(curve) -> int:
    """Number of points a PlotDataItem draws (getData gives None when it has none)."""
    x, _ = curve.getData()
    return 0 if x is None else len(x)


def _legend_texts(plot) -> list[str]:
    return plot.legend_entries()


def test_loss_drops_non_positive_and_non_finite_values(loss_plot):
    steps = np.arange(10)
    loss = np.array([1.0, 0.5, 0.0, 0.25, -1.0, 0.2, 0.1, np.inf, np.nan, np.inf])
    loss_plot.set_runs([(steps, loss)])
    x, y = loss_plot.curves[0].getData()  # what is drawn: log10 of the loss on the log axis
    assert x.tolist() == [0, 1, 3, 5, 6]
    assert np.allclose(y, np.log10([1.0, 0.5, 0.25, 0.2, 0.1]))
    assert loss_plot.overflow_lines[0].isVisible() and loss_plot.overflow_lines[0].value() == 7
    assert "from step 7" in loss_plot.overflow_lines[0].label.toPlainText()
    assert "2" in loss_plot.title()  # two values <= 0 not shown


def test_loss_without_problems_has_no_marker_and_clear_keeps_the_curve(loss_plot):
    loss_plot.set_runs([(np.arange(5), np.array([5.0, 4, 3, 2, 1]))])
    assert not loss_plot.overflow_lines[0].isVisible() and loss_plot.title() == "loss"
    loss_plot.clear()  # data only: PlotWidget's own clear() would remove every item
    assert loss_plot.curves[0] in loss_plot.plotItem.listDataItems()
    assert _points(loss_plot.curves[0]) == 0
    loss_plot.set_runs([(np.arange(3), np.array([np.nan, np.nan, np.nan]))])
    assert loss_plot.overflow_lines[0].value() == 0 and loss_plot.overflow_lines[0].isVisible()
    loss_plot.set_runs([(np.array([], dtype=np.int64), np.array([]))])
    assert not loss_plot.overflow_lines[0].isVisible()


def test_loss_marker_label_follows_a_new_run(loss_plot):
    loss_plot.set_runs([(np.arange(4), np.array([1.0, 2.0, np.inf, np.inf]))])
    loss_plot.set_runs([(np.arange(2), np.array([1.0, 1.0]))])
    loss_plot.set_runs([(np.arange(4), np.array([1.0, 2.0, np.inf, np.inf]))])
    assert "from step 2" in loss_plot.overflow_lines[0].label.toPlainText()


def test_loss_rejects_mismatched_shapes(loss_plot):
    with pytest.raises(ValueError):
        loss_plot.set_runs([(np.arange(3), np.ones(4))])


def test_profile_drops_specials_from_the_line_and_marks_them(profile_plot):
    values = 2.0 ** -np.arange(8.0)
    values[2] = 0.0
    values[5] = np.inf
    values[6] = np.nan
    profile_plot.set_profile(values, "backprop_grad_rms", step=12)
    x, y = profile_plot.measured_curve.getData()
    assert x.tolist() == [1, 2, 4, 5, 8]  # layers, 1-based
    assert np.all(np.isfinite(y))
    zx, zy = profile_plot.zero_markers.getData()
    assert zx.tolist() == [3] and zy[0] < y.min()  # below the data: underflow
    ox, oy = profile_plot.overflow_markers.getData()
    assert ox.tolist() == [6, 7] and oy.min() > y.max()  # above the data: overflow
    assert profile_plot.title() == "step 12"
    texts = _legend_texts(profile_plot)
    assert texts[0] == "measured"
    assert "1 layer = 0 (underflow)" in texts and "2 layers inf/nan (overflow)" in texts


def test_profile_theory_line_is_dashed_and_in_the_legend(profile_plot):
    values = 2.0 ** np.arange(6.0)
    theory = 2.0 ** np.arange(6.0) * 1.1
    theory[-1] = np.nan  # e.g. the last grad_factor
    profile_plot.set_profile(values, "backprop_grad_rms", theory, "theory (exact)")
    tx, ty = profile_plot.theory_curve.getData()
    assert tx.tolist() == [1, 2, 3, 4, 5] and np.allclose(ty, np.log10(theory[:5]))
    assert profile_plot.theory_curve.opts["pen"].style().name == "DashLine"
    assert _legend_texts(profile_plot) == ["measured", "theory (exact)"]
    profile_plot.set_profile(values, "backprop_grad_rms", theory, "theory (mean-field)")
    assert _legend_texts(profile_plot) == ["measured", "theory (mean-field)"]
    profile_plot.set_profile(values, "backprop_grad_rms")
    assert _legend_texts(profile_plot) == ["measured"]
    assert _points(profile_plot.theory_curve) == 0


def test_profile_all_special_values_and_clear(profile_plot):
    profile_plot.set_profile(np.array([0.0, np.inf, np.nan]), "activation_rms")
    assert _points(profile_plot.measured_curve) == 0
    assert _points(profile_plot.overflow_markers) == 2
    profile_plot.clear()
    assert _legend_texts(profile_plot) == ["measured"]
    assert profile_plot.measured_curve in profile_plot.plotItem.listDataItems()


def test_window_of_heatmap_and_plots_renders(qtbot, tmp_path):
    """The composite the lecturer sees: an exploding net with an overflow at the end."""
    from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

    from gradsim.app.views.heatmap import HeatmapView
    from gradsim.app.views.loss_plot import LossPlot
    from gradsim.app.views.plots import ProfilePlot

    window = QWidget()
    qtbot.addWidget(window)
    heatmap, loss, profile = HeatmapView(), LossPlot(), ProfilePlot()
    side = QVBoxLayout()
    side.addWidget(loss)
    side.addWidget(profile)
    row = QHBoxLayout(window)
    row.addWidget(heatmap, 3)
    row.addLayout(side, 2)
    window.resize(1920, 1080)
    window.show()
    qtbot.waitExposed(window)

    layers, steps = 100, np.arange(60, dtype=np.int64)
    values = np.tile(2.0 ** (layers - np.arange(1, layers + 1.0)), (steps.size, 1)) * 1e-12
    values[-1, :30] = np.inf
    heatmap.set_metric("backprop_grad_rms")
    heatmap.set_data(steps, values)
    loss.set_runs([(steps, np.r_[np.exp(steps[:-1] / 10.0), np.inf])])
    profile.set_profile(values[-2], "backprop_grad_rms", values[-2] * 1.2, "theory (exact)")
    for scale in (1.5, 1.0):  # presentation mode and back
        heatmap.set_font_scale(scale)
        loss.set_font_scale(scale)
        profile.set_font_scale(scale)
    qtbot.wait(20)
    image = window.grab().toImage()
    assert image.save(str(tmp_path / "window.png"))
    small = image.scaled(480, 270)  # count overflow-coloured pixels cheaply
    magenta = sum(
        small.pixelColor(x, y).getRgb()[:3] == NONFINITE_RGBA[:3]
        for x in range(0, 480, 2)
        for y in range(0, 270, 2)
    )
    assert magenta > 0


def test_integer_axis_never_ticks_fractional_steps():
    from gradsim.app.views.plot_parts import IntegerAxis

    axis = IntegerAxis("bottom")
    for lo, hi, size in ((-0.5, 1.5, 600), (0.0, 3.0, 900), (0.0, 5000.0, 900)):
        values = [v for _, level in axis.tickValues(lo, hi, size) for v in level]
        assert values and all(float(v).is_integer() for v in values), (lo, hi, values)
    assert {0.0, 1.0} <= {v for _, level in axis.tickValues(-0.5, 1.5, 600) for v in level}


def test_loss_of_a_run_that_dies_at_once_is_visible(loss_plot):
    """seed-exploding: one finite loss at step 0, inf at step 1."""
    loss_plot.set_runs([(np.arange(1000), np.linspace(2.0, 1.0, 1000))])
    assert loss_plot.curves[0].opts["symbol"] is None  # long runs: a plain line
    loss_plot.set_runs([(np.array([0, 1]), np.array([1e33, np.inf]))])
    assert _points(loss_plot.curves[0]) == 1 and loss_plot.curves[0].opts["symbol"] == "o"
    assert loss_plot.overflow_lines[0].isVisible() and loss_plot.overflow_lines[0].value() == 1
    assert not loss_plot.plotItem.getAxis("left").autoSIPrefix
    loss_plot.set_runs([(np.arange(1000), np.linspace(2.0, 1.0, 1000))])
    assert loss_plot.curves[0].opts["symbol"] is None  # long runs: a plain line


# --------------------------------------------------------------------------------------------
# Painting cost: one paint per update, steady ranges, cheap grids, downsampled long runs


def _show(qtbot, plot):
    plot.show()
    qtbot.waitExposed(plot)
    return plot


def test_each_loss_update_paints_once_and_follows_the_newest_step(loss_plot, qtbot):
    _show(qtbot, loss_plot)
    rng = np.random.default_rng(0)
    loss = 2.0 * np.exp(-np.arange(3000) / 2000) * (1 + 0.05 * rng.standard_normal(3000))
    loss_plot.set_runs([(np.arange(2000), loss[:2000])])
    new = (np.arange(2030), loss[:2030])
    assert paints_caused_by(qtbot, loss_plot, lambda: loss_plot.set_runs([new]), 1) == 1
    (x0, x1), _ = loss_plot.plotItem.vb.viewRange()  # settled when set_data returns
    assert x0 < 0 and 2029 < x1 < 2029 + 0.1 * 2029  # the newest step, padded as pyqtgraph does
    same = (np.arange(2030), loss[:2030].copy())
    assert paints_caused_by(qtbot, loss_plot, lambda: loss_plot.set_runs([same]), 0) == 0


def test_each_profile_update_paints_once(profile_plot, qtbot):
    _show(qtbot, profile_plot)
    values = 10.0 ** -np.linspace(1, 15, 100)
    profile_plot.set_profile(values, "backprop_grad_rms", values * 1.1, "theory (exact)", step=1)

    def update():
        profile_plot.set_profile(
            values * 1.2, "backprop_grad_rms", values * 1.1, "theory (exact)", step=2
        )

    assert paints_caused_by(qtbot, profile_plot, update, 1) == 1
    assert profile_plot.title() == "step 2"
    assert paints_caused_by(qtbot, profile_plot, update, 0) == 0  # the same profile again


def test_value_range_holds_still_while_the_data_wiggles(profile_plot, qtbot):
    """A range that hugs noisy data would move (and re-lay out its axis) every frame."""
    _show(qtbot, profile_plot)
    rng = np.random.default_rng(1)
    values = 10.0 ** -np.linspace(2, 16, 100)
    ranges = set()
    for step in range(20):
        wiggle = 10.0 ** (0.2 * rng.uniform(-1, 1, 100))
        profile_plot.set_profile(values * wiggle, "backprop_grad_rms", step=step)
        _, y = profile_plot.measured_curve.getData()
        _, (lo, hi) = profile_plot.plotItem.vb.viewRange()
        assert lo <= y.min() and y.max() <= hi  # everything drawn is in view
        ranges.add((lo, hi))
    assert len(ranges) == 1
    profile_plot.set_profile(values * 1e-10, "backprop_grad_rms", step=21)  # a real change
    _, (lo, hi) = profile_plot.plotItem.vb.viewRange()
    assert lo <= -26 and (lo, hi) not in ranges


def test_user_zoom_stops_following_until_auto_range_is_back(loss_plot, qtbot):
    _show(qtbot, loss_plot)
    loss = np.linspace(2.0, 1.0, 300)
    loss_plot.set_runs([(np.arange(100), loss[:100])])
    vb = loss_plot.plotItem.vb
    vb.setXRange(10, 20, padding=0)  # what a user's zoom does
    loss_plot.set_runs([(np.arange(200), loss[:200])])
    assert vb.viewRange()[0] == pytest.approx([10, 20])
    vb.enableAutoRange()  # the "A" button
    qtbot.waitUntil(lambda: vb.viewRange()[0][1] > 199, timeout=2000)


def test_stable_range_moves_only_for_real_changes():
    import math

    from gradsim.app.views.plot_parts import StableRange

    tracker = StableRange()
    first = tracker.update(-16.3, -2.1)
    assert first[0] <= -16.3 and first[1] >= -2.1
    assert all(float(v).is_integer() for v in first)  # wide ranges end on whole decades
    rng = np.random.default_rng(0)
    for _ in range(100):
        assert (
            tracker.update(-16.3 + rng.uniform(-0.3, 0.3), -2.1 + rng.uniform(-0.3, 0.3)) == first
        )
    wider = tracker.update(-20.0, -2.0)  # data left the range: follow at once
    assert wider[0] <= -20.0 and wider[1] >= -2.0
    narrow = tracker.update(-3.0, -2.0)  # fills less than half of it: hug the data again
    assert narrow[0] <= -3.0 and narrow[1] >= -2.0 and narrow[1] - narrow[0] < 2.0
    assert tracker.update(math.inf, -math.inf) == narrow  # nothing finite: keep the range
    tracker.reset()
    assert tracker.update(math.nan, math.nan) is None
    lo, hi = StableRange().update(0.3, 0.3)  # a constant series still gets a range
    assert lo < 0.3 < hi and hi - lo >= 0.05


def test_grid_is_opaque_under_the_data_without_invisible_lines(profile_plot, qtbot):
    from PySide6.QtGui import QImage, QPainter

    _show(qtbot, profile_plot)
    profile_plot.set_profile(10.0 ** -np.linspace(1, 15, 100), "backprop_grad_rms")
    plot_item = profile_plot.plotItem
    axis = plot_item.getAxis("left")
    assert axis.grid is not False and axis.zValue() < plot_item.vb.zValue()
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        _, tick_specs, _ = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    assert tick_specs and {pen.color().alpha() for pen, _, _ in tick_specs} == {255}
    # 2..9 x 10^k over 15 decades: pyqtgraph would fade them to ~1 % opacity; not drawn.
    lo, hi = axis.range
    size = plot_item.vb.height()
    assert len(axis.tickValues(lo, hi, size)) < len(axis.allTickValues(lo, hi, size))


def test_long_loss_runs_draw_about_two_points_per_pixel_and_keep_spikes(loss_plot, qtbot):
    _show(qtbot, loss_plot)
    n = 100_000
    loss = np.linspace(2.0, 1.0, n)
    loss[n // 2] = 50.0  # a spike must stay visible
    loss_plot.set_runs([(np.arange(n), loss)])
    x, y = loss_plot.curves[0].curve.getData()  # what the line draws (log10 of the loss)
    assert len(x) <= 2 * loss_plot.plotItem.vb.width() + 4
    assert y.max() == pytest.approx(np.log10(50.0))


def test_no_context_menus_are_built(qtbot, monkeypatch):
    """The app shows no plot menus; building them cost ~2 ms of start-up per view box."""
    import importlib

    from gradsim.app.views.loss_plot import LossPlot
    from gradsim.app.views.plots import ProfilePlot

    def refuse(*args, **kwargs):
        raise AssertionError("a ViewBox context menu was built")

    # The module (its package exports the ViewBox class under the same name).
    viewbox_module = importlib.import_module("pyqtgraph.graphicsItems.ViewBox.ViewBox")
    monkeypatch.setattr(viewbox_module, "ViewBoxMenu", refuse)
    for plot in (LossPlot(), ProfilePlot()):
        qtbot.addWidget(plot)
        assert plot.plotItem.vb.menu is None


@pytest.mark.parametrize(
    ("low", "high"),
    [(6.5, 11.0), (0.05, 0.06), (0.03, 0.3), (1e-3, 1e3), (10.0, 10.0), (2e60, 2e60)],
)
def test_log_axis_labels_never_crowd_and_are_at_least_two(qtbot, low, high):
    from qt_helpers import drawn_ticks, tick_number

    from gradsim.app.views.loss_plot import LossPlot

    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(700, 260)
    plot.set_font_scale(1.75)  # projector fonts: the crowding showed there
    plot.show()
    qtbot.waitExposed(plot)
    steps = np.arange(50)
    plot.set_runs([(steps, np.geomspace(low, high, 50))])
    qtbot.wait(50)
    axis = plot.plotItem.getAxis("left")
    ticks = drawn_ticks(axis)
    assert len({text for _, text in ticks}) >= 2
    for value, text in ticks:
        assert tick_number(text) == pytest.approx(value, rel=0.05)
    height = QtGui.QFontMetricsF(axis.style["tickFont"]).height()
    lo, hi = sorted(axis.range)
    pixels = sorted({(np.log10(v) - lo) / (hi - lo) * axis.geometry().height() for v, _ in ticks})
    assert all(b - a >= height for a, b in itertools.pairwise(pixels))
