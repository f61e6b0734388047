"""The training loss of 1-4 runs against step: a line each, on one log axis.

A log axis cannot show 0, inf or nan: they are dropped from the lines and reported, because
in gradsim they are the lesson, not noise. A run's first non-finite step gets a dashed line
(in its colour, inside the view, so a run that diverges at step 1 still shows where); a single
run's line says "inf/nan from step k" itself, a comparison's legend says it per run.

Long runs are drawn at about two points per pixel with peak-preserving downsampling (spikes
stay), and a paused run costs a comparison, not a repaint.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from gradsim.app.views.colors import NONFINITE_RGBA, to_hex
from gradsim.app.views.plot_parts import (
    BASE_TICK_PT,
    FEW_POINTS,
    FittedLabel,
    _log_extent,
    _padded,
    _positive_finite,
    _same,
    settle_range,
)
from gradsim.app.views.plots import EMPTY_DECADES, EMPTY_STEP_RANGE, BasePlot
from gradsim.app.views.themes import DEFAULT_THEME, Theme

Series = tuple[np.ndarray, np.ndarray]  # (steps, values) of one run


class LossPlot(BasePlot):
    """Loss against step for one run (no ``labels``) or a comparison (a label per run)."""

    def __init__(
        self,
        labels: Sequence[str] = (),
        theme: Theme = DEFAULT_THEME,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent, log_axis="left")
        self._run_labels = list(labels)
        count = max(1, len(self._run_labels))
        self.plotItem.setLogMode(x=False, y=True)
        # Set on the PlotItem: it overrides the curves' own options when they are added.
        self.plotItem.setDownsampling(auto=True, mode="peak")
        self.plotItem.setClipToView(True)
        # symbol=None explicitly (any symbol* option alone turns symbols on). One min/max
        # pair per pixel column: pyqtgraph's default envelope at a third of the drawing cost.
        self.curves = [
            pg.PlotDataItem(symbol=None, symbolPen=None, symbolSize=6, autoDownsampleFactor=1.0)
            for _ in range(count)
        ]
        label = {} if self._run_labels else {"label": "inf/nan from step {value:.0f}"}
        self.overflow_lines = [
            pg.InfiniteLine(angle=90, labelOpts={"position": 0.9}, **label) for _ in range(count)
        ]
        for curve, line in zip(self.curves, self.overflow_lines, strict=True):
            self._add(curve)
            line.setVisible(False)
            self._add(line)
        self._marker = pg.InfiniteLine(angle=90, movable=False)  # the replayed step
        self._marker.setVisible(False)
        self._add(self._marker)
        self._symbols = [False] * count
        self._overflow_at: list[int | None] = [None] * count
        # A text line under the plot, as in ProfilePlot: a LegendItem over the data would
        # cover the lines of whichever run is in its corner.
        self._legend = FittedLabel(" ", justify="left")
        if self._run_labels:
            self.plotItem.layout.addItem(self._legend, 4, 1)
        self._legend_entries: list[str] = []
        self._legend_state: tuple[object, ...] | None = None
        self._compact_legend = False
        self._shown: tuple[np.ndarray, ...] | None = None
        self.set_axis_labels("training step", "loss")
        self.set_theme(theme)  # BasePlot's: it calls _apply_theme for the run colours
        self.clear()

    def set_runs(self, series: Sequence[Series], diverged: Sequence[bool] = ()) -> None:
        """Plot each run's (steps, loss); 0/inf/nan are dropped and reported. The loss axis
        spans the runs that have not ``diverged`` (all of them if every one has): one run
        blowing up to 10²⁰⁰ must not flatten the others' falling loss into a line."""
        if len(series) != len(self.curves):
            raise ValueError(f"expected {len(self.curves)} runs, got {len(series)}")
        arrays = tuple(np.array(a, dtype=np.float64) for pair in series for a in pair)
        healthy = [not d for d in diverged] if any(not d for d in diverged) else []
        arrays += (np.array(healthy, dtype=np.float64),)
        if _same(self._shown, arrays):
            return  # nothing new (e.g. paused): no work, no repaint
        self._shown = arrays
        xs, ys, zeros = [], [], 0
        for i, curve in enumerate(self.curves):
            steps, loss = arrays[2 * i], arrays[2 * i + 1]
            if steps.shape != loss.shape:
                raise ValueError(f"steps {steps.shape} and loss {loss.shape} differ in shape")
            ok = _positive_finite(loss)
            few = int(ok.sum()) <= FEW_POINTS  # a lone point (a run that died at once) shows
            if few != self._symbols[i]:
                self._symbols[i] = few
                curve.setSymbol("o" if few else None)
            curve.setData(steps[ok], loss[ok])
            bad = np.flatnonzero(~np.isfinite(loss))
            self._overflow_at[i] = int(steps[bad[0]]) if bad.size else None
            line = self.overflow_lines[i]
            line.setVisible(bool(bad.size))
            if bad.size:
                line.setValue(float(steps[bad[0]]))
                if (text := _label(line)) is not None:  # it reformats only when it moves
                    text.valueChanged()
            xs += [steps[ok], steps[bad[:1]]]
            if not healthy or healthy[i]:
                ys.append(loss[ok])
            zeros += int(np.count_nonzero(np.isfinite(loss) & ~ok))
        # A comparison's plot has no title unless it has news: height is scarce there.
        quiet = "" if self._run_labels else "loss"
        self._set_title(f"loss ({zeros} ≤ 0 not shown)" if zeros else quiet)
        self._update_legend()
        x = _padded(np.concatenate(xs), self.plotItem.vb.width())
        self._anchor.set_bounds(x, self._value_range.update(*_log_extent(np.concatenate(ys))))
        settle_range(self.plotItem.vb)

    def set_marked_step(self, step: int | None) -> None:
        """Mark the replayed ``step`` (None: the newest is shown, no mark)."""
        self._marker.setVisible(step is not None)
        if step is not None:
            self._marker.setValue(float(step))

    def clear(self) -> None:
        """Remove the data (new runs): fresh axes, nothing of the old runs."""
        self._shown = None
        self._value_range.reset()
        empty = np.empty(0)
        self.set_runs([(empty, empty)] * len(self.curves))
        self._anchor.set_bounds(EMPTY_STEP_RANGE, EMPTY_DECADES)
        settle_range(self.plotItem.vb)

    def legend_entries(self) -> list[str]:
        """Plain text of a comparison's legend entries, one per run in run order."""
        return list(self._legend_entries)

    def set_font_scale(self, scale: float) -> None:
        super().set_font_scale(scale)
        font = QtGui.QFont()
        font.setPointSizeF(BASE_TICK_PT * self._font_scale)
        for line in self.overflow_lines:
            if (text := _label(line)) is not None:
                text.setFont(font)
        self._update_legend()

    def _apply_theme(self) -> None:
        """A single run in the theme's "measured" colour, its overflow in the overflow colour;
        a comparison in one colour per run (theme.series), line and marker alike."""
        width, dash = self._theme.line_width, QtCore.Qt.PenStyle.DashLine
        self._marker.setPen(pg.mkPen(self._theme.accent, width=width))
        fill = QtGui.QColor(self._theme.background)
        fill.setAlpha(200)  # a line's label stays readable over the curve it may cover
        for i, (curve, line) in enumerate(zip(self.curves, self.overflow_lines, strict=True)):
            curve.setPen(pg.mkPen(self._color(i), width=width))
            curve.setSymbolBrush(self._color(i))
            marker = self._color(i) if self._run_labels else NONFINITE_RGBA[:3]
            line.setPen(pg.mkPen(marker, width=width, style=dash))
            if (text := _label(line)) is not None:
                text.setColor(marker)
                text.fill = pg.mkBrush(fill)
                text.update()
        self._update_legend()

    def _color(self, run: int) -> tuple[int, int, int]:
        if not self._run_labels:
            return self._theme.measured
        return self._theme.series[run % len(self._theme.series)]

    def resizeEvent(self, event: QtGui.QResizeEvent | None) -> None:
        super().resizeEvent(event)
        if getattr(self, "_legend_state", False) is not False:  # not while constructing
            self._update_legend()  # as many entries a line as the new width holds

    def set_compact_legend(self, on: bool) -> None:
        """Name only the runs with news (where they overflowed): in a narrow column beside a
        2 x 2 grid, whose headings show each run's colour, a full legend took the plot's
        height."""
        self._compact_legend = bool(on)
        self._legend_state = None
        self._update_legend()

    def _update_legend(self) -> None:
        if not self._run_labels:
            return
        entries: list[tuple[int | None, str]] = [
            (i, label + (f" (inf/nan from step {at})" if at is not None else ""))
            for i, (label, at) in enumerate(zip(self._run_labels, self._overflow_at, strict=True))
        ]
        if self._compact_legend:
            stops = zip(entries, self._overflow_at, strict=True)
            news = [entry for entry, at in stops if at is not None]
            entries = news or [(None, "colours as in the headings")]
        size = BASE_TICK_PT * self._font_scale
        lines = self._pack(entries, size, max(200, self.width() - 120))
        state = (tuple(lines), size, self._theme.foreground)
        if state == self._legend_state:
            return  # unchanged: no relayout (this runs every frame and on every resize)
        self._legend_state, self._legend_entries = state, [text for _, text in entries]
        self._legend.setText("<br>".join(lines), color=self._theme.foreground, size=f"{size}pt")
        self._relayout()

    def _pack(
        self, entries: list[tuple[int | None, str]], point_size: float, width: float
    ) -> list[str]:
        """Entries (run index for the swatch's colour, or None for none; text) in as few HTML
        lines as fit ``width`` pixels."""
        font = QtGui.QFont()
        font.setPointSizeF(point_size)
        metrics = QtGui.QFontMetricsF(font)
        lines: list[str] = []
        used = 0.0
        for run, text in entries:
            colour = "" if run is None else to_hex(self._color(run))
            swatch = f"<span style='color:{colour}'>━━</span>&nbsp;" if colour else ""
            html = swatch + escape(text)
            needed = metrics.horizontalAdvance(f"━━ {text}      ")
            if lines and used + needed <= width:
                lines[-1] += "&nbsp;" * 6 + html
                used += needed
            else:
                lines.append(html)
                used = needed
        return lines


def _label(line: pg.InfiniteLine) -> pg.InfLineLabel | None:
    """A line's text label (pyqtgraph sets the attribute only for lines made with one)."""
    return getattr(line, "label", None)
