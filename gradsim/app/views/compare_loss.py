"""The loss of every compared run on one plot: a line each on a log axis, a legend of labels.

As in LossPlot, 0/inf/nan cannot sit on a log axis: they are dropped from the lines, a run's
first non-finite step gets a dashed line in the run's colour, and the legend says where it
overflowed.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from gradsim.app.views import plot_parts as parts
from gradsim.app.views.colors import to_hex
from gradsim.app.views.plots import EMPTY_DECADES, EMPTY_STEP_RANGE, BasePlot
from gradsim.app.views.themes import DEFAULT_THEME, Theme

Series = tuple[np.ndarray, np.ndarray]  # (steps, values) of one run


class CompareLossPlot(BasePlot):
    """Every run's loss against step, one line each on a log axis, with a legend of labels.

    As in LossPlot, 0/inf/nan cannot sit on a log axis: they are dropped from the lines, a
    run's first non-finite step gets a dashed line in the run's colour, and the legend says
    where it overflowed.
    """

    def __init__(
        self,
        labels: Sequence[str],
        theme: Theme = DEFAULT_THEME,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent, log_axis="left")
        self._run_labels = list(labels)
        self.plotItem.setLogMode(x=False, y=True)
        self.plotItem.setDownsampling(auto=True, mode="peak")  # long runs: spikes stay
        self.plotItem.setClipToView(True)
        count = len(self._run_labels)
        # symbol=None explicitly (any symbol* option alone turns symbols on); one min/max
        # pair per pixel column, as LossPlot.
        self.curves = [
            pg.PlotDataItem(symbol=None, symbolPen=None, symbolSize=6, autoDownsampleFactor=1.0)
            for _ in range(count)
        ]
        self.overflow_lines = [pg.InfiniteLine(angle=90) for _ in range(count)]
        for curve, line in zip(self.curves, self.overflow_lines, strict=True):
            self._add(curve)
            line.setVisible(False)
            self._add(line)
        self._symbols = [False] * count
        self._overflow_at: list[int | None] = [None] * count
        # A text line under the plot, as in ProfilePlot: a LegendItem over the data would
        # cover the lines of whichever run is in its corner.
        self._legend = pg.LabelItem(" ", justify="left")
        self.plotItem.layout.addItem(self._legend, 4, 1)
        self._legend_entries: list[str] = []
        self._legend_state: tuple | None = None
        self._shown: tuple | None = None
        self.set_axis_labels("training step", "loss")
        self.set_theme(theme)  # BasePlot's: it calls _apply_theme for the run colours
        self.clear()

    def set_data(self, series: Sequence[Series]) -> None:
        """Plot each run's (steps, loss); 0/inf/nan are dropped and reported."""
        if len(series) != len(self.curves):
            raise ValueError(f"expected {len(self.curves)} runs, got {len(series)}")
        arrays = tuple(np.array(a, dtype=np.float64) for pair in series for a in pair)
        if parts._same(self._shown, arrays):
            return  # nothing new (e.g. paused): no work, no repaint
        self._shown = arrays
        xs, ys, zeros = [], [], 0
        for i, curve in enumerate(self.curves):
            steps, loss = arrays[2 * i], arrays[2 * i + 1]
            if steps.shape != loss.shape:
                raise ValueError(f"steps {steps.shape} and loss {loss.shape} differ in shape")
            ok = parts._positive_finite(loss)
            few = int(ok.sum()) <= parts.FEW_POINTS  # a lone point (died at once) shows
            if few != self._symbols[i]:
                self._symbols[i] = few
                curve.setSymbol("o" if few else None)
            curve.setData(steps[ok], loss[ok])
            bad = np.flatnonzero(~np.isfinite(loss))
            self._overflow_at[i] = int(steps[bad[0]]) if bad.size else None
            self.overflow_lines[i].setVisible(bool(bad.size))
            if bad.size:  # in the view, so a run that diverges at step 1 still shows where
                self.overflow_lines[i].setValue(float(steps[bad[0]]))
            xs += [steps[ok], steps[bad[:1]]]
            ys.append(loss[ok])
            zeros += int(np.count_nonzero(np.isfinite(loss) & ~ok))
        # No title unless it has news: the axis says "loss", and height is scarce here.
        self._set_title(f"loss ({zeros} ≤ 0 not shown)" if zeros else "")
        self._update_legend()
        x = parts._padded(np.concatenate(xs), self.plotItem.vb.width())
        self._anchor.set_bounds(x, self._value_range.update(*parts._log_extent(np.concatenate(ys))))
        parts.settle_range(self.plotItem.vb)

    def clear(self) -> None:
        """Remove the data (new runs)."""
        self._shown = None
        self._value_range.reset()
        empty = np.empty(0)
        self.set_data([(empty, empty)] * len(self.curves))
        self._anchor.set_bounds(EMPTY_STEP_RANGE, EMPTY_DECADES)  # fresh axes, nothing old
        parts.settle_range(self.plotItem.vb)

    def legend_entries(self) -> list[str]:
        """Plain text of the legend entries, one per run in run order."""
        return list(self._legend_entries)

    def set_font_scale(self, scale: float) -> None:
        super().set_font_scale(scale)
        self._update_legend()

    def _apply_theme(self) -> None:
        """One colour per run (theme.series): its line, points and overflow marker."""
        width = self._theme.line_width
        for i, (curve, line) in enumerate(zip(self.curves, self.overflow_lines, strict=True)):
            curve.setPen(pg.mkPen(self._color(i), width=width))
            curve.setSymbolBrush(self._color(i))
            style = QtCore.Qt.PenStyle.DashLine
            line.setPen(pg.mkPen(self._color(i), width=width, style=style))
        self._update_legend()

    def _color(self, run: int) -> tuple[int, int, int]:
        return self._theme.series[run % len(self._theme.series)]

    def resizeEvent(self, event: QtGui.QResizeEvent | None) -> None:
        super().resizeEvent(event)
        if getattr(self, "_legend_state", False) is not False:  # not while constructing
            self._update_legend()  # as many entries a line as the new width holds

    def _update_legend(self) -> None:
        entries = [
            label + (f" (inf/nan from step {at})" if at is not None else "")
            for label, at in zip(self._run_labels, self._overflow_at, strict=True)
        ]
        size = parts.BASE_TICK_PT * self._font_scale
        lines = self._pack(entries, size, max(200, self.width() - 120))
        state = (tuple(lines), size, self._theme.foreground)
        if state == self._legend_state:
            return  # unchanged: no relayout (this runs every frame and on every resize)
        self._legend_state, self._legend_entries = state, entries
        self._legend.setText("<br>".join(lines), color=self._theme.foreground, size=f"{size}pt")
        self._relayout()

    def _pack(self, entries: list[str], point_size: float, width: float) -> list[str]:
        """Entries (coloured swatch + text) in as few HTML lines as fit ``width`` pixels."""
        font = QtGui.QFont()
        font.setPointSizeF(point_size)
        metrics = QtGui.QFontMetricsF(font)
        lines: list[str] = []
        used = 0.0
        for i, text in enumerate(entries):
            html = f"<span style='color:{to_hex(self._color(i))}'>━━</span>&nbsp;{escape(text)}"
            needed = metrics.horizontalAdvance(f"━━ {text}      ")
            if lines and used + needed <= width:
                lines[-1] += "&nbsp;" * 6 + html
                used += needed
            else:
                lines.append(html)
                used = needed
        return lines
