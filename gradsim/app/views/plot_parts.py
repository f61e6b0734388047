"""Axes and view ranges shared by the line plots and the heatmap.

Painting runs on the UI thread, so these pieces keep it cheap: the view range is settled when
data is set (``settle_range``), a log axis's range holds still while noisy data stays inside it
(``StableRange``), grid lines are opaque and under the data (``GridAxis``), and nothing restyles
an axis unless its text really changes.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6 import QtCore, QtGui

from gradsim.app.views.colors import to_hex
from gradsim.app.views.themes import DEFAULT_THEME, Theme

BASE_TICK_PT = 12.0  # sizes at font scale 1, chosen for a 1920x1080 projector
BASE_LABEL_PT = 14.0
HOVER_RATE_HZ = 30  # mouse moves handled per second at most: hovering never slows training
MIN_TITLE_PT = 18.0  # 24 px: an axis title shrunk to fit its axis goes no smaller
FEW_POINTS = 200  # up to this many points, the loss line also shows its points
MIN_GRID_CONTRAST = 4  # grid lines closer than this (of 255) to the background are not drawn

# AxisItem.tickValues: one (spacing, tick values) pair per level, coarsest first.
TickLevels = list[tuple[float, list[float]]]
# AxisItem.generateDrawSpecs: the axis line and each tick line as (pen, start, end), and each
# label as (rectangle, alignment and text flags, text).
_Line = tuple[QtGui.QPen, QtCore.QPointF, QtCore.QPointF]
DrawSpecs = tuple[_Line, list[_Line], list[tuple[QtCore.QRectF, object, str]]]


def settle_range(view: pg.ViewBox) -> None:
    """Apply a pending auto-range now, before the next paint.

    pyqtgraph recomputes the auto-range lazily at the start of a paint; the range change that
    follows marks the scene dirty from inside the paint, and Qt then paints the whole view a
    second time a frame later. Settling it right after new data gives one paint per update.
    A downsampled curve redraws for the new range and may move its bounds once more, so this
    repeats until the range holds (at most a few rounds; pyqtgraph damps that cycle).
    """
    for _ in range(4):
        before = view.viewRange()
        view.updateAutoRange()  # returns at once when auto-range is off (the user zoomed)
        view.updateMatrix()  # no-op unless the range changed
        if view.viewRange() == before:
            return


def _nice_step(x: float) -> float:
    """The largest 1, 2 or 5 x 10^k not above ``x`` (> 0)."""
    power = 10.0 ** math.floor(math.log10(x))
    return max(m * power for m in (1.0, 2.0, 5.0) if m * power <= x * (1 + 1e-9))


class StableRange:
    """Range of a live log axis (in decades) that holds still while the data stays in it.

    A range that hugs the data moves a little with every frame of noise: the axis then lays out
    its tick text again and every curve redraws for the new range, each paint. This one moves
    only when the data leaves it or fills less than ``min_fill`` of it; it then spans the data
    plus ``margin`` of its span on each side, rounded outward to a 1-2-5 step of about a tenth
    of the span (whole decades for wide ranges).
    """

    def __init__(self, margin: float = 0.03, min_fill: float = 0.5, min_span: float = 1.0):
        self.margin = margin
        self.min_fill = min_fill
        # Decades: a (nearly) constant series (or a lone first point) gets a range with at
        # least two well-spaced tick labels in it, and looks flat rather than magnified noise.
        self.min_span = min_span
        self.range: tuple[float, float] | None = None

    def reset(self) -> None:
        """Forget the range (a new run)."""
        self.range = None

    def update(self, lo: float, hi: float) -> tuple[float, float] | None:
        """Feed the data's extent [lo, hi] (decades); return the range to show. Non-finite
        input (nothing to show) keeps the current range, None before any data."""
        if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
            return self.range
        if self.range is not None:
            a, b = self.range
            if a <= lo and hi <= b and max(hi - lo, self.min_span) >= self.min_fill * (b - a):
                return self.range
        if hi - lo < self.min_span:  # centre (nearly) constant data in the smallest range
            mid = (lo + hi) / 2
            lo, hi = mid - self.min_span / 2, mid + self.min_span / 2
        span = hi - lo
        step = _nice_step(span / 10)
        pad = self.margin * span
        self.range = (
            math.floor((lo - pad) / step) * step,
            math.ceil((hi + pad) / step) * step,
        )
        return self.range


class _RangeAnchor(pg.GraphicsObject):
    """Invisible item whose bounds are what the view shows while it auto-ranges.

    The plotted items are added with ``ignoreBounds=True``, so pyqtgraph's auto-range (and the
    user's zoom, pan and "A" button) works as usual but fits this box, which the plot sets from
    its data (see StableRange); it also spares auto-range a pass over every curve's data.
    """

    def __init__(self) -> None:
        super().__init__()
        self._bounds: tuple[tuple[float, float] | None, ...] = (None, None)

    def set_bounds(self, x: tuple[float, float] | None, y: tuple[float, float] | None) -> None:
        """Box in view coordinates (decades on a log axis); None leaves an axis alone."""
        if (x, y) != self._bounds:
            self._bounds = (x, y)
            self.informViewBoundsChanged()

    def dataBounds(
        self, ax: int, frac: float = 1.0, orthoRange: object = None
    ) -> tuple[float, float] | None:
        return self._bounds[ax]

    def boundingRect(self) -> QtCore.QRectF:
        return QtCore.QRectF()

    def paint(self, *args: object) -> None:
        pass


def _padded(values: NDArray[np.number], pixels: float) -> tuple[float, float] | None:
    """(min, max) of ``values`` widened on each side by the share of the span pyqtgraph's
    auto-range pads with on an axis ``pixels`` long (2-10 %; at least half a unit), so end
    points, their symbols and the last tick label are not cut; None when empty."""
    if values.size == 0:
        return None
    lo, hi = float(values.min()), float(values.max())
    fraction = min(max(1.0 / math.sqrt(pixels), 0.02), 0.1) if pixels > 0 else 0.02
    pad = max(fraction * (hi - lo), 0.5)
    return lo - pad, hi + pad


def _log_extent(values: NDArray[np.number]) -> tuple[float, float]:
    """(min, max) of log10 of positive finite ``values``; (inf, -inf) when there are none."""
    if values.size == 0:
        return math.inf, -math.inf
    return math.log10(float(values.min())), math.log10(float(values.max()))


def _rgb(color: QtGui.QColor) -> tuple[int, int, int]:
    """Red, green and blue, 0-255 (QColor.getRgb()'s first three; its stub says "object")."""
    return color.red(), color.green(), color.blue()


def _over_background(color: QtGui.QColor, background: str) -> QtGui.QColor:
    """The opaque colour that ``color`` (with its alpha) shows over ``background``."""
    alpha = color.alphaF()
    bg = QtGui.QColor(background)
    mix = [round(alpha * c + (1.0 - alpha) * b) for c, b in zip(_rgb(color), _rgb(bg), strict=True)]
    return QtGui.QColor(*mix)


class GridAxis(pg.AxisItem):
    """Axis whose grid lines are opaque: the colour pyqtgraph's translucent ones show over the
    background, at a fraction of the cost (blending ~100 log-grid lines cost ~5 ms a paint).
    Opaque lines would hide the data where they cross it, so the plots put these axes under
    their view box (see BasePlot). Levels of grid lines too faint to see (pyqtgraph fades
    dense levels, e.g. 2..9 x 10^k over 14 decades) are not drawn at all. Without a grid it is
    a plain AxisItem.

    Subclasses choose ticks in ``allTickValues`` (what ``tickValues`` is for a plain axis).
    """

    def __init__(self, orientation: str, **kwargs: object) -> None:
        super().__init__(orientation, **kwargs)
        self._opaque_pens: dict[int, QtGui.QPen] = {}
        self._background = DEFAULT_THEME.background
        self._wanted_pt: float | None = None  # the title's own size (style_axis sets it)
        self._fitted_size: str | None = None  # the size fit_label last gave it
        self._shown_label = ""  # the text fit_label last drew (the title, or its short form)
        self._fitted_for: str | None = None  # the title that text stands for

    def labelString(self) -> str:
        """The title as drawn: its short form when ``fit_label`` chose one. pyqtgraph rebuilds
        the label from ``labelText`` on every range or prefix change; ``labelText`` itself
        stays the whole title (restyles, tests)."""
        title: str = getattr(self, "labelText", "")
        shown = getattr(self, "_shown_label", "")
        if not shown or shown == title or getattr(self, "_fitted_for", None) != title:
            return str(super().labelString())
        self.labelText = shown
        try:
            return str(super().labelString())
        finally:
            self.labelText = title

    def resizeEvent(self, ev: object = None) -> None:
        if hasattr(self, "_fitted_size"):  # pyqtgraph resizes it inside __init__
            self.fit_label()
        super().resizeEvent(ev)

    def fit_label(self) -> None:
        """Shrink the title to the axis's length if it is longer (a short plot in presentation
        mode), never below 24 px nor the ticks' size; back to its own size when there is room.
        pyqtgraph centres a title on its axis: a longer one was cut at both ends."""
        style: dict[str, str] = getattr(self, "labelStyle", {})  # untyped in pyqtgraph
        size = style.get("font-size")
        if size != self._fitted_size:  # set anew (style_axis): the size the title wants
            self._wanted_pt = _points(size)
        wanted = self._wanted_pt
        if wanted is None or not getattr(self, "labelText", ""):
            return
        vertical = self.orientation in ("left", "right")
        length = self.geometry().height() if vertical else self.geometry().width()
        # Never below the ticks' size, nor below 24 px (18 pt): what the back of a hall reads.
        floor = min((self.style["tickFont"] or QtGui.QFont()).pointSizeF(), MIN_TITLE_PT)
        # The whole title if it fits at some size from its own down to the ticks' size;
        # else without its parenthesis ("layer (1 = input)" -> "layer"), at the ticks' size.
        title: str = getattr(self, "labelText", "")  # untyped in pyqtgraph
        shown, fitted = title, wanted
        family = self.label.font()
        needed = _text_width(shown, wanted, family)
        if length > 0 and needed > length:
            fitted = max(floor, wanted * length / needed)
            while fitted > floor and _text_width(shown, fitted, family) > length:  # not linear
                fitted = max(floor, fitted - 0.25)
            short = shown.split(" (")[0]
            if _text_width(shown, fitted, family) > length and short != shown:
                shown = short
        self._fitted_size = f"{fitted:.2f}pt"
        if size != self._fitted_size or shown != self._shown_label:
            self._shown_label, self._fitted_for = shown, title
            self.labelStyle = {**style, "font-size": self._fitted_size}
            self.label.setHtml(self.labelString())
            self._adjustSize()
            self.picture = None
            self.update()

    def set_background(self, background: str) -> None:
        """The colour behind the grid (the opaque grid colours are mixed over it)."""
        if background != self._background:
            self._background = background
            self._opaque_pens.clear()
            self.picture = None  # pyqtgraph's cached drawing of the axis
            self.update()

    def allTickValues(self, minVal: float, maxVal: float, size: float) -> TickLevels:
        """Tick levels, coarsest first, before faint grid levels are dropped."""
        levels: TickLevels = super().tickValues(minVal, maxVal, size)
        return levels

    def tickValues(self, minVal: float, maxVal: float, size: float) -> TickLevels:
        levels = self.allTickValues(minVal, maxVal, size)
        if self.grid is False or self.style["tickAlpha"] is not None:
            return levels
        # pyqtgraph's grid alpha for level i (AxisItem.generateDrawSpecs, tickAlpha None);
        # a level that faint is dense, so it never carries tick text either.
        color = self.tickPen().color()
        bg = QtGui.QColor(self._background)
        contrast = max(abs(a - b) for a, b in zip(_rgb(color), _rgb(bg), strict=True))
        for i, (_, values) in enumerate(levels):
            alpha = 255 / (i + 1) * self.grid / 255 * min(1.0, 0.05 * size / (len(values) + 1))
            if alpha / 255 * contrast < MIN_GRID_CONTRAST:
                return levels[:i]
        return levels

    def generateDrawSpecs(self, p: QtGui.QPainter) -> DrawSpecs | None:
        specs: DrawSpecs | None = super().generateDrawSpecs(p)
        if specs is None or self.grid is False:
            return specs
        axis_spec, tick_specs, text_specs = specs
        return axis_spec, [(self._opaque(pen), a, b) for pen, a, b in tick_specs], text_specs

    def _opaque(self, pen: QtGui.QPen) -> QtGui.QPen:
        key = pen.color().rgba()
        opaque = self._opaque_pens.get(key)
        if opaque is None:
            opaque = QtGui.QPen(pen)
            opaque.setColor(_over_background(pen.color(), self._background))
            self._opaque_pens[key] = opaque
        return opaque


class IntegerAxis(GridAxis):
    """Axis of steps or layers: ticks on whole numbers only (no "step 0.5")."""

    def allTickValues(self, minVal: float, maxVal: float, size: float) -> TickLevels:
        levels = [
            (spacing, [v for v in values if float(v).is_integer()])
            for spacing, values in super().allTickValues(minVal, maxVal, size)
            if spacing >= 1
        ]
        if not levels:  # zoomed in to a few units: one tick per integer
            levels = [(1.0, [float(v) for v in range(math.ceil(minVal), math.floor(maxVal) + 1)])]
        return levels


class LogAxis(GridAxis):
    """Log axis whose labels never crowd: decades first, then 5s and 2s, then the rest, each
    only where it keeps a label's height of space to its neighbours.

    pyqtgraph labels every minor tick (2..9 x 10^k) when few decades show: with projector
    fonts those labels ran together ("10¹ 9 8 7"), and over about a decade only one might be
    left. The tick marks themselves stay.
    """

    PRIORITY = (1, 5, 2, 3, 4, 6, 7, 8, 9)  # mantissas, most telling first

    def logTickStrings(self, values: list[float], scale: float, spacing: float | None) -> list[str]:
        strings: list[str] = super().logTickStrings(values, scale, spacing)
        if spacing is not None or not values:  # a level of whole decades: spaced already
            return strings
        lo, hi = sorted(self.range)
        vertical = self.orientation in ("left", "right")
        length = self.geometry().height() if vertical else self.geometry().width()
        if hi <= lo or length <= 0:
            return strings
        metrics = QtGui.QFontMetricsF(self.style["tickFont"] or QtGui.QFont())
        height = metrics.height()
        # Half a label's extent along the axis, and the space kept between two labels.
        if vertical:
            half, gap = [0.4 * height] * len(values), 0.6 * height
            pixels = [(hi - v) / (hi - lo) * length for v in values]  # from the top
            bounds = self.boundingRect()
            start, end = bounds.top(), bounds.bottom()
        else:
            half = [metrics.horizontalAdvance(s) / 2 for s in strings]
            gap = metrics.horizontalAdvance("  ")
            pixels = [(v - lo) / (hi - lo) * length for v in values]
            start, end = -max(half, default=0.0), length + max(half, default=0.0)
        # pyqtgraph drops a label that would stick out of the axis: one kept here would
        # leave its neighbours thinned for nothing.
        fits = [start <= p - w and p + w <= end for p, w in zip(pixels, half, strict=True)]
        mantissa = [round(10 ** (v % 1)) % 10 or 1 for v in values]  # 9.99.. rounds to a 1
        rank = [self.PRIORITY.index(m) for m in mantissa]
        kept: list[int] = []
        keep = [False] * len(values)

        def apart(i: int, j: int) -> bool:
            return abs(pixels[i] - pixels[j]) >= half[i] + half[j] + gap

        for i in sorted(range(len(values)), key=lambda j: rank[j]):
            if fits[i] and all(apart(i, j) for j in kept):
                keep[i] = True
                kept.append(i)
        if len(kept) == 1:  # one label does not make a scale: add the farthest that fits
            first = kept[0]
            far = max(range(len(values)), key=lambda j: fits[j] * abs(pixels[j] - pixels[first]))
            keep[far] = fits[far] and far != first and apart(far, first)
        return [s if k else "" for s, k in zip(strings, keep, strict=True)]


def _text_width(html: str, points: float, font: QtGui.QFont | None = None) -> float:
    """Pixels ``html`` takes on one line at ``points`` in ``font``'s family (the label
    item's own: another family measured several pixels off), with the item's margins."""
    font = QtGui.QFont(font) if font is not None else QtGui.QFont()
    font.setPointSizeF(points)
    text = QtGui.QTextDocument()
    text.setDefaultFont(font)
    text.setHtml(html)
    return float(text.idealWidth()) + 10  # the text item's margins, and a pixel to spare


def _points(size: object) -> float | None:
    """12.5 from "12.5pt" (a label style's font size), else None."""
    if isinstance(size, str) and size.endswith("pt"):
        try:
            return float(size[:-2])
        except ValueError:
            return None
    return None


def style_axis(
    axis: pg.AxisItem,
    label: str,
    scale: float,
    widest_tick: str = "",
    theme: Theme = DEFAULT_THEME,
) -> None:
    """Theme colours and projector-sized fonts for one axis.

    Vertical axes get a fixed width that fits ``widest_tick`` and the rotated label: auto
    widths only catch up one paint later (a fresh screenshot shows the label over the ticks).
    """
    tick_font = QtGui.QFont()
    tick_font.setPointSizeF(BASE_TICK_PT * scale)
    label_font = QtGui.QFont()
    label_font.setPointSizeF(BASE_LABEL_PT * scale)
    axis.setPen(theme.foreground)
    axis.setTextPen(theme.foreground)
    if isinstance(axis, GridAxis):
        axis.set_background(theme.background)
    axis.setTickFont(tick_font)
    no_si_prefix(axis)  # no "(x1e+27)" or "(x0.001)" on a teaching plot
    axis.setLabel(label, color=theme.foreground, **{"font-size": f"{BASE_LABEL_PT * scale}pt"})
    if isinstance(axis, GridAxis):
        axis.fit_label()  # a long title on a short axis: smaller, not cut
    if widest_tick:
        text_px = QtGui.QFontMetrics(tick_font).horizontalAdvance(widest_tick)
        axis.setWidth(text_px + QtGui.QFontMetrics(label_font).height() + 16)


class FittedLabel(pg.LabelItem):
    """Text that wraps to the width the layout gives it. pyqtgraph's LabelItem demands its
    whole text's width, so in a small window a long title (or a hover readout) pushed the
    plot's right side, colour bar and all, out of view."""

    def resizeEvent(self, ev: object) -> None:
        # Wrap to the new width first: pyqtgraph places the text by its width, and placed by
        # the old one, right-justified text stuck out past the plot's edge.
        self.item.setTextWidth(self.rect().width() if self.rect().width() > 1 else -1)
        super().resizeEvent(ev)

    def updateMin(self) -> None:
        width = self.rect().width()
        self.item.setTextWidth(width if width > 1 else -1)
        if self.opts.get("justify") == "right":  # within the wrapped block, too
            right = QtGui.QTextOption(QtCore.Qt.AlignmentFlag.AlignRight)
            self.item.document().setDefaultTextOption(right)
        height = self.itemRect().height()
        self.setMinimumWidth(0)
        self.setMinimumHeight(height)
        hint = QtCore.Qt.SizeHint
        self._sizeHint = {
            hint.MinimumSize: (0, height),
            hint.PreferredSize: (0, height),
            hint.MaximumSize: (-1, -1),
            hint.MinimumDescent: (0, 0),
        }
        self.updateGeometry()


def no_si_prefix(axis: pg.AxisItem) -> None:
    """Ticks print their own values: no SI prefix scaling. pyqtgraph's off switch first works
    out a prefix from the current range and keeps its scale (ticks then read 10³ times their
    value, with the "(x0.001)" label hidden): that scale goes back to 1."""
    axis.enableAutoSIPrefix(False)
    axis.autoSIPrefixScale, axis.labelUnitPrefix = 1.0, ""
    axis.picture = None  # pyqtgraph's cached drawing of the ticks


def quiet_hidden_axes(plot: pg.PlotItem) -> None:
    """Stop the hidden top and right axes from rewriting their (invisible) label on every range
    change: with auto SI prefixes on, each change re-renders the label's HTML."""
    for key in ("top", "right"):
        no_si_prefix(plot.getAxis(key))


def _positive_finite(values: NDArray[np.number]) -> NDArray[np.bool_]:
    """Mask of values a log axis can show."""
    with np.errstate(invalid="ignore"):
        mask: NDArray[np.bool_] = np.isfinite(values) & (values > 0)
    return mask


def _same(old: tuple[object, ...] | None, new: tuple[object, ...]) -> bool:
    """Whether two argument tuples (arrays compared by value, nan == nan) are equal."""
    if old is None or len(old) != len(new):
        return False
    for a, b in zip(old, new, strict=True):
        if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            if not (
                isinstance(a, np.ndarray)
                and isinstance(b, np.ndarray)
                and (a is b or np.array_equal(a, b, equal_nan=True))
            ):
                return False
        elif a != b:
            return False
    return True


def _swatch(color: tuple[int, ...], glyph: str) -> str:
    return f"<span style='color:{to_hex(color)}'>{glyph}</span>"
