"""Theory panel: the order-to-chaos map marks the config, shows chi_map's values and the
χ = 1 line, computes its grid once per activation, and the readout follows the config."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradsim.engine import theory
from gradsim.engine.config import Config
from gradsim.engine.presets import get_preset
from gradsim.engine.theory_summary import summarize

pytestmark = pytest.mark.slow  # the theory's maps computed at full resolution

RELU_HE = Config(activation="relu", init="he_normal")
TANH_XAVIER = Config(activation="tanh", init="xavier_normal")


class TheoryViews:
    """The readout and the order-to-chaos map as the single-run view holds them, driven the
    way the view drives them (``set_theory``), with the map's tab in front."""

    def __init__(self, qtbot) -> None:
        from gradsim.app.views.single_view import SingleRunView
        from gradsim.app.views.themes import DARK

        self.view = SingleRunView()
        qtbot.addWidget(self.view)
        self.view.resize(1600, 1000)  # the app's default window, less the settings
        self.view.show()
        self.view.show_map(True)  # the map computes its grid once it is seen
        self.readout, self.chaos_map = self.view.readout, self.view.chaos_map
        self._look = (DARK, 1.0)
        # The first readout waits for the first paint (a map no test looks at: linear).
        self.view.set_theory(Config(activation="linear"), None)
        qtbot.waitUntil(lambda: self.readout.summary is not None, timeout=5000)

    def set_config(self, config: Config, profile=None) -> None:
        self.view.set_theory(config, profile)

    def set_theme(self, theme) -> None:
        self._look = (theme, self._look[1])
        self.view.set_look(*self._look)

    def set_font_scale(self, scale: float) -> None:
        self._look = (self._look[0], scale)
        self.view.set_look(*self._look)

    def show(self) -> None:
        self.view.show()


@pytest.fixture
def panel(qtbot):
    return TheoryViews(qtbot)


def test_map_grid_waits_until_the_map_is_shown(qtbot, monkeypatch) -> None:
    """Start-up must not pay for a map nobody looks at yet (it sits in a tab)."""
    from gradsim.app.views import theory_panel

    calls = []
    real = theory_panel.theory.chi_map
    monkeypatch.setattr(
        theory_panel.theory, "chi_map", lambda *a, **k: calls.append(a) or real(*a, **k)
    )
    theory_panel._factor_grid.cache_clear()
    chaos_map = theory_panel.ChaosMap()
    qtbot.addWidget(chaos_map)
    chaos_map.set_config(Config(activation="elu"))
    assert calls == []
    chaos_map.show()
    assert len(calls) == 1 and calls[0][0] == "elu"


def plain(label) -> str:
    """A rich-text QLabel's visible text."""
    from PySide6.QtGui import QTextDocument

    doc = QTextDocument()
    doc.setHtml(label.text())
    return doc.toPlainText()


def pixel_at(qtbot, chaos_map, point: tuple[float, float]):
    """Colour (r, g, b) drawn at a (σ_w, σ_b) point of the map."""
    from PySide6.QtCore import QPointF

    chaos_map.show()
    qtbot.waitExposed(chaos_map)
    image = chaos_map.grab().toImage()
    scene = chaos_map.plot.vb.mapViewToScene(QPointF(*point))
    pos = chaos_map.mapFromScene(scene)
    color = image.pixelColor(pos.x(), pos.y())
    return color.red(), color.green(), color.blue()


def test_dot_marks_the_config_and_moves(panel):
    chaos_map = panel.chaos_map
    panel.set_config(RELU_HE)
    assert chaos_map.current_point() == pytest.approx((math.sqrt(2), 0.0))
    assert chaos_map.marker_position() == chaos_map.current_point()
    panel.set_config(RELU_HE.replace(init_gain=1.5, bias_init=-0.5))
    assert chaos_map.current_point() == pytest.approx((1.5 * math.sqrt(2), 0.5))
    assert chaos_map.marker_position() == chaos_map.current_point()
    x, y = chaos_map.marker.getData()
    assert (x[0], y[0]) == pytest.approx(chaos_map.marker_position())
    assert not chaos_map.arrow.isVisible()


def test_dot_is_drawn_in_the_marker_colour(qtbot, panel):
    MARKER = (240, 228, 66)

    panel.set_config(TANH_XAVIER.replace(bias_init=1.0))
    rgb = pixel_at(qtbot, panel.chaos_map, panel.chaos_map.marker_position())
    assert np.allclose(rgb, MARKER, atol=30), rgb


def test_off_map_configs_are_clamped_to_the_edge(panel):
    chaos_map = panel.chaos_map
    panel.set_config(get_preset("sigmoid-naive").config)  # N(0, 1) weights: σ_w = √32
    assert chaos_map.current_point() == pytest.approx((math.sqrt(32), 0.0))
    assert chaos_map.marker_position() == (4.0, 0.0)
    assert chaos_map.arrow.isVisible()
    assert "off the map: σ_w = 5.66" in chaos_map.marker_label.toPlainText()
    panel.set_config(TANH_XAVIER.replace(bias_init=3.0))
    assert chaos_map.marker_position() == (1.0, 2.0)
    assert "σ_b = 3" in chaos_map.marker_label.toPlainText()
    panel.set_config(TANH_XAVIER)
    assert not chaos_map.arrow.isVisible() and "off" not in chaos_map.marker_label.toPlainText()


@pytest.mark.parametrize("activation", ["tanh", "relu", "gelu", "linear"])
def test_map_values_are_sqrt_chi(panel, activation):
    from gradsim.app.views.theory_panel import SIGMA_B, SIGMA_W

    panel.set_config(Config(activation=activation))
    rows, cols = [0, 17, 80], [0, 40, 57, 160]
    expected = np.sqrt(theory.chi_map(activation, SIGMA_W[cols], SIGMA_B[rows]))
    for a, i in enumerate(rows):
        for b, j in enumerate(cols):
            got = panel.chaos_map.factor_at(SIGMA_W[j], SIGMA_B[i])
            assert got == pytest.approx(expected[a, b], rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(
    ("activation", "edge_at_zero_bias"), [("relu", math.sqrt(2)), ("tanh", 1.0), ("linear", 1.0)]
)
def test_edge_of_chaos_line_lies_where_the_factor_is_one(panel, activation, edge_at_zero_bias):
    chaos_map = panel.chaos_map
    panel.set_config(Config(activation=activation))
    points = chaos_map.contour_points()
    points = points[np.isfinite(points[:, 0])]
    assert len(points) > 20
    at_zero = points[np.argmin(points[:, 1])]
    assert at_zero == pytest.approx((edge_at_zero_bias, 0.0), abs=2e-3)
    for sigma_w, sigma_b in points[:: max(1, len(points) // 15)]:
        assert chaos_map.factor_at(sigma_w, sigma_b) == pytest.approx(1.0, abs=0.01)
    x, _ = chaos_map.contour.getData()
    assert x is not None and len(x) == len(chaos_map.contour_points())
    if activation != "tanh":  # χ does not depend on σ_b: a vertical line
        assert points[:, 0] == pytest.approx(np.full(len(points), edge_at_zero_bias), abs=2e-3)


def test_edge_of_chaos_line_is_drawn_black(qtbot, panel):
    panel.set_config(RELU_HE.replace(init_gain=0.5))  # the dot far from the line
    rgb = pixel_at(qtbot, panel.chaos_map, (math.sqrt(2), 1.0))
    assert max(rgb) < 80, rgb


def test_sigmoid_has_no_chaotic_region(panel):
    chaos_map = panel.chaos_map
    panel.set_config(Config(activation="sigmoid"))
    assert len(chaos_map.contour_points()) == 0
    assert not chaos_map.region_labels["chaotic"].isVisible()
    assert chaos_map.region_labels["ordered"].isVisible()
    assert "ordered everywhere" in chaos_map.note.text
    panel.set_config(Config(activation="tanh"))
    assert chaos_map.region_labels["chaotic"].isVisible()
    assert "ordered everywhere" not in chaos_map.note.text


def test_grid_is_computed_once_per_activation_and_slope(panel, monkeypatch):
    from gradsim.app.views import theory_panel

    calls = []
    real = theory.chi_map

    def counting(activation, *args, **kwargs):
        calls.append(activation)
        return real(activation, *args, **kwargs)

    monkeypatch.setattr(theory, "chi_map", counting)
    theory_panel._factor_grid.cache_clear()
    try:
        panel.set_config(TANH_XAVIER)
        for changes in ({"init_gain": 1.7}, {"bias_init": 0.4}, {"leaky_slope": 0.3}):
            panel.set_config(TANH_XAVIER.replace(**changes))  # only the dot moves
        assert calls == ["tanh"]
        assert panel.chaos_map.marker_position() == pytest.approx((1.0, 0.0))
        panel.set_config(RELU_HE)
        panel.set_config(TANH_XAVIER)  # cached
        leaky = Config(activation="leaky_relu", leaky_slope=0.2)
        panel.set_config(leaky)
        panel.set_config(leaky.replace(leaky_slope=0.5))
        assert calls == ["tanh", "relu", "leaky_relu", "leaky_relu"]
    finally:
        theory_panel._factor_grid.cache_clear()


def test_readout_follows_the_config(panel):
    exploding = get_preset("seed-exploding").config
    panel.set_config(exploding)
    text = plain(panel.readout)
    assert text == summarize(exploding, theory.predict(exploding)).text
    assert "10²⁹" in text and text.endswith("exploding")
    assert "Verdict" in panel.readout.toolTip()
    panel.set_config(RELU_HE)
    assert plain(panel.readout).endswith("stable") and "about 1 (√χ)" in plain(panel.readout)


def test_readout_uses_a_given_profile(panel):
    config = TANH_XAVIER.replace(init_gain=1.3)
    profile = theory.predict(config, input_second_moment=25.0)
    panel.set_config(config, profile)
    assert plain(panel.readout) == summarize(config, profile).text
    assert plain(panel.readout) != summarize(config, theory.predict(config, 1.0)).text


def test_configs_outside_the_theory_get_a_grey_dot(panel):
    from PySide6.QtCore import Qt

    chaos_map = panel.chaos_map
    panel.set_config(TANH_XAVIER.replace(batchnorm=True))
    assert plain(panel.readout) == "theory not available: no theory for BatchNorm"
    assert chaos_map.marker.points()[0].brush().style() == Qt.BrushStyle.NoBrush
    assert "grey dot: no theory for BatchNorm" in chaos_map.note.text
    assert chaos_map.factor_at(1.0, 0.0) == pytest.approx(1.0, abs=1e-9)  # tanh's map stays
    panel.set_config(Config(activation="elu", init="identity", init_gain=0.7))
    assert chaos_map.current_point() == pytest.approx((0.7, 0.0))
    assert "identity init with elu" in chaos_map.note.text
    panel.set_config(TANH_XAVIER)
    assert chaos_map.marker.points()[0].brush().style() == Qt.BrushStyle.SolidPattern
    assert "grey dot" not in chaos_map.note.text


def test_theme_restyles_background_and_text(panel):
    from gradsim.app.views.themes import DARK, LIGHT

    panel.set_config(TANH_XAVIER)
    assert panel.chaos_map.backgroundBrush().color().name() == DARK.background
    panel.set_theme(LIGHT)
    assert panel.chaos_map.backgroundBrush().color().name() == LIGHT.background
    assert LIGHT.window in panel.readout.styleSheet()
    axis = panel.chaos_map.plot.getAxis("bottom")
    assert axis.textPen().color().name() == LIGHT.foreground
    assert LIGHT.foreground in panel.chaos_map.marker_label.textItem.toHtml()


def test_font_scale_grows_text_and_keeps_it_inside(qtbot, panel):
    panel.set_config(get_preset("sigmoid-naive").config)  # the longest dot label
    panel.show()
    qtbot.waitExposed(panel.view)
    base = panel.readout.font().pointSizeF()
    axis = panel.chaos_map.plot.getAxis("bottom")
    base_tick = axis.style["tickFont"].pointSizeF()
    panel.set_font_scale(2.0)
    qtbot.wait(50)
    assert panel.readout.font().pointSizeF() == pytest.approx(2 * base)
    assert axis.style["tickFont"].pointSizeF() == pytest.approx(2 * base_tick)
    chaos_map = panel.chaos_map
    layout = chaos_map.ci.boundingRect()
    assert layout.width() <= chaos_map.viewport().width() + 1
    assert layout.height() <= chaos_map.viewport().height() + 1
    assert panel.readout.height() < panel.view.height() / 2
