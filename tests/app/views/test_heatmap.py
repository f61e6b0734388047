"""Heatmap colours and levels (pure numpy), and the HeatmapView widget (offscreen Qt)."""

from __future__ import annotations

import numpy as np
import pytest
from qt_helpers import paints_caused_by

from gradsim.app.views.colors import (
    DEFAULT_LEVELS,
    NONFINITE_RGBA,
    VIRIDIS_LUT,
    ZERO_RGBA,
    LevelTracker,
    colorize,
    decade_label,
    decade_ticks,
    format_value,
)

# --------------------------------------------------------------------------------------------
# colorize


def _lut_index(rgba: np.ndarray) -> np.ndarray:
    """Index into VIRIDIS_LUT of each colour (the last one, for the two repeated entries)."""
    codes = {bytes(c): i for i, c in enumerate(VIRIDIS_LUT)}
    return np.array([codes[bytes(c)] for c in rgba.reshape(-1, 4)])


def test_viridis_lut_is_256_rgba_uint8():
    assert VIRIDIS_LUT.shape == (256, 4) and VIRIDIS_LUT.dtype == np.uint8
    assert (VIRIDIS_LUT[:, 3] == 255).all()
    # 8-bit viridis repeats two neighbouring entries; all other colours are distinct.
    assert len({bytes(c) for c in VIRIDIS_LUT}) >= 254
    assert tuple(VIRIDIS_LUT[0, :3]) == (68, 1, 84) and tuple(VIRIDIS_LUT[-1, :3]) == (253, 231, 37)


def test_special_colours_are_far_from_viridis_and_each_other():
    lut = VIRIDIS_LUT[:, :3].astype(float)
    for special in (ZERO_RGBA, NONFINITE_RGBA):
        distance = np.linalg.norm(lut - np.array(special[:3], float), axis=1)
        assert distance.min() > 100, special
    assert np.linalg.norm(np.subtract(ZERO_RGBA, NONFINITE_RGBA)) > 100


def test_colorize_special_cells():
    values = np.array([[0.0, np.inf, np.nan], [-np.inf, -1.0, 1.0]])
    rgba = colorize(values, -3, 3, VIRIDIS_LUT)
    assert rgba.shape == (2, 3, 4) and rgba.dtype == np.uint8
    assert tuple(rgba[0, 0]) == ZERO_RGBA
    assert tuple(rgba[0, 1]) == NONFINITE_RGBA
    assert tuple(rgba[0, 2]) == NONFINITE_RGBA
    assert tuple(rgba[1, 0]) == NONFINITE_RGBA  # negative values cannot be on a log scale
    assert tuple(rgba[1, 1]) == NONFINITE_RGBA
    assert tuple(rgba[1, 2]) == tuple(VIRIDIS_LUT[128])  # 10^0: the middle of [-3, 3]


def test_colorize_is_monotonic_and_clips_at_both_ends():
    exponents = np.linspace(-40.0, 40.0, 4001)
    index = _lut_index(colorize(10.0**exponents, -30.0, 30.0, VIRIDIS_LUT))
    assert (np.diff(index) >= 0).all()
    assert (index[exponents <= -30] == 0).all() and (index[exponents >= 30] == 255).all()
    inside = (exponents > -29.5) & (exponents < 29.5)
    assert (index[inside] > 0).all() and (index[inside] < 255).all()
    assert len(np.unique(index)) == len({bytes(c) for c in VIRIDIS_LUT})  # the whole LUT is used


def test_colorize_handles_extremes_without_warnings():
    tiny, huge = np.nextafter(0.0, 1.0), np.finfo(np.float64).max
    rgba = colorize(np.array([tiny, huge, 1e-300, 1e300]), -300, 300, VIRIDIS_LUT)
    assert tuple(rgba[0]) == tuple(VIRIDIS_LUT[0])  # subnormal is small, not zero
    assert tuple(rgba[1]) == tuple(VIRIDIS_LUT[255])
    assert colorize(np.empty((0, 5)), 0, 1, VIRIDIS_LUT).shape == (0, 5, 4)
    assert colorize(np.float32([1.0, 0.0]), 0, 0, VIRIDIS_LUT).shape == (2, 4)  # lo == hi


def test_decade_labels_and_ticks():
    assert decade_label(-30) == "10⁻³⁰" and decade_label(0) == "10⁰" and decade_label(12) == "10¹²"
    assert decade_ticks(-3, 3) == [-3, -2, -1, 0, 1, 2, 3]
    ticks = decade_ticks(-300, 308)
    assert len(ticks) <= 8 and ticks[0] >= -300 and ticks[-1] <= 308
    assert format_value(0.0) == "0 (underflow)" and format_value(3.2e-12) == "3.2e-12"
    assert "overflow" in format_value(np.inf) and "nan" in format_value(np.nan)


# --------------------------------------------------------------------------------------------
# LevelTracker


def test_levels_default_before_data_and_survive_empty_input():
    tracker = LevelTracker()
    assert tracker.update(np.array([])) == tracker.default
    first = tracker.update(np.array([-10.2, -3.1]))
    assert first == (-11.0, -2.0)  # whole decades with half a decade of margin
    assert tracker.update(np.array([])) == first
    assert tracker.update(np.array([np.inf, np.nan, -np.inf])) == first


def test_levels_widen_at_once_on_the_side_that_overflowed():
    tracker = LevelTracker()
    tracker.update(np.array([-10.0, -3.0]))
    assert tracker.update(np.array([-9.0, 40.2])) == (-11.0, 41.0)
    assert tracker.update(np.array([-50.0, 0.0])) == (-51.0, 41.0)


def test_levels_do_not_flicker_on_small_oscillations():
    tracker = LevelTracker()
    frames = [np.array([-10.2, -3.1]), np.array([-9.8, -2.9]), np.array([-10.4, -2.6])]
    seen = {tracker.update(frames[i % 3]) for i in range(300)}
    assert seen == {(-11.0, -2.0)}


def test_levels_narrow_only_after_a_sustained_shrink():
    tracker = LevelTracker(patience=10)
    tracker.update(np.array([-30.0, 10.0]))
    wide = tracker.levels
    small = np.array([-5.0, -4.0])
    for _ in range(9):
        assert tracker.update(small) == wide
    tracker.update(np.array([-29.0, 9.0]))  # one frame using the range resets the count
    for _ in range(9):
        assert tracker.update(small) == wide
    narrowed = tracker.update(small)
    assert narrowed != wide and narrowed[0] <= -5.0 and narrowed[1] >= -4.0
    assert narrowed[1] - narrowed[0] <= 4.0


def test_levels_reset_and_constant_data():
    tracker = LevelTracker()
    tracker.update(np.array([-100.0, 100.0]))
    tracker.reset()
    lo, hi = tracker.update(np.full(10, 3.0))
    assert lo < 3.0 < hi and hi - lo >= tracker.min_span


# --------------------------------------------------------------------------------------------
# HeatmapView


@pytest.fixture
def view(qtbot):
    from gradsim.app.views.heatmap import HeatmapView

    widget = HeatmapView()
    qtbot.addWidget(widget)
    widget.resize(900, 600)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_metric("backprop_grad_rms")
    return widget


def _known_data():
    """10 steps, 4 layers: value = 10^(layer - 1), with a zero, an inf and a nan cell."""
    steps = np.arange(10, dtype=np.int64)
    values = np.tile(10.0 ** np.arange(4), (10, 1))
    values[2, 0] = 0.0  # step 2, layer 1
    values[5, 2] = np.inf  # step 5, layer 3
    values[7, 3] = np.nan  # step 7, layer 4
    return steps, values


def test_displayed_cells_have_the_expected_colours(view):
    steps, values = _known_data()
    view.set_data(steps, values)
    view.set_levels(-1.0, 5.0)
    rgba = view.displayed_rgba()
    assert rgba.shape == (4, 10, 4)  # (layers, columns, RGBA), row 0 = layer 1
    assert tuple(rgba[0, 2]) == ZERO_RGBA
    assert tuple(rgba[2, 5]) == NONFINITE_RGBA
    assert tuple(rgba[3, 7]) == NONFINITE_RGBA
    expected = colorize(np.array([100.0]), -1.0, 5.0, VIRIDIS_LUT)[0]
    assert (rgba[2, 4] == expected).all()  # step 4, layer 3 = 10^2
    assert (rgba[0, 0] != rgba[3, 0]).any()


def test_layer_one_is_drawn_at_the_bottom(view, qtbot):
    steps = np.arange(20, dtype=np.int64)
    values = np.ones((20, 6))
    values[:, 0] = 0.0  # layer 1: white
    values[:, -1] = np.inf  # layer 6: magenta
    view.set_data(steps, values)
    view.clear()  # a data-only clear: the plot must survive it (GraphicsLayoutWidget pitfall)
    assert view.displayed_rgba().size == 0 and view.value_at(5, 1) is None
    view.set_data(steps, values)
    qtbot.wait(10)
    image = view.grab().toImage()
    rect = view._vb.sceneBoundingRect()
    x = rect.center().x()
    bottom = view.mapFromScene(x, rect.bottom() - 0.5 * rect.height() / 6)
    top = view.mapFromScene(x, rect.top() + 0.5 * rect.height() / 6)
    ratio = image.width() / view.width()  # device pixel ratio of the grab
    assert image.pixelColor(int(bottom.x() * ratio), int(bottom.y() * ratio)).getRgb() == ZERO_RGBA
    assert image.pixelColor(int(top.x() * ratio), int(top.y() * ratio)).getRgb() == NONFINITE_RGBA


def test_value_at_reads_the_drawn_cell(view):
    steps, values = _known_data()
    view.set_data(steps, values)
    assert view.value_at(4.0, 3.0) == (4, 3, 100.0)
    assert view.value_at(4.4, 2.6) == (4, 3, 100.0)  # anywhere inside the cell
    assert view.value_at(2.0, 1.0) == (2, 1, 0.0)
    step, layer, value = view.value_at(7.0, 4.0)
    assert (step, layer) == (7, 4) and np.isnan(value)
    assert view.value_at(-0.6, 1.0) is None and view.value_at(9.6, 1.0) is None
    assert view.value_at(3.0, 0.4) is None and view.value_at(3.0, 4.6) is None


def test_hover_shows_the_value_under_the_mouse(view, qtbot):
    steps, values = _known_data()
    view.set_data(steps, values)
    from PySide6.QtCore import QPointF

    qtbot.wait(20)  # let the view apply its new range before mapping a point into it
    scene_pos = view._vb.mapViewToScene(QPointF(5.0, 3.0))
    view.scene().sigMouseMoved.emit(scene_pos)
    qtbot.waitUntil(lambda: view.readout_text().startswith("step"), timeout=2000)
    assert view.readout_text() == "step 5, layer 3: ∂loss/∂z (RMS) = inf (overflow)"
    values = values.copy()
    values[5, 2] = 5.0
    view.set_data(steps, values)  # new data under a resting mouse refreshes the readout
    assert view.readout_text() == "step 5, layer 3: ∂loss/∂z (RMS) = 5"
    from PySide6.QtCore import QEvent

    view.leaveEvent(QEvent(QEvent.Type.Leave))
    assert view.readout_text().startswith("<b>gradient reaching the layer (RMS of ∂loss/∂z)</b>")


def test_window_limits_the_drawn_steps(view):
    steps = np.arange(100, dtype=np.int64)
    values = np.tile(np.arange(1, 101, dtype=float)[:, None], (1, 3))
    view.set_window(10)
    view.set_data(steps, values)
    assert view.displayed_steps().tolist() == list(range(90, 100))
    assert view.displayed_rgba().shape == (3, 10, 4)
    assert view.value_at(85.0, 1.0) is None and view.value_at(95.0, 2.0) == (95, 2, 96.0)
    view.set_window(None)
    assert view.displayed_steps().tolist() == list(range(100))


def test_gappy_steps_map_onto_uniform_columns(view):
    steps = np.array([0, 10, 20, 21, 22, 23], dtype=np.int64)  # decimated old history
    values = np.tile((steps + 1.0)[:, None], (1, 2))
    view.set_data(steps, values)
    expected = [0] * 10 + [10] * 10 + [20, 21, 22, 23]
    assert view.displayed_steps().tolist() == expected
    assert view.value_at(15.0, 1.0) == (10, 1, 11.0)  # most recent recorded step at or before
    assert view.value_at(23.0, 2.0) == (23, 2, 24.0)
    assert view.value_at(0.0, 1.0) == (0, 1, 1.0)


def test_long_runs_are_resampled_to_max_columns(view):
    steps = np.arange(3000, dtype=np.int64)
    values = np.tile(np.arange(1, 3001, dtype=float)[:, None], (1, 2))
    view.set_data(steps, values)
    drawn = view.displayed_steps()
    assert drawn.size == 1500 and drawn[-1] == 2999  # the newest step is always drawn
    assert (drawn == 2 * np.arange(1500) + 1).all()
    assert view.value_at(2999.0, 1.0) == (2999, 1, 3000.0)


def test_zoom_draws_the_visible_steps_and_follow_returns(view):
    steps = np.arange(3000, dtype=np.int64)
    values = np.tile(np.arange(1, 3001, dtype=float)[:, None], (1, 2))
    view.set_window(100)
    view.set_data(steps, values)
    assert view.is_following() and view.displayed_steps()[0] == 2900
    view._vb.setXRange(1000, 1050, padding=0)  # what a user's zoom does
    assert not view.is_following()
    drawn = view.displayed_steps()
    assert drawn[0] == 1000 and drawn[-1] == 1050
    view.set_data(steps, values)  # new data does not move a zoomed view
    assert view.displayed_steps()[0] == 1000
    view.follow()
    assert view.is_following() and view.displayed_steps()[0] == 2900


def test_shared_levels_follow_what_is_drawn_or_the_pinned_range(view, qtbot):
    from gradsim.app.model.view_state import ViewState
    from gradsim.app.views.heatmap import HeatmapView
    from gradsim.app.views.levels import SharedLevels

    other = HeatmapView()
    qtbot.addWidget(other)
    state, shared = ViewState(), SharedLevels()
    steps = np.arange(5, dtype=np.int64)
    view.set_data(steps, np.full((5, 3), 1e-3))
    other.set_data(steps, np.full((5, 3), 1e30))
    lo, hi = shared.apply([view, other], state, key=1)  # one range for both
    assert lo < -3 and hi > 30 and view.levels() == other.levels() == (lo, hi)
    assert state.view.levels == (lo, hi) and state.view.auto_levels  # the toolbar's to show
    state.pin_levels(-1.0, 1.0)
    other.set_data(steps, np.full((5, 3), 1e100))
    assert shared.apply([view, other], state, key=1) == (-1.0, 1.0) == other.levels()
    state.set_auto_levels(True)
    assert shared.apply([view, other], state, key=1)[1] > 100
    view.clear(3)
    other.clear(3)
    assert shared.apply([view, other], state, key=2) == DEFAULT_LEVELS  # new runs: afresh


def test_overflow_is_noted_in_the_title(view):
    steps = np.arange(50, dtype=np.int64)
    values = np.ones((50, 3))
    values[40:, 1] = np.inf
    view.set_data(steps, values)
    assert "inf/nan from step 40" in view.readout_text()
    view.clear()
    assert "inf/nan" not in view.readout_text()


def test_double_click_in_the_plot_returns_to_following(view):
    steps = np.arange(500, dtype=np.int64)
    view.set_window(50)
    view.set_data(steps, np.ones((500, 2)))
    view._vb.setXRange(100, 120, padding=0)
    assert not view.is_following()

    class Click:  # the two calls HeatmapView makes on pyqtgraph's MouseClickEvent
        def __init__(self, double: bool, pos):
            self._double, self._pos = double, pos

        def double(self) -> bool:
            return self._double

        def scenePos(self):
            return self._pos

    centre = view._vb.sceneBoundingRect().center()
    view.scene().sigMouseClicked.emit(Click(False, centre))
    assert not view.is_following()
    view.scene().sigMouseClicked.emit(Click(True, centre))
    assert view.is_following() and view.displayed_steps()[0] == 450


def test_deep_nets_get_fewer_columns_to_keep_frames_cheap(view):
    steps = np.arange(3000, dtype=np.int64)
    view.set_data(steps, np.ones((3000, 2000)))
    drawn = view.displayed_steps()
    assert drawn.size == 300 and drawn[-1] == 2999  # 600_000 cells / 2000 layers
    assert view.displayed_rgba().shape == (2000, 300, 4)


# --------------------------------------------------------------------------------------------
# Painting cost: one paint per update, none for a repeat, no menus built


def test_each_update_paints_the_heatmap_once(view, qtbot):
    values = np.tile(10.0 ** -np.arange(1.0, 21.0), (300, 1))
    view.set_window(100)
    view.set_data(np.arange(200, dtype=np.int64), values[:200])
    new = (np.arange(230, dtype=np.int64), values[:230])
    assert paints_caused_by(qtbot, view, lambda: view.set_data(*new), 1) == 1
    # The view already follows the new steps when set_data returns (not lazily in the paint).
    assert view.is_following()
    assert view._vb.viewRange()[0] == pytest.approx([129.5, 229.5])


def test_the_same_data_again_is_not_redrawn(view, qtbot):
    steps = np.arange(50, dtype=np.int64)
    values = np.tile(10.0 ** -np.arange(1.0, 5.0), (50, 1))
    values[10, 2] = np.nan
    view.set_data(steps, values)
    rgba, levels = view.displayed_rgba(), view.levels()
    again = (steps.copy(), values.copy())  # equal, not the same arrays
    assert paints_caused_by(qtbot, view, lambda: view.set_data(*again), 0) == 0
    assert (view.displayed_rgba() == rgba).all() and view.levels() == levels
    changed = values.copy()
    changed[-1, 0] = 1.0
    view.set_data(steps, changed)  # one new value is drawn
    assert view.value_at(49.0, 1.0) == (49, 1, 1.0)


def test_no_context_menus_are_built(qtbot, monkeypatch):
    """Neither the plot nor the colour bar builds a menu (~2 ms of start-up each)."""
    import importlib

    from gradsim.app.views.heatmap import HeatmapView

    def refuse(*args, **kwargs):
        raise AssertionError("a ViewBox context menu was built")

    # The module (its package exports the ViewBox class under the same name).
    viewbox_module = importlib.import_module("pyqtgraph.graphicsItems.ViewBox.ViewBox")
    monkeypatch.setattr(viewbox_module, "ViewBoxMenu", refuse)
    widget = HeatmapView()
    qtbot.addWidget(widget)
    assert widget._vb.menu is None and widget._cbar.vb.menu is None


def test_colour_bar_shows_the_heatmap_lut(view):
    from PySide6.QtGui import QImage

    image = view._cbar.bar.pixmap().toImage().convertToFormat(QImage.Format.Format_RGBA8888)
    assert (image.width(), image.height()) == (1, 256)
    rows = [tuple(image.pixelColor(0, i).getRgb()) for i in range(256)]
    assert rows == [tuple(int(c) for c in entry) for entry in VIRIDIS_LUT]


def test_a_run_that_diverges_lets_go_of_the_levels_it_widened(view, qtbot):
    """Drawn while still healthy, a run on its way to overflow widened the levels; once it
    has diverged they follow the healthy run alone (whenever the window happened to draw)."""
    from gradsim.app.model.view_state import ViewState
    from gradsim.app.views.heatmap import HeatmapView
    from gradsim.app.views.levels import SharedLevels

    other = HeatmapView()
    qtbot.addWidget(other)
    state, shared = ViewState(), SharedLevels()
    steps = np.arange(5, dtype=np.int64)
    view.set_data(steps, np.full((5, 3), 1e-2))
    other.set_data(steps, np.full((5, 3), 1e40))
    assert shared.apply([view, other], state, key=1, diverged_at=[None, None])[1] > 40
    values = np.full((6, 3), 1e40)
    values[5] = np.inf
    view.set_data(np.arange(6, dtype=np.int64), np.full((6, 3), 1e-2))
    other.set_data(np.arange(6, dtype=np.int64), values)
    lo, hi = shared.apply([view, other], state, key=1, diverged_at=[None, 5])
    assert lo <= -2 <= hi and hi - lo <= 6
