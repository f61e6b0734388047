"""Line plots next to the heatmap: the loss over time and one step's profile across layers.

Both use log axes, which cannot show 0, inf or nan: such values are dropped from the lines
(pyqtgraph's log mode would otherwise warn or draw garbage) and reported instead, because in
gradsim they are the lesson, not noise. The axis helpers here are shared with the heatmap.

Painting runs on the UI thread while the worker trains, and every millisecond it takes is GIL
time the worker waits for, so the views are built to paint once per update and cheaply: the
view range is settled when the data is set (``settle_range``), the log axis's range holds still
while noisy data stays in it (``StableRange``), grid lines are opaque and under the data, long
loss curves are drawn at about two points per pixel, and nothing restyles an axis unless its
text really changes.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from gradsim.app.views.colors import NONFINITE_RGBA, ZERO_RGBA
from gradsim.app.views.plot_parts import (
    BASE_LABEL_PT,
    BASE_TICK_PT,
    HOVER_RATE_HZ,
    FittedLabel,
    IntegerAxis,
    LogAxis,
    StableRange,
    _log_extent,
    _padded,
    _positive_finite,
    _RangeAnchor,
    _same,
    _swatch,
    quiet_hidden_axes,
    settle_range,
    style_axis,
)
from gradsim.app.views.themes import DEFAULT_THEME, Theme
from gradsim.engine.stats import FRACTION_STATS, STAT_SHORT

# What an empty plot shows (a new run, before its first step): no trace of the last run.
EMPTY_STEP_RANGE = (-0.5, 100.0)
EMPTY_DECADES = (-1.0, 1.0)  # 0.1 to 10 on a log axis


class BasePlot(pg.PlotWidget):
    """PlotWidget with a theme, a font scale, a short title and a data-only ``clear()``."""

    def __init__(self, parent: QtWidgets.QWidget | None, log_axis: str) -> None:
        other = "bottom" if log_axis == "left" else "left"
        super().__init__(
            parent=parent,
            background=DEFAULT_THEME.background,
            axisItems={log_axis: LogAxis(log_axis), other: IntegerAxis(other)},
            enableMenu=False,  # the view box menu is never built (~2 ms of start-up)
        )
        # PlotWidget binds PlotItem.clear (which removes every item) as an instance attribute,
        # shadowing any subclass method of that name; drop it so clear() only clears data.
        del self.clear
        self._labels = ("", "")
        self._title = "\0"  # differs from every real title: the first one is always drawn
        self._font_scale = 1.0
        self._theme = DEFAULT_THEME
        self.plotItem.showGrid(x=True, y=True, alpha=DEFAULT_THEME.grid_alpha)
        quiet_hidden_axes(self.plotItem)
        for key in ("left", "bottom"):  # opaque grid lines (GridAxis) go under the data
            self.plotItem.getAxis(key).setZValue(self.plotItem.vb.zValue() - 1)
        self._anchor = _RangeAnchor()  # the only item auto-range looks at
        self.plotItem.addItem(self._anchor)
        self.plotItem.vb.setDefaultPadding(0.0)  # the anchor's box has its margins already
        self._value_range = StableRange()  # of the log axis: its edges fall on round values

    def _add(self, item: pg.GraphicsObject) -> None:
        """Add a plotted item; the view's range comes from the anchor, not from it."""
        self.plotItem.addItem(item, ignoreBounds=True)

    def set_font_scale(self, scale: float) -> None:
        """Scale every text (e.g. 1.5 for a presentation mode)."""
        self._font_scale = float(scale)
        self._restyle()
        self._set_title(self._title, force=True)

    def set_theme(self, theme: Theme) -> None:
        """Colours and line widths (e.g. the high-contrast projector variant)."""
        self._theme = theme
        self.setBackground(theme.background)
        self.plotItem.showGrid(x=True, y=True, alpha=theme.grid_alpha)
        self._apply_theme()
        self._restyle()
        self._set_title(self._title, force=True)

    def _apply_theme(self) -> None:
        """Recolour the plotted items (subclasses)."""

    @property
    def theme(self) -> Theme:
        return self._theme

    def set_axis_labels(self, bottom: str, left: str) -> None:
        """Axis titles (restyled only when they change: this may be called every frame)."""
        if (bottom, left) != self._labels:
            self._labels = (bottom, left)
            self._restyle()

    def title(self) -> str:
        """Title text as set (HTML), for tests and status lines."""
        return self._title

    def _restyle(self) -> None:
        bottom, left = self._labels
        style_axis(self.plotItem.getAxis("bottom"), bottom, self._font_scale, theme=self._theme)
        left_axis = self.plotItem.getAxis("left")
        # Log ticks read "10⁻³⁰⁰" over wide ranges but "0.0005" over narrow ones: the wider.
        widest = "0.0005" if isinstance(left_axis, LogAxis) else "2000"
        style_axis(left_axis, left, self._font_scale, widest_tick=widest, theme=self._theme)

    def _set_title(self, text: str, force: bool = False) -> None:
        """Keep titles short: a PlotItem is never narrower than its title."""
        if text == self._title and not force:
            return
        self._title = text
        self.plotItem.setTitle(
            text or None, color=self._theme.foreground, size=f"{BASE_LABEL_PT * self._font_scale}pt"
        )
        self._relayout()

    def _relayout(self) -> None:
        """Apply a text size change now, not at the next event loop pass (a screenshot taken
        right after an update would show the plot cut off)."""
        self.plotItem.layout.activate()

    def clear(self) -> None:  # overridden by subclasses
        raise NotImplementedError


class ProfilePlot(BasePlot):
    """One step's metric across layers, measured and predicted, on a log axis.

    Layer runs along x, input on the left: the textbook form, where exponential growth or decay
    per layer is a straight line whose slope students can read as a gain per layer.
    """

    layerHovered = QtCore.Signal(int)  # the layer (0-based) under the mouse

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent, log_axis="left")
        self.plotItem.setLogMode(x=False, y=True)
        self._layers = 0  # of the profile shown: hover names one of them
        self._hover = pg.SignalProxy(
            self.scene().sigMouseMoved, rateLimit=HOVER_RATE_HZ, slot=self._on_mouse_moved
        )
        self.measured_curve = pg.PlotDataItem(symbol="o", symbolSize=7, symbolPen=None)
        self._add(self.measured_curve)
        self.theory_curve = pg.PlotDataItem()
        self._add(self.theory_curve)
        self.first_curve = pg.PlotDataItem()  # the measured step 0: what the theory predicts
        self._add(self.first_curve)
        # Zeros and overflows cannot sit on a log axis: markers one decade beyond the finite
        # data, pointing out of the plot (down = underflow, up = overflow).
        self.zero_markers = pg.PlotDataItem(
            pen=None, symbol="t", symbolSize=12, symbolBrush=ZERO_RGBA[:3], symbolPen=None
        )
        self.overflow_markers = pg.PlotDataItem(
            pen=None, symbol="t1", symbolSize=12, symbolBrush=NONFINITE_RGBA[:3], symbolPen=None
        )
        for item in (self.zero_markers, self.overflow_markers):
            self._add(item)
        # The legend is a text line under the plot, not a LegendItem over it: the measured line
        # crosses the view diagonally (up when vanishing, down when exploding), so no corner is
        # always free, and a LegendItem that changes size jumps to the top-left corner.
        self._legend = FittedLabel(" ", justify="left")
        self.plotItem.layout.addItem(self._legend, 4, 1)
        self._legend_state: tuple | None = None
        self._legend_entries: list[str] = []
        self._metric = "\0"
        self._set_metric("")
        self._shown: tuple | None = None  # the arguments of the last set_profile
        self._empty_layers = 10  # what the empty axes show until a run says
        self._apply_theme()
        self.clear()

    def set_profile(
        self,
        values: np.ndarray,
        metric: str,
        theory: np.ndarray | None = None,
        theory_label: str = "theory",
        step: int | None = None,
        note: str = "",
        first: np.ndarray | None = None,
        applies: np.ndarray | None = None,
    ) -> None:
        """Show ``values`` (L,) of ``metric`` at ``step``; ``theory`` (L,) is drawn dashed and
        ``first`` (the measured step 0) dotted, when given; layers not in ``applies`` are left
        out (the statistic means nothing there). ``note`` (e.g. why this step stands in for a
        later one) ends the legend: a title never outgrows "metric by layer, step N", or it
        would widen the plot. A fraction is drawn on a linear 0-1 axis, the rest on a log axis."""
        values = np.array(values, dtype=np.float64).ravel()  # copies: kept to spot repeats
        theory, first = (None if a is None else np.array(a, dtype=np.float64).ravel()
                         for a in (theory, first))  # fmt: skip
        mask = np.ones(values.size, dtype=bool) if applies is None else np.array(applies, bool)
        label = theory_label if theory is not None else None
        shown = (values, theory, first, mask, metric, label, step, note)
        if _same(self._shown, shown):
            return  # nothing new: no work, no repaint
        self._shown = shown
        fraction = metric in FRACTION_STATS
        self._set_metric(metric or "value", fraction)
        layers = np.arange(1, values.size + 1, dtype=np.float64)
        self._layers = values.size

        def drawable(v: np.ndarray) -> np.ndarray:
            can = np.isfinite(v) if fraction else _positive_finite(v)
            return can & mask[: v.size]

        ok = drawable(values)
        self.measured_curve.setData(layers[ok], values[ok])
        drawn = [values[ok]]
        for curve, line in ((self.theory_curve, theory), (self.first_curve, first)):
            if line is None:
                curve.setData([], [])
                continue
            line_ok = drawable(line)
            curve.setData(layers[: line.size][line_ok], line[line_ok])
            drawn.append(line[line_ok])
        finite = np.concatenate(drawn)
        low = finite.min() / 10 if finite.size and not fraction else 0.1
        high = finite.max() * 10 if finite.size and not fraction else 10.0
        zero = (values == 0) & mask & (not fraction)  # a zero share is no underflow
        overflow = ~np.isfinite(values) & mask
        self.zero_markers.setData(layers[zero], np.full(int(zero.sum()), low))
        self.overflow_markers.setData(layers[overflow], np.full(int(overflow.sum()), high))
        self._update_legend(label, int(zero.sum()), int(overflow.sum()), note, first is not None)
        # Short: the metric is on the axis, and a title never wraps (it would widen the plot).
        self._set_title(f"step {step}" if step is not None else "")
        # The view: every layer drawn, and a value range (markers included) that holds still.
        layer_range = _padded(np.flatnonzero(mask) + 1, self.plotItem.vb.width())
        if fraction:
            self._anchor.set_bounds(layer_range, (-0.08, 1.08))  # room for "100 %"
        else:
            lo, hi = _log_extent(finite)
            if zero.any():
                lo = min(lo, math.log10(low))
            if overflow.any():
                hi = max(hi, math.log10(high))
            self._anchor.set_bounds(layer_range, self._value_range.update(lo, hi))
        settle_range(self.plotItem.vb)

    def _on_mouse_moved(self, args: tuple[QtCore.QPointF]) -> None:
        """Name the layer under the mouse (the nearest one on the x axis) to who listens."""
        vb = self.plotItem.vb
        if not self._layers or not vb.sceneBoundingRect().contains(args[0]):
            return
        layer = round(vb.mapSceneToView(args[0]).x())
        if 1 <= layer <= self._layers:
            self.layerHovered.emit(layer - 1)

    def clear(self, layers: int | None = None) -> None:
        """Remove the data (a new run of ``layers`` layers, or as many as before): the axes
        start afresh."""
        if layers is not None:
            self._empty_layers = max(1, int(layers))
        self._shown = None
        self._layers = 0
        for item in (self.measured_curve, self.theory_curve, self.first_curve):
            item.setData([], [])
        for item in (self.zero_markers, self.overflow_markers):
            item.setData([], [])
        self._update_legend(None, 0, 0, "", False)
        self._set_title("")
        self._value_range.reset()
        self._anchor.set_bounds((0.5, self._empty_layers + 0.5), EMPTY_DECADES)
        settle_range(self.plotItem.vb)

    def legend_entries(self) -> list[str]:
        """Plain text of the legend entries, in order (for tests and status lines)."""
        return list(self._legend_entries)

    def set_font_scale(self, scale: float) -> None:
        super().set_font_scale(scale)
        self._legend_state = None  # redraw at the new size
        self._update_legend(*self._last_legend)

    def _apply_theme(self) -> None:
        theme = self._theme
        self.measured_curve.setPen(pg.mkPen(theme.measured, width=theme.line_width))
        self.measured_curve.setSymbolBrush(theme.measured)
        self.measured_curve.setSymbolSize(7 * theme.line_width / 2)
        dash = QtCore.Qt.PenStyle.DashLine
        self.theory_curve.setPen(pg.mkPen(theme.theory, width=theme.line_width * 1.25, style=dash))
        dots = QtCore.Qt.PenStyle.DotLine
        self.first_curve.setPen(pg.mkPen(theme.measured, width=theme.line_width, style=dots))
        # White "zero" markers need an outline to show on a light background.
        self.zero_markers.setSymbolPen(None if theme.is_dark else pg.mkPen(theme.foreground))
        if hasattr(self, "_last_legend"):
            self._legend_state = None
            self._update_legend(*self._last_legend)

    def _set_metric(self, name: str, fraction: bool = False) -> None:
        if name != self._metric:
            self._metric = name
            self._value_range.reset()  # another metric: fit its values afresh
            self.plotItem.setLogMode(x=False, y=not fraction)
            # A share reads in per cent, as on the heatmap's colour bar beside it.
            shares = [[(v / 4, f"{25 * v} %") for v in range(5)], []] if fraction else None
            self.plotItem.getAxis("left").setTicks(shares)
            self.set_axis_labels("layer (1 = input)", STAT_SHORT.get(name, name))

    def _update_legend(
        self, theory: str | None, zeros: int, overflows: int, note: str, first: bool
    ) -> None:
        """Rewrite the legend only when it changes: three short lines, so it never sets the
        plot's width."""
        self._last_legend = (theory, zeros, overflows, note, first)
        if self._legend_state == self._last_legend:
            return
        self._legend_state = self._last_legend
        lines: list[list[tuple[str, str]]] = [[("—●—", "measured")], [], []]
        colors: list[tuple[int, ...]] = [self._theme.measured]
        if first:
            lines[0].append(("·····", "step 0"))
            colors.append(self._theme.measured)
        if theory is not None:
            lines[1].append(("- - -", theory))
            colors.append(self._theme.theory)
        if zeros:
            lines[2].append(("▼", f"{_layers(zeros)} = 0 (underflow)"))
            colors.append(ZERO_RGBA)
        if overflows:
            lines[2].append(("▲", f"{_layers(overflows)} inf/nan (overflow)"))
            colors.append(NONFINITE_RGBA)
        if note:
            lines[2].append(("▲", note))
            colors.append(NONFINITE_RGBA)
        entries = [entry for line in lines for entry in line]
        self._legend_entries = [text for _, text in entries]
        html, i = [], 0
        for line in lines:
            if line:
                parts = [f"{_swatch(colors[i + k], g)} {t}" for k, (g, t) in enumerate(line)]
                html.append("&nbsp;&nbsp;&nbsp;".join(parts))
                i += len(line)
        self._legend.setText(
            "<br>".join(html),
            color=self._theme.foreground,
            size=f"{BASE_TICK_PT * self._font_scale}pt",
        )
        self._relayout()


def _layers(count: int) -> str:
    return f"{count} layer{'s' if count != 1 else ''}"
