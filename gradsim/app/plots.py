"""Line plots next to the heatmap: the loss over time and one step's profile across layers.

Both use log axes, which cannot show 0, inf or nan: such values are dropped from the lines
(pyqtgraph's log mode would otherwise warn or draw garbage) and reported instead, because in
gradsim they are the lesson, not noise. The axis helpers here are shared with the heatmap.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from gradsim.app.colors import (
    BACKGROUND,
    FOREGROUND,
    GRID_ALPHA,
    MEASURED_COLOR,
    NONFINITE_RGBA,
    THEORY_COLOR,
    ZERO_RGBA,
    to_hex,
)

BASE_TICK_PT = 12.0  # sizes at font scale 1, chosen for a 1920x1080 projector
BASE_LABEL_PT = 14.0
FEW_POINTS = 200  # up to this many points, the loss line also shows its points


class IntegerAxis(pg.AxisItem):
    """Axis of steps or layers: ticks on whole numbers only (no "step 0.5")."""

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list:
        levels = [
            (spacing, [v for v in values if float(v).is_integer()])
            for spacing, values in super().tickValues(minVal, maxVal, size)
            if spacing >= 1
        ]
        if not levels:  # zoomed in to a few units: one tick per integer
            levels = [(1.0, [float(v) for v in range(math.ceil(minVal), math.floor(maxVal) + 1)])]
        return levels


class LogAxis(pg.AxisItem):
    """Log axis that labels decades only, unless fewer than ~1.5 decades are visible.

    pyqtgraph labels every minor tick (2..9 x 10^k) when few decades show, and with projector
    fonts those labels overlap; the tick marks themselves stay.
    """

    def logTickStrings(self, values: list[float], scale: float, spacing: float | None) -> list[str]:
        strings = super().logTickStrings(values, scale, spacing)
        if spacing is not None:  # a level of whole decades
            return strings
        # The fine level (1..9 x 10^k, decades included) appears when few decades show.
        lo, hi = sorted(self.range)
        if hi - lo < 0.7:  # less than a factor of ~5 visible: label every tick there is
            return strings
        keep = (1,) if hi - lo >= 1.5 else (1, 2, 5)
        mantissa = [round(10 ** (v % 1)) for v in values]
        return [s if m in keep else "" for s, m in zip(strings, mantissa, strict=True)]


def style_axis(axis: pg.AxisItem, label: str, scale: float, widest_tick: str = "") -> None:
    """Dark theme and projector-sized fonts for one axis.

    Vertical axes get a fixed width that fits ``widest_tick`` and the rotated label: auto
    widths only catch up one paint later (a fresh screenshot shows the label over the ticks).
    """
    tick_font = QtGui.QFont()
    tick_font.setPointSizeF(BASE_TICK_PT * scale)
    label_font = QtGui.QFont()
    label_font.setPointSizeF(BASE_LABEL_PT * scale)
    axis.setPen(FOREGROUND)
    axis.setTextPen(FOREGROUND)
    axis.setTickFont(tick_font)
    axis.enableAutoSIPrefix(False)  # no "(x1e+27)" or "(x0.001)" on a teaching plot
    axis.setLabel(label, color=FOREGROUND, **{"font-size": f"{BASE_LABEL_PT * scale}pt"})
    if widest_tick:
        text_px = QtGui.QFontMetrics(tick_font).horizontalAdvance(widest_tick)
        axis.setWidth(text_px + QtGui.QFontMetrics(label_font).height() + 16)


def _positive_finite(values: np.ndarray) -> np.ndarray:
    """Mask of values a log axis can show."""
    with np.errstate(invalid="ignore"):
        return np.isfinite(values) & (values > 0)


def _swatch(color: tuple[int, ...], glyph: str) -> str:
    return f"<span style='color:{to_hex(color)}'>{glyph}</span>"


class _DarkPlot(pg.PlotWidget):
    """PlotWidget with the shared theme, a short title and a data-only ``clear()``."""

    def __init__(self, parent: QtWidgets.QWidget | None, log_axis: str) -> None:
        other = "bottom" if log_axis == "left" else "left"
        super().__init__(
            parent=parent,
            background=BACKGROUND,
            axisItems={log_axis: LogAxis(log_axis), other: IntegerAxis(other)},
        )
        # PlotWidget binds PlotItem.clear (which removes every item) as an instance attribute,
        # shadowing any subclass method of that name; drop it so clear() only clears data.
        del self.clear
        self._labels = ("", "")
        self._title = "\0"  # differs from every real title: the first one is always drawn
        self._font_scale = 1.0
        self.plotItem.setMenuEnabled(False)
        self.plotItem.showGrid(x=True, y=True, alpha=GRID_ALPHA)

    def set_font_scale(self, scale: float) -> None:
        """Scale every text (e.g. 1.5 for a presentation mode)."""
        self._font_scale = float(scale)
        self._restyle()
        self._set_title(self._title, force=True)

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
        style_axis(self.plotItem.getAxis("bottom"), bottom, self._font_scale)
        left_axis = self.plotItem.getAxis("left")
        widest = "10⁻³⁰⁰" if isinstance(left_axis, LogAxis) else "2000"
        style_axis(left_axis, left, self._font_scale, widest_tick=widest)

    def _set_title(self, text: str, force: bool = False) -> None:
        """Keep titles short: a PlotItem is never narrower than its title."""
        if text == self._title and not force:
            return
        self._title = text
        self.plotItem.setTitle(
            text or None, color=FOREGROUND, size=f"{BASE_LABEL_PT * self._font_scale}pt"
        )
        self._relayout()

    def _relayout(self) -> None:
        """Apply a text size change now, not at the next event loop pass (a screenshot taken
        right after an update would show the plot cut off)."""
        self.plotItem.layout.activate()

    def clear(self) -> None:  # overridden by subclasses
        raise NotImplementedError


class LossPlot(_DarkPlot):
    """Training loss against step on a log axis, with the first non-finite step marked."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent, log_axis="left")
        self.plotItem.setLogMode(x=False, y=True)
        # Long runs: draw only what is visible, peak-preserving downsampling (spikes stay).
        self.curve: pg.PlotDataItem = self.plotItem.plot(
            pen=pg.mkPen(MEASURED_COLOR, width=2),
            symbol=None,  # explicit: any symbol* option alone would switch symbols on
            symbolBrush=MEASURED_COLOR,
            symbolPen=None,
            symbolSize=6,
            clipToView=True,
            autoDownsample=True,
            downsampleMethod="peak",
        )
        self._symbols = False
        # In the view's bounds, so a run that diverges at step 1 still shows where. The label
        # flips to the inner side of the line near either edge of the view.
        self.overflow_line = pg.InfiniteLine(
            angle=90,
            pen=pg.mkPen(NONFINITE_RGBA[:3], width=2, style=QtCore.Qt.PenStyle.DashLine),
            label="inf/nan from step {value:.0f}",
            labelOpts={"position": 0.9, "color": NONFINITE_RGBA[:3], "fill": (21, 23, 28, 200)},
        )
        self.overflow_line.setVisible(False)
        self.plotItem.addItem(self.overflow_line)
        self.set_axis_labels("training step", "loss")
        self._scale_label()
        self.clear()

    def set_font_scale(self, scale: float) -> None:
        super().set_font_scale(scale)
        self._scale_label()

    def set_data(self, steps: np.ndarray, loss: np.ndarray) -> None:
        """Plot ``loss`` (n,) at ``steps`` (n,); 0/inf/nan are dropped and reported."""
        steps = np.asarray(steps, dtype=np.float64)
        loss = np.asarray(loss, dtype=np.float64)
        if steps.shape != loss.shape:
            raise ValueError(f"steps {steps.shape} and loss {loss.shape} differ in shape")
        ok = _positive_finite(loss)
        few = int(ok.sum()) <= FEW_POINTS  # a lone point (a run that died at once) is visible
        if few != self._symbols:
            self._symbols = few
            self.curve.setSymbol("o" if few else None)
        self.curve.setData(steps[ok], loss[ok])
        bad = np.flatnonzero(~np.isfinite(loss))
        self.overflow_line.setVisible(bool(bad.size))
        if bad.size:
            self.overflow_line.setValue(float(steps[bad[0]]))
            # The label only reformats while visible and when the value moves: refresh it.
            self.overflow_line.label.valueChanged()
        zeros = int(np.count_nonzero(np.isfinite(loss) & ~ok))
        self._set_title(f"loss ({zeros} ≤ 0 not shown)" if zeros else "loss")

    def clear(self) -> None:
        """Remove the data (a new run)."""
        self.curve.setData([], [])
        self.overflow_line.setVisible(False)
        self._set_title("loss")

    def _scale_label(self) -> None:
        font = QtGui.QFont()
        font.setPointSizeF(BASE_TICK_PT * self._font_scale)
        self.overflow_line.label.setFont(font)


class ProfilePlot(_DarkPlot):
    """One step's metric across layers, measured and predicted, on a log axis.

    Layer runs along x by default (``layer_axis="x"``, input on the left): the textbook form,
    where exponential growth or decay per layer is a straight line whose slope students can read
    as a gain per layer. ``layer_axis="y"`` puts layer 1 at the bottom instead, to sit beside
    the heatmap and share its rows.
    """

    def __init__(
        self, parent: QtWidgets.QWidget | None = None, layer_axis: Literal["x", "y"] = "x"
    ) -> None:
        super().__init__(parent, log_axis="left" if layer_axis == "x" else "bottom")
        self._layer_axis = layer_axis
        self.plotItem.setLogMode(x=layer_axis == "y", y=layer_axis == "x")
        pen = pg.mkPen(MEASURED_COLOR, width=2)
        self.measured_curve: pg.PlotDataItem = self.plotItem.plot(
            pen=pen, symbol="o", symbolSize=7, symbolBrush=MEASURED_COLOR, symbolPen=None
        )
        self.theory_curve = pg.PlotDataItem(
            pen=pg.mkPen(THEORY_COLOR, width=2.5, style=QtCore.Qt.PenStyle.DashLine)
        )
        self.plotItem.addItem(self.theory_curve)
        # Zeros and overflows cannot sit on a log axis: markers one decade beyond the finite
        # data, pointing out of the plot (down/left = underflow, up/right = overflow).
        down, up = ("t", "t1") if layer_axis == "x" else ("t3", "t2")
        self.zero_markers = pg.PlotDataItem(
            pen=None, symbol=down, symbolSize=12, symbolBrush=ZERO_RGBA[:3], symbolPen=None
        )
        self.overflow_markers = pg.PlotDataItem(
            pen=None, symbol=up, symbolSize=12, symbolBrush=NONFINITE_RGBA[:3], symbolPen=None
        )
        for item in (self.zero_markers, self.overflow_markers):
            self.plotItem.addItem(item)
        # The legend is a text line under the plot, not a LegendItem over it: the measured line
        # crosses the view diagonally (up when vanishing, down when exploding), so no corner is
        # always free, and a LegendItem that changes size jumps to the top-left corner.
        self._legend = pg.LabelItem(" ", justify="left")
        self.plotItem.layout.addItem(self._legend, 4, 1)
        self._legend_state: tuple | None = None
        self._legend_entries: list[str] = []
        self._metric = "\0"
        self._set_metric("")
        self.clear()

    def set_profile(
        self,
        values: np.ndarray,
        metric: str,
        theory: np.ndarray | None = None,
        theory_label: str = "theory",
        step: int | None = None,
    ) -> None:
        """Show ``values`` (L,) of ``metric``; ``theory`` (L,) is drawn dashed when given."""
        values = np.asarray(values, dtype=np.float64).ravel()
        layers = np.arange(1, values.size + 1, dtype=np.float64)
        ok = _positive_finite(values)
        self._draw(self.measured_curve, layers[ok], values[ok])
        shown = [values[ok]]
        if theory is not None:
            theory = np.asarray(theory, dtype=np.float64).ravel()
            t_ok = _positive_finite(theory)
            t_layers = np.arange(1, theory.size + 1, dtype=np.float64)
            self._draw(self.theory_curve, t_layers[t_ok], theory[t_ok])
            shown.append(theory[t_ok])
        else:
            self._draw(self.theory_curve, np.empty(0), np.empty(0))
        finite = np.concatenate(shown)
        low = finite.min() / 10 if finite.size else 0.1
        high = finite.max() * 10 if finite.size else 10.0
        zero = values == 0
        overflow = ~np.isfinite(values)
        self._draw(self.zero_markers, layers[zero], np.full(int(zero.sum()), low))
        self._draw(self.overflow_markers, layers[overflow], np.full(int(overflow.sum()), high))
        self._update_legend(
            theory_label if theory is not None else None, int(zero.sum()), int(overflow.sum())
        )
        self._set_metric(metric or "value")
        self._set_title(
            f"{metric or 'value'} by layer" + (f", step {step}" if step is not None else "")
        )

    def clear(self) -> None:
        """Remove the data (a new run)."""
        for item in (self.measured_curve, self.theory_curve):
            item.setData([], [])
        for item in (self.zero_markers, self.overflow_markers):
            item.setData([], [])
        self._update_legend(None, 0, 0)
        self._set_title("")

    def legend_entries(self) -> list[str]:
        """Plain text of the legend entries, in order (for tests and status lines)."""
        return list(self._legend_entries)

    def set_font_scale(self, scale: float) -> None:
        super().set_font_scale(scale)
        self._legend_state = None  # redraw at the new size
        self._update_legend(*self._last_legend)

    def _set_metric(self, name: str) -> None:
        if name != self._metric:
            self._metric = name
            layer = "layer (1 = input)"
            labels = (layer, name) if self._layer_axis == "x" else (name, layer)
            self.set_axis_labels(*labels)

    def _draw(self, item: pg.PlotDataItem, layers: np.ndarray, values: np.ndarray) -> None:
        if self._layer_axis == "x":
            item.setData(layers, values)
        else:
            item.setData(values, layers)

    def _update_legend(self, theory_label: str | None, zeros: int, overflows: int) -> None:
        """Rewrite the legend only when it changes: two short lines, so it never sets the
        plot's width."""
        self._last_legend = (theory_label, zeros, overflows)
        if self._legend_state == self._last_legend:
            return
        self._legend_state = self._last_legend
        lines: list[list[tuple[str, str]]] = [[("—●—", "measured")], []]
        colors = [MEASURED_COLOR]
        if theory_label is not None:
            lines[0].append(("- - -", theory_label))
            colors.append(THEORY_COLOR)
        if zeros:
            lines[1].append(("▼", f"{_layers(zeros)} = 0 (underflow)"))
            colors.append(ZERO_RGBA)
        if overflows:
            lines[1].append(("▲", f"{_layers(overflows)} inf/nan (overflow)"))
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
            "<br>".join(html), color=FOREGROUND, size=f"{BASE_TICK_PT * self._font_scale}pt"
        )
        self._relayout()


def _layers(count: int) -> str:
    return f"{count} layer{'s' if count != 1 else ''}"
