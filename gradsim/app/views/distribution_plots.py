"""The numbers and plot items behind the distributions panel (distributions_view.py).

The numpy part says what is drawn, so tests can check it without reading pixels: which
layers a ridgeline draws (``ridge_layers``), each layer's share of values per bin and in the
columns beside the bins (``Panel``), the image's colours (``share_rgba``) and the percentile
bands over time (``band_quantiles``, ``Histogram.quantiles`` for many entries at once). The
Qt part is one item that paints every ridge (``RidgeItem``) and axes that tick only where
their numbers mean something (``BoundedAxis``, ``LayerAxis``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6 import QtCore, QtGui

from gradsim.app.views.colors import NONFINITE_RGBA, VIRIDIS_LUT, colorize_log_packed
from gradsim.app.views.plot_parts import IntegerAxis, LogAxis, StableRange, TickLevels
from gradsim.engine.distributions import LOG_KINDS, Histogram, StepDistributions

QS: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)  # TensorBoard's bands, and the median
MAX_RIDGES = 25  # more ridges than this stop reading as separate curves
RIDGE_PX = 16.0  # and none closer together than this (pixels, at font scale 1)
OVERLAP = 1.6  # a ridge's full height, in ridge spacings: peaks rise into the next band
LOG10_2 = math.log10(2.0)
MIN_SHARE_DECADES = -6.0  # the colour scale's floor, whatever the layer size


# -- which layers ---------------------------------------------------------------------------


def ridge_step(rows: int, height_px: float, min_px: float = RIDGE_PX) -> int:
    """k of "every k-th layer": at most MAX_RIDGES ridges, at least ``min_px`` apart."""
    fit = int(height_px // min_px) if height_px > 0 else MAX_RIDGES
    most = max(1, min(MAX_RIDGES, fit))
    return max(1, math.ceil(rows / most))


def ridge_layers(rows: int, k: int, chosen: int | None) -> NDArray[np.intp]:
    """0-based layers a ridgeline draws: the first, every k-th (layers k, 2k, ... counted from
    1, so they fall on round numbers), the last, and the chosen one if it is among ``rows``."""
    picked = {0, rows - 1, *range(k - 1, rows, k)}
    if chosen is not None and 0 <= chosen < rows:
        picked.add(chosen)
    return np.array(sorted(p for p in picked if p >= 0), dtype=np.intp)


def ordinal(k: int) -> str:
    """ "every layer", "every 2nd layer", "every 4th layer"."""
    if k == 1:
        return "every layer"
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"every {k}{suffix} layer"


# -- what one step's histogram shows --------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """Values outside the bins, drawn as a column beside them: left, those below a value
    window or exact zeros (no octave holds them); right, those above the window, with the
    inf/nan stacked on them in magenta (log kinds: the inf/nan alone)."""

    name: str  # "below", "zero", "above" or "nonfinite"
    label: str  # one short line, under the column
    left: bool
    counts: NDArray[np.int64]  # (rows,) finite values in the column
    nonfinite: NDArray[np.int64]  # (rows,) inf/nan in the column

    @property
    def total(self) -> NDArray[np.int64]:
        total: NDArray[np.int64] = self.counts + self.nonfinite
        return total


@dataclass(frozen=True)
class Panel:
    """One kind's histogram at one step, as the all-layers plot draws it.

    Value kinds: when the output layer has its own window (``output_apart``: it is linear,
    binned over [-4, 4] while tanh's h is binned over [-1, 1]) it cannot share the x axis,
    so only the hidden layers are drawn. Log kinds: x is log10 |x|, one bin per octave.
    """

    histogram: Histogram
    rows: int  # layers drawn: 0 .. rows - 1
    x_edges: NDArray[np.float64]  # bin edges in plot units (value, or log10 |x|)
    counts: NDArray[np.int64]  # (rows, bins)
    totals: NDArray[np.int64]  # (rows,): every value of the layer, the columns' included
    columns: tuple[Column, Column]  # left, right
    output_apart: bool

    @property
    def log(self) -> bool:
        return self.histogram.scale == "log2"

    def fractions(self) -> NDArray[np.float64]:
        """(rows, bins): each bin's share of its layer's values (0 for an empty layer)."""
        return _shares(self.counts, self.totals)

    def column_fractions(self) -> NDArray[np.float64]:
        """(rows, 2): each column's share of its layer's values (inf/nan included)."""
        return _shares(np.stack([c.total for c in self.columns], axis=1), self.totals)


def _shares(counts: NDArray[np.int64], totals: NDArray[np.int64]) -> NDArray[np.float64]:
    safe = np.maximum(totals, 1).astype(np.float64)
    shares: NDArray[np.float64] = counts / safe[:, None]
    return shares


def number(value: float) -> str:
    """ "−4", "0.5", "−0.04": a window's edge in a label (with a true minus sign)."""
    return f"{value:.3g}".replace("-", "−")


def panel_of(histogram: Histogram) -> Panel:
    """What the all-layers plot draws of ``histogram`` (see Panel)."""
    depth = histogram.depth
    apart = histogram.output_edges is not None and depth > 1
    rows = depth - 1 if apart else depth
    none = np.zeros(rows, dtype=np.int64)
    nonfinite = histogram.nonfinite[:rows]
    if histogram.scale == "log2":
        x_edges = histogram.log2_edges * LOG10_2
        left = Column("zero", "0", True, histogram.below[:rows], none)
        right = Column("nonfinite", "inf/nan", False, none, nonfinite)
    else:
        x_edges = np.asarray(histogram.layer_edges(rows - 1), dtype=np.float64)
        lo, hi = number(float(x_edges[0])), number(float(x_edges[-1]))
        left = Column("below", f"< {lo}", True, histogram.below[:rows], none)
        right = Column("above", f"≥ {hi}", False, histogram.above[:rows], nonfinite)
    totals = histogram.totals()[:rows]
    return Panel(histogram, rows, x_edges, histogram.counts[:rows], totals, (left, right), apart)


def column_spans(
    lo: float, hi: float, width: float, gap: float
) -> tuple[tuple[float, float], tuple[float, float]]:
    """x extents of the left and right columns: ``width`` wide, ``gap`` from the bins."""
    return (lo - gap - width, lo - gap), (hi + gap, hi + gap + width)


# -- the image ------------------------------------------------------------------------------


def share_levels(totals: NDArray[np.int64]) -> tuple[float, float]:
    """Colour levels (decades of share): from the smallest share a layer can have (one value
    of the largest layer) to 1. Fixed for a net, so a colour keeps its meaning all run."""
    most = int(totals.max()) if totals.size else 1
    lo = math.floor(math.log10(1.0 / max(most, 1))) if most > 1 else -1.0
    return max(MIN_SHARE_DECADES, float(lo)), 0.0


def share_rgba(shares: NDArray[np.float64], levels: tuple[float, float]) -> NDArray[np.uint8]:
    """RGBA (rows, columns, 4) of shares coloured by decade on viridis; empty bins are
    transparent (the background shows: nothing there)."""
    with np.errstate(divide="ignore"):
        logs = np.log10(shares)
    packed = colorize_log_packed(logs, *levels, VIRIDIS_LUT, underflow=(0, 0, 0, 0))
    packed = np.ascontiguousarray(packed)
    return packed.view(np.uint8).reshape((*packed.shape, 4))


def column_rgba(
    column: Column, totals: NDArray[np.int64], levels: tuple[float, float]
) -> NDArray[np.uint8]:
    """RGBA (rows, 1, 4) of a column: its share like a bin's, magenta where it holds inf/nan
    (the heatmap's overflow colour: "the scale broke here" is never a mere colour of share)."""
    shares = _shares(column.total[:, None], totals)
    rgba = share_rgba(shares, levels)
    rgba[column.nonfinite > 0, 0] = NONFINITE_RGBA
    return rgba


# -- bands over time ------------------------------------------------------------------------


def band_quantiles(
    entries: Sequence[StepDistributions], kind: str, layer: int, qs: Sequence[float] = QS
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """``DistributionHistory.over_time`` for a list of entries, in one numpy pass.

    The same arithmetic as ``Histogram.quantiles``, on every entry at once (entries padded
    to the widest histogram): several times faster, so hovering over the layers of a long
    run never stalls the window.
    """
    q = np.asarray(qs, dtype=np.float64)
    steps = np.array([e.step for e in entries], dtype=np.int64)
    n = len(entries)
    if n == 0:
        return steps, np.empty((0, q.size))
    hists = [e.histograms[kind] for e in entries]
    widths = np.array([h.counts.shape[1] for h in hists])
    m = int(widths.max()) + 2
    mass = np.zeros((n, m), dtype=np.int64)
    for i, h in enumerate(hists):
        b = widths[i]
        mass[i, 0] = h.below[layer]
        mass[i, 1 : b + 1] = h.counts[layer]
        mass[i, b + 1] = h.above[layer]
    slots = np.arange(m)
    ends = widths[:, None] + 1  # each entry's "above" slot
    if kind in LOG_KINDS:
        first = np.array([np.frexp(h.edges[0])[1] - 1 for h in hists], dtype=np.float64)
        # Slot j in 1..b (bin j - 1) spans exponents [k0 + j - 1, k0 + j]; "above" (and the
        # padding after it, never picked) is the point k0 + b, the top edge.
        inner = np.minimum(slots[None, :], ends)
        lower = np.where(slots == 0, 0.0, first[:, None] + inner - 1)
        upper = np.where(slots == 0, 0.0, first[:, None] + inner - (slots >= ends))
    else:
        lower, upper = np.empty((n, m)), np.empty((n, m))
        for i, h in enumerate(hists):
            edges, b = h.layer_edges(layer), widths[i]
            lower[i, : b + 2] = np.concatenate(([edges[0]], edges[:-1], [edges[-1]]))
            upper[i, : b + 2] = np.concatenate(([edges[0]], edges[1:], [edges[-1]]))
    cumulative = np.cumsum(mass, axis=1)
    total = cumulative[:, -1]
    nonzero = mass != 0
    last = m - 1 - np.argmax(nonzero[:, ::-1], axis=1)
    bands = np.full((n, q.size), np.nan)
    rows = np.flatnonzero(total > 0)
    if rows.size == 0:
        return steps, bands
    cum, msz = cumulative[rows], mass[rows]
    lo, hi = lower[rows], upper[rows]
    for j, qj in enumerate(q):
        rank = qj * total[rows]
        slot = np.minimum(np.count_nonzero(cum <= rank[:, None], axis=1), last[rows])
        pick = slot[:, None]
        slot_mass = np.take_along_axis(msz, pick, axis=1)[:, 0]
        before = np.take_along_axis(cum, pick, axis=1)[:, 0] - slot_mass
        fraction = np.clip((rank - before) / slot_mass, 0.0, 1.0)
        a = np.take_along_axis(lo, pick, axis=1)[:, 0]
        b = np.take_along_axis(hi, pick, axis=1)[:, 0]
        position = a + fraction * (b - a)
        if kind in LOG_KINDS:
            with np.errstate(over="ignore"):
                magnitude = np.minimum(np.exp2(position), np.finfo(np.float64).max)
            position = np.where(slot == 0, 0.0, magnitude)
        bands[rows, j] = position
    return steps, bands


# -- Qt items -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    """A column's bar on a ridge: its finite values, then its inf/nan stacked in magenta."""

    x0: float
    x1: float
    height: float
    nonfinite: float
    name: str  # the column's


@dataclass(frozen=True)
class Ridge:
    """One layer's ridge: a staircase over the bins, and its columns' bars, from ``base``."""

    layer: int  # 0-based
    base: float
    x_edges: NDArray[np.float64]
    heights: NDArray[np.float64]  # (bins,) above the base
    bars: tuple[Bar, Bar]  # the left and right columns'
    highlighted: bool

    def height_at(self, x: float) -> float:
        """The ridge's height at ``x`` (bars included), 0 outside it."""
        for bar in self.bars:
            if bar.x0 <= x <= bar.x1:
                return bar.height + bar.nonfinite
        i = int(np.searchsorted(self.x_edges, x, side="right")) - 1
        return float(self.heights[i]) if 0 <= i < self.heights.size else 0.0


@dataclass(frozen=True)
class RidgeStyle:
    """Pens and brushes of the ridges: the chosen layer's own, a column's by its name (else
    the ridge's), inf/nan's."""

    pen: QtGui.QPen
    brush: QtGui.QBrush
    highlight_pen: QtGui.QPen
    highlight_brush: QtGui.QBrush
    bar_brushes: dict[str, QtGui.QBrush]
    nonfinite_brush: QtGui.QBrush


class RidgeItem(pg.GraphicsObject):
    """Every ridge of a ridgeline in one item: filled from the back (top) to the front
    (bottom), so a lower layer's peaks hide the base of the one behind, and the chosen layer
    last, on top. Some 25 filled polygons: a fraction of a millisecond a paint."""

    def __init__(self) -> None:
        super().__init__()
        self._ridges: list[Ridge] = []
        self._paths: list[tuple[QtGui.QPainterPath, Ridge]] = []
        self._style: RidgeStyle | None = None
        self._bounds = QtCore.QRectF()

    @property
    def ridges(self) -> list[Ridge]:
        return list(self._ridges)

    def set_ridges(self, ridges: list[Ridge], style: RidgeStyle) -> None:
        self.prepareGeometryChange()
        self._ridges, self._style = ridges, style
        order = sorted(ridges, key=lambda r: (r.highlighted, -r.base))
        self._paths = []
        bounds = QtCore.QRectF()
        for ridge in order:
            x = np.repeat(ridge.x_edges, 2)
            y = np.concatenate(([0.0], np.repeat(ridge.heights, 2), [0.0])) + ridge.base
            path = pg.arrayToQPath(x, y, connect="all")
            path.closeSubpath()
            self._paths.append((path, ridge))
            bounds = bounds.united(path.boundingRect())
            for bar in ridge.bars:
                top = bar.height + bar.nonfinite
                bounds = bounds.united(QtCore.QRectF(bar.x0, ridge.base, bar.x1 - bar.x0, top))
        self._bounds = bounds
        self.update()

    def boundingRect(self) -> QtCore.QRectF:
        return self._bounds

    def paint(self, painter: QtGui.QPainter, *args: object) -> None:
        style = self._style
        if style is None:
            return
        for path, ridge in self._paths:
            pen = style.highlight_pen if ridge.highlighted else style.pen
            brush = style.highlight_brush if ridge.highlighted else style.brush
            painter.setPen(pen)
            painter.setBrush(brush)
            painter.drawPath(path)
            for bar in ridge.bars:
                width = bar.x1 - bar.x0
                if bar.height > 0:
                    painter.setBrush(style.bar_brushes.get(bar.name, brush))
                    painter.drawRect(QtCore.QRectF(bar.x0, ridge.base, width, bar.height))
                if bar.nonfinite > 0:
                    painter.setBrush(style.nonfinite_brush)
                    base = ridge.base + bar.height
                    painter.drawRect(QtCore.QRectF(bar.x0, base, width, bar.nonfinite))


class BoundedAxis(LogAxis):
    """An axis that ticks only inside ``bounds`` (the bins: the columns beside them and the
    label strip under them have no values). Linear or log (``setLogMode``): a log axis
    prints 10^v at v, as the data there are log10 of the magnitudes."""

    def __init__(self, orientation: str, **kwargs: object) -> None:
        super().__init__(orientation, **kwargs)
        self.bounds: tuple[float, float] | None = None

    def set_bounds(self, bounds: tuple[float, float] | None) -> None:
        if bounds != self.bounds:
            self.bounds = bounds
            self.picture = None
            self.update()

    def allTickValues(self, minVal: float, maxVal: float, size: float) -> TickLevels:
        return _within(super().allTickValues(minVal, maxVal, size), self.bounds)

    def tickSpacing(
        self, minVal: float, maxVal: float, size: float
    ) -> list[tuple[float, float]]:
        """pyqtgraph's spacings, less those whose labels would touch ("-8-7-6-5" on a narrow
        axis): a linear horizontal axis keeps a label's width and a space between ticks."""
        levels: list[tuple[float, float]] = super().tickSpacing(minVal, maxVal, size)
        if self.logMode or self.orientation not in ("top", "bottom") or maxVal <= minVal:
            return levels
        metrics = QtGui.QFontMetricsF(self.style["tickFont"] or QtGui.QFont())
        least = metrics.horizontalAdvance("−0.25 ")  # the widest label a value window has
        per_unit = size / (maxVal - minVal)
        wide = [(spacing, offset) for spacing, offset in levels if spacing * per_unit >= least]
        if wide:
            return wide
        step = levels[0][0] if levels else 1.0
        while step * per_unit < least:
            step *= 2
        return [(step, 0.0)]


class LayerAxis(IntegerAxis):
    """Layers axis: whole numbers from 1 to the last layer drawn, nothing in the strip of
    column labels below layer 1."""

    def __init__(self, orientation: str, **kwargs: object) -> None:
        super().__init__(orientation, **kwargs)
        self.bounds: tuple[float, float] | None = None

    def allTickValues(self, minVal: float, maxVal: float, size: float) -> TickLevels:
        return _within(super().allTickValues(minVal, maxVal, size), self.bounds)


def _within(levels: TickLevels, bounds: tuple[float, float] | None) -> TickLevels:
    if bounds is None:
        return levels
    lo, hi = bounds
    slack = 1e-9 * max(1.0, abs(hi - lo))
    return [(s, [v for v in values if lo - slack <= v <= hi + slack]) for s, values in levels]


# -- one layer over time --------------------------------------------------------------------


def _extent(values: NDArray[np.float64]) -> tuple[float, float]:
    """(min, max) of the finite values; (inf, -inf) when there are none."""
    finite = np.isfinite(values)
    return (
        float(np.min(values, where=finite, initial=np.inf)),
        float(np.max(values, where=finite, initial=-np.inf)),
    )


class BandPlot:
    """Percentile bands of one layer against step (TensorBoard's distributions): 5-95 % and
    25-75 % filled, the median a line, on a log axis for the log kinds.

    A log axis cannot show 0, yet a quantile of a vanishing gradient is often exactly 0: such
    points are drawn on a dashed "0 (underflow)" line a decade under the smallest positive
    value, and named there.
    """

    def __init__(self, plot: pg.PlotItem) -> None:
        self.plot = plot
        self.curves = [pg.PlotDataItem(connect="finite") for _ in QS]
        for curve in self.curves:
            plot.addItem(curve)
        self.outer = pg.FillBetweenItem(self.curves[0], self.curves[4])
        self.inner = pg.FillBetweenItem(self.curves[1], self.curves[3])
        plot.addItem(self.outer)
        plot.addItem(self.inner)
        self.curves[2].setZValue(2)
        self.zero_line = pg.InfiniteLine(angle=0, movable=False)
        self.zero_text = pg.TextItem("0 (underflow)", anchor=(0, 1))
        self.mark = pg.InfiniteLine(angle=90, movable=False)  # the step shown, when replaying
        for item in (self.zero_line, self.zero_text, self.mark):
            item.setVisible(False)
            plot.addItem(item, ignoreBounds=True)
        self.steps = np.empty(0, dtype=np.int64)
        self.values = np.empty((0, len(QS)))  # the quantiles, as computed (0 stays 0)
        self._range = StableRange()

    def reset(self) -> None:
        """A new run, another kind or layer: the value range starts afresh."""
        self._range.reset()

    def set_bands(
        self,
        steps: NDArray[np.int64],
        values: NDArray[np.float64],
        log: bool,
        window: tuple[float, float] | None,
        mark: int | None,
    ) -> None:
        """Draw ``values`` (n, len(QS)) at ``steps``; ``window``: a value kind's clamped range."""
        self.steps, self.values = steps, values
        axis = self.plot.getAxis("left")
        if axis.logMode != log:
            axis.setLogMode(log)
        y = values.copy()
        floor = None
        if log:
            with np.errstate(divide="ignore", invalid="ignore"):
                y = np.log10(values)
            zeros = values == 0
            lo, hi = _extent(y)
            if zeros.any():
                floor = math.floor(min(lo, hi)) - 1.0 if lo <= hi else -1.0
                y[zeros] = floor
                lo, hi = floor, max(hi, floor + 1.0)
            self._range.min_span = 1.0
        else:
            lo, hi = _extent(values)
            if window is not None:
                self._range.min_span = (window[1] - window[0]) / 8
        y_range = self._range.update(lo, hi) or window or (-1.0, 1.0)
        for j, curve in enumerate(self.curves):
            curve.setData(steps.astype(np.float64), y[:, j])
        self.zero_line.setVisible(floor is not None)
        self.zero_text.setVisible(floor is not None)
        if floor is not None:
            self.zero_line.setValue(floor)
            self.zero_text.setPos(float(steps[0]) if steps.size else 0.0, floor)
        self.mark.setVisible(mark is not None)
        if mark is not None:
            self.mark.setValue(float(mark))
        if steps.size:
            first, last = float(steps[0]), float(steps[-1])
            pad = max(0.5, 0.02 * (last - first))
            x_range = (first - pad, last + pad)
        else:
            x_range = (-0.5, 10.0)
        self.plot.vb.setRange(xRange=x_range, yRange=y_range, padding=0.0)

    def style(
        self, color: tuple[int, ...], line_width: float, zero: tuple[int, ...], foreground: str
    ) -> None:
        """Colours: the bands in ``color`` (the chosen layer's), the zero line in ``zero``."""
        r, g, b = color[:3]
        edge = pg.mkPen((r, g, b, 120), width=1)
        for j, curve in enumerate(self.curves):
            curve.setPen(pg.mkPen(color, width=line_width * 1.25) if j == 2 else edge)
        # Dots on the median at the steps measured: they are sparse (a few a second), and a
        # single measurement would otherwise draw nothing at all.
        median = self.curves[2]
        median.setSymbol("o")
        median.setSymbolSize(4 + 2 * line_width)
        median.setSymbolBrush(pg.mkBrush(color))
        median.setSymbolPen(None)
        self.outer.setBrush(pg.mkBrush(r, g, b, 55))
        self.inner.setBrush(pg.mkBrush(r, g, b, 120))
        self.zero_line.setPen(pg.mkPen(zero, width=line_width, style=QtCore.Qt.PenStyle.DashLine))
        self.zero_text.setColor(foreground)
        self.mark.setPen(pg.mkPen(foreground, width=line_width))
