"""Theory panel: a one-sentence readout of the predicted gradient factor, above the
order-to-chaos map of the current activation with the user's network marked on it.

The map is the classic mean-field phase diagram (Poole et al. 2016, Schoenholz et al. 2017):
for weights N(0, σ_w²/fan_in) and a random bias N(0, σ_b²), each layer multiplies the
gradient by √χ. Blue is order (gradients vanish), red is chaos (they explode) and the black
χ = 1 line between them is the edge of chaos, where deep nets train.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6 import QtCore, QtGui, QtWidgets

from gradsim.app.views.plot_parts import BASE_LABEL_PT, BASE_TICK_PT, no_si_prefix, style_axis
from gradsim.app.views.themes import DEFAULT_THEME, Theme
from gradsim.app.views.theory_readout import font_of
from gradsim.engine import theory
from gradsim.engine.config import Config
from gradsim.engine.theory_summary import (
    map_point,
    short_reason,
)

# chi_map costs ~50 ms of table set-up plus a little per cell (161 x 81: ~65 ms, gelu ~110 ms),
# so the grid can be fine, computed once per activation and cached.
W_MAX, B_MAX = 4.0, 2.0
SIGMA_W = np.linspace(0.0, W_MAX, 161)  # x: steps of 0.025, so 1 and √2 ≈ 1.41 are resolved
SIGMA_B = np.linspace(0.0, B_MAX, 81)  # y: steps of 0.025
STEP = 0.025
UPSAMPLE = 4  # display only: bilinear, so saturated edges do not show the cells as stairs
LEVEL = math.log10(2.0)  # colours saturate at a per-layer factor of 1/2 and 2 (2^30 ≈ 10^9)
# ColorBrewer RdBu, blue (low) to red (high) through white: diverging and colour-blind safe.
_RDBU = "#053061 #2166ac #4393c3 #92c5de #d1e5f0 #f7f7f7 #fddbc7 #f4a582 #d6604d #b2182b #67001f"
CMAP = pg.ColorMap(np.linspace(0.0, 1.0, 11), [QtGui.QColor(c) for c in _RDBU.split()])
MARKER = (240, 228, 66)  # Okabe-Ito yellow with a black rim: visible on blue, white and red
EDGE_PEN = (0, 0, 0)  # the χ = 1 line lies on the white middle of the ramp: black shows best


@functools.lru_cache(maxsize=16)
def _factor_grid(activation: str, slope: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """√χ over (SIGMA_B, SIGMA_W), shape (81, 161), and the χ = 1 curve as (N, 2) points
    (σ_w, σ_b), pieces separated by NaN rows."""
    factor = np.sqrt(theory.chi_map(activation, SIGMA_W, SIGMA_B, slope))
    factor.setflags(write=False)
    with np.errstate(divide="ignore"):
        logs = np.maximum(np.log10(factor), -12.0)  # σ_w = 0 gives χ = 0
    pieces = []
    # pg.isocurve: marching squares (~4 ms), vertices in index units + 0.5 (pixel centres).
    for line in pg.isocurve(logs.T, 0.0, connected=True):
        pieces += [(np.asarray(line, dtype=np.float64) - 0.5) * STEP, np.full((1, 2), np.nan)]
    contour = np.concatenate(pieces) if pieces else np.empty((0, 2))
    contour.setflags(write=False)
    return factor, contour


def _grid_key(config: Config) -> tuple[str, float]:
    """Only leaky ReLU reads the slope: other activations share one grid whatever it is."""
    slope = config.leaky_slope if config.activation == "leaky_relu" else 0.0
    return config.activation, float(slope)


def _upsample(values: NDArray[np.float64], k: int) -> NDArray[np.float64]:
    """Bilinear k-fold refinement keeping the corner points (so the image rect stays put)."""
    for axis in (0, 1):
        n = values.shape[axis]
        fine = np.linspace(0.0, n - 1.0, k * (n - 1) + 1)
        lo = np.minimum(fine.astype(int), n - 2)
        t = (fine - lo)[:, None] if axis == 0 else (fine - lo)[None, :]
        values = np.take(values, lo, axis) * (1 - t) + np.take(values, lo + 1, axis) * t
    return values


def _html(text: str, color: str, points: float) -> str:
    return f'<div style="color:{color}; font-size:{points}pt">{text}</div>'


class ChaosMap(pg.GraphicsLayoutWidget):
    """Per-layer gradient factor √χ over (σ_w, σ_b) for the current activation, with the
    edge of chaos (χ = 1) and the current config as a dot."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme, self._scale = DEFAULT_THEME, 1.0
        self._key: tuple[str, float] | None = None  # what the drawn grid is for
        self._wanted: tuple[str, float] | None = None  # what the config asks for
        self._factor, self._contour = np.empty((0, 0)), np.empty((0, 2))
        self._point = self._marker = (math.nan, math.nan)
        self._outside: str | None = None  # why the theory does not cover the config
        self.ci.layout.setContentsMargins(6, 6, 6, 6)
        self.title = pg.LabelItem("", justify="center")
        self.addItem(self.title, 0, 0, 1, 2)
        self.plot = pg.PlotItem(enableMenu=False)
        self.addItem(self.plot, 1, 0)
        vb = self.plot.vb
        vb.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        for key in ("left", "bottom"):  # under the view: the dot may overlap the frame
            self.plot.getAxis(key).setZValue(vb.zValue() - 1)
        # Let the dot draw past the frame: at σ_b = 0 (the usual bias) it sits on the edge.
        vb.setFlag(QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape, False)
        half = STEP / UPSAMPLE / 2  # the outer display pixels are centred on the grid's edge
        self._rect = QtCore.QRectF(-half, -half, W_MAX + 2 * half, B_MAX + 2 * half)
        vb.setRange(rect=self._rect, padding=0.0)
        vb.disableAutoRange()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLookupTable(CMAP.getLookupTable(nPts=256))
        self.contour = pg.PlotCurveItem(connect="finite")
        self.region_labels = {name: pg.TextItem() for name in ("ordered", "chaotic")}
        self.marker = pg.ScatterPlotItem(pxMode=True)
        self.marker_label = pg.TextItem()
        self.arrow = pg.ArrowItem(pen=pg.mkPen(EDGE_PEN), brush=MARKER)
        self.arrow.setVisible(False)
        items = [self.image, self.contour, *self.region_labels.values()]
        for z, item in enumerate([*items, self.marker, self.marker_label, self.arrow]):
            item.setZValue(z)
            self.plot.addItem(item)
        self.colorbar = pg.ColorBarItem(
            values=(-LEVEL, LEVEL), colorMap=CMAP, interactive=False, width=18
        )
        ticks = {0.5: "≤ 0.5", 1 / math.sqrt(2): "0.71", 1.0: "1", math.sqrt(2): "1.41", 2.0: "≥ 2"}
        self.colorbar.axis.setTicks([[(math.log10(v), t) for v, t in ticks.items()]])
        no_si_prefix(self.colorbar.axis)
        self.addItem(self.colorbar, 1, 1)
        self.note = pg.LabelItem("", justify="left")
        self.addItem(self.note, 2, 0, 1, 2)
        self._restyle()

    # --- public API ------------------------------------------------------------------------

    def set_config(self, config: Config) -> None:
        """Show ``config``'s activation map (computed only for a new activation or slope)
        and move the dot to its (σ_w, σ_b)."""
        # The grid costs ~70-250 ms: computed when the map is first seen, not at start-up.
        self._wanted = _grid_key(config)
        if self.isVisible():
            self._ensure_grid()
        self._point = map_point(config)
        reason = theory.limitation(config)
        self._outside = None if reason is None else short_reason(config, reason)
        self._place_marker()

    def showEvent(self, event: QtGui.QShowEvent) -> None:
        self._ensure_grid()
        super().showEvent(event)

    def _ensure_grid(self) -> None:
        if self._wanted is not None and self._wanted != self._key:
            self._key = self._wanted
            self._factor, self._contour = _factor_grid(*self._key)
            self._draw_map()

    def current_point(self) -> tuple[float, float]:
        """(σ_w, σ_b) of the config, unclamped."""
        return self._point

    def marker_position(self) -> tuple[float, float]:
        """Where the dot is drawn: the config's point clamped to the map."""
        return self._marker

    def factor_at(self, sigma_w: float, sigma_b: float) -> float:
        """√χ at (σ_w, σ_b), bilinear between the cached grid's points (exact on them)."""
        self._ensure_grid()
        if self._factor.size == 0:
            return math.nan
        x = float(np.clip(sigma_w / STEP, 0, SIGMA_W.size - 1))
        y = float(np.clip(sigma_b / STEP, 0, SIGMA_B.size - 1))
        i, j = min(int(y), SIGMA_B.size - 2), min(int(x), SIGMA_W.size - 2)
        (a, b), (c, d) = self._factor[i : i + 2, j : j + 2]
        fx, fy = x - j, y - i
        return float((a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy)

    def contour_points(self) -> NDArray[np.float64]:
        """The drawn χ = 1 line as (N, 2) points (σ_w, σ_b); NaN rows separate pieces."""
        self._ensure_grid()
        return self._contour

    def set_font_scale(self, scale: float) -> None:
        """Scale every text and the dot (e.g. 2 for presentation mode)."""
        self._scale = float(scale)
        self._restyle()

    def set_theme(self, theme: Theme) -> None:
        """Restyle background, axes and text for ``theme`` (the map's colours stay)."""
        self._theme = theme
        self._restyle()

    # --- drawing -----------------------------------------------------------------------------

    def _draw_map(self) -> None:
        with np.errstate(divide="ignore"):
            logs = np.clip(np.log10(self._factor), -LEVEL, LEVEL)
        self.image.setImage(_upsample(logs, UPSAMPLE), levels=(-LEVEL, LEVEL), autoLevels=False)
        self.image.setRect(self._rect)  # after setImage: the rect scales by the image size
        self.contour.setData(self._contour[:, 0], self._contour[:, 1])
        # Each region label in the first corner (top ones first: the dot is usually at
        # σ_b = 0) that lies in its region; hidden when the region is not on the map.
        left, right, bottom, top = 4, SIGMA_W.size - 5, 3, SIGMA_B.size - 4  # grid indices
        corners = [(left, top, (0, 0)), (right, top, (1, 0)), (left, bottom, (0, 1))]
        corners.append((right, bottom, (1, 1)))  # (anchor: which corner of the text)
        for name, item in self.region_labels.items():
            fits = [c for c in corners if (self._factor[c[1], c[0]] < 1.0) == (name == "ordered")]
            item.setVisible(bool(fits))
            if fits:
                j, i, anchor = fits[0]
                item.setAnchor(pg.Point(*anchor))
                item.setPos(SIGMA_W[j], SIGMA_B[i])
        self._update_texts()

    def _place_marker(self) -> None:
        sw, sb = self._point
        x, y = min(max(sw, 0.0), W_MAX), min(max(sb, 0.0), B_MAX)
        self._marker = (x, y)
        off_w, off_b = sw > W_MAX, sb > B_MAX
        self.arrow.setVisible(off_w or off_b)
        if off_w or off_b:  # ArrowItem: angle 0 points left, 180 right, 90 up (screen)
            self.arrow.setStyle(angle=180.0 if not off_b else (90.0 if not off_w else 135.0))
            self.arrow.setPos(x, y)
        # Text beside the dot, on the side with room (anchor fractions of the text box).
        right, high = x > 0.6 * W_MAX, y > 0.7 * B_MAX
        self.marker_label.setAnchor(pg.Point(1.12 if right else -0.12, -0.15 if high else 1.15))
        self.marker_label.setPos(x, y)
        self._style_marker()
        self._update_marker_texts()

    def _style_marker(self) -> None:
        s = self._scale
        if self._outside:  # hollow and grey: the theory does not describe this net
            pen, brush = pg.mkPen((150, 150, 150), width=3 * s), pg.mkBrush(None)
        else:
            pen, brush = pg.mkPen(EDGE_PEN, width=2 * s), pg.mkBrush(MARKER)
        pos = [self._marker] if np.isfinite(self._marker).all() else []  # none before a config
        self.marker.setData(pos=pos, size=14 * s, pen=pen, brush=brush, symbol="o")
        self.arrow.setStyle(headLen=14 * s, tailLen=10 * s)

    def _update_texts(self) -> None:
        fg, tick_pt = self._theme.foreground, BASE_TICK_PT * self._scale
        activation, slope = self._key or ("", 0.0)
        name = f"leaky ReLU (slope {slope:g})" if activation == "leaky_relu" else activation
        self.title.setText(
            f"order to chaos: {name}", color=fg, size=f"{BASE_LABEL_PT * self._scale}pt"
        )
        # Three short lines each, so they stay clear of the edge of chaos at σ_w ≈ 1.
        texts = {
            "ordered": "ordered:<br>gradients<br>vanish",
            "chaotic": "chaotic:<br>gradients<br>explode",
        }
        fill = QtGui.QColor(self._theme.background)
        fill.setAlpha(170)  # the map shows through
        for key, item in self.region_labels.items():
            item.setHtml(_html(texts[key], fg, 0.9 * tick_pt))
            item.fill = pg.mkBrush(fill)
        self._update_marker_texts()

    def _update_marker_texts(self) -> None:
        fg, tick_pt = self._theme.foreground, BASE_TICK_PT * self._scale
        sw, sb = self._point
        label = "your net"
        if sw > W_MAX or sb > B_MAX:  # a second line: one would be wider than the map
            off = [f"σ_w = {sw:.3g}"] if sw > W_MAX else []
            off += [f"σ_b = {sb:.3g}"] if sb > B_MAX else []
            label += f"<br>(off the map: {', '.join(off)})"
        fill = QtGui.QColor(self._theme.background)
        fill.setAlpha(215)
        self.marker_label.setHtml(_html(label, fg, tick_pt))
        self.marker_label.fill = pg.mkBrush(fill)
        notes = ["map: infinite width, random bias N(0, σ_b²)"]
        if self._contour.size == 0 and self._key is not None:
            notes.append(f"no edge of chaos: {self._key[0]} is ordered everywhere here")
        if self._outside:
            notes.append(f"grey dot: {self._outside}")
        self.note.setText("<br>".join(notes), color=fg, size=f"{0.9 * tick_pt}pt")  # >= 24 px shown
        self._wrap_note()

    def _wrap_note(self) -> None:
        """A LabelItem never wraps, and a line wider than the widget would widen the whole
        layout past its edge: wrap the note to the widget's width."""
        self.note.item.setTextWidth(max(self.width() - 24, 80))
        self.note.updateMin()

    def resizeEvent(self, event: QtGui.QResizeEvent | None) -> None:
        if hasattr(self, "note"):  # GraphicsView's constructor resizes before __init__ ends
            self._wrap_note()
        super().resizeEvent(event)

    def _restyle(self) -> None:
        theme, scale, fg = self._theme, self._scale, self._theme.foreground
        self.setBackground(theme.background)
        pen = pg.mkPen(fg)
        tick_font, label_font = font_of(BASE_TICK_PT * scale), font_of(BASE_LABEL_PT * scale)
        tick_h = QtGui.QFontMetrics(tick_font).height()
        bottom_h = tick_h + QtGui.QFontMetrics(label_font).height() + 12
        axes = {"bottom": "σ_w  (weight std × √fan_in)", "left": "σ_b  (bias size)"}
        for key, label in axes.items():
            axis = self.plot.getAxis(key)
            # Fixed sizes (style_axis does the left one): auto sizes catch up a paint late.
            style_axis(axis, label, scale, widest_tick="2.0" if key == "left" else "")
            axis.setPen(pen)  # theme colours set here: style_axis's own are not relied on
            axis.setTextPen(pen)
            axis.setLabel(label, color=fg, **{"font-size": f"{BASE_LABEL_PT * scale}pt"})
        self.plot.getAxis("bottom").setHeight(bottom_h)
        # The bar spans the map only: its blank bottom frame axis as tall as the map's axis.
        self.colorbar.getAxis("bottom").setHeight(bottom_h)
        for key in ("left", "top", "bottom", "right"):
            self.colorbar.getAxis(key).setPen(pen)
        bar_axis = self.colorbar.axis
        bar_axis.setTickFont(tick_font)
        bar_axis.setTextPen(pen)
        # Two lines at tick size: one line outgrows the bar's height at projector sizes.
        bar_label = "per-layer gradient<br>factor √χ"
        bar_axis.setLabel(bar_label, color=fg, **{"font-size": f"{BASE_TICK_PT * scale}pt"})
        bar_axis.setWidth(
            QtGui.QFontMetrics(tick_font).horizontalAdvance("≥ 1.41") + 2 * tick_h + 8
        )
        # The projector theme doubles line_width already; the text scale leaves lines alone.
        self.contour.setPen(pg.mkPen(EDGE_PEN, width=1.25 * theme.line_width))
        self._style_marker()
        self._update_texts()
        self.ci.layout.activate()
