"""One layer profile for a comparison: the chosen statistic against layer, a line per run.

On one log axis the runs' slopes read side by side: for W = 0.5I / I / 2I, a line down, a flat
line and a line up. "Relative to the last layer" divides each run's line by its own last
layer's value, so runs whose outputs differ by 10³⁰ (the 2I net's error is huge) compare by
slope alone. A share (saturation) is drawn on a linear 0-100 % axis, never relative.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import numpy as np
import pyqtgraph as pg
from PySide6 import QtWidgets

from gradsim.app.model.replay import ProfileRow
from gradsim.app.views.colors import to_hex
from gradsim.app.views.plot_parts import (
    BASE_TICK_PT,
    FittedLabel,
    StableRange,
    _log_extent,
    _padded,
    _positive_finite,
    settle_range,
)
from gradsim.app.views.plots import EMPTY_DECADES, BasePlot
from gradsim.app.views.themes import DEFAULT_THEME, Theme
from gradsim.engine.stats import FRACTION_STATS, STAT_SHORT


class CompareProfilePlot(BasePlot):
    """Statistic against layer for 2-4 runs (a line and a colour each, as in the heatmaps)."""

    def __init__(
        self,
        labels: Sequence[str],
        theme: Theme = DEFAULT_THEME,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent, log_axis="left")
        self._run_labels = list(labels)
        self.curves = [pg.PlotDataItem(symbol="o", symbolPen=None) for _ in self._run_labels]
        for curve in self.curves:
            self._add(curve)
        self._legend = FittedLabel(" ", justify="left")
        self.plotItem.layout.addItem(self._legend, 4, 1)
        self._legend_html = ""
        self._entries: list[str] = []
        self._compact_legend = False
        self._shown: tuple[object, ...] | None = None
        self._range = StableRange()
        self._mode: tuple[str, bool] | None = None  # (metric, relative) the axes are set up for
        self.set_theme(theme)
        self._anchor.set_bounds((0.5, 10.5), EMPTY_DECADES)

    def set_profiles(
        self,
        rows: Sequence[ProfileRow | None],
        metric: str,
        relative: bool,
        applies: Sequence[np.ndarray],
    ) -> None:
        """Draw each run's ``rows[i]`` (None: nothing recorded yet); layers outside
        ``applies[i]`` are left out. ``relative``: each line over its own last layer."""
        fraction = metric in FRACTION_STATS
        relative = relative and not fraction
        key = (
            tuple(None if r is None else (r.step, r.values.tobytes()) for r in rows),
            metric,
            relative,
        )
        if key == self._shown:
            return  # nothing new: no work, no repaint
        self._shown = key
        self._set_mode(metric, relative, fraction)
        drawn: list[np.ndarray] = []
        notes: list[str] = []
        longest = 1
        for curve, row, mask in zip(self.curves, rows, applies, strict=True):
            if row is None:
                curve.setData([], [])
                notes.append("no steps yet")
                continue
            values = row.values.astype(np.float64)
            layers = np.arange(1, values.size + 1, dtype=np.float64)
            longest = max(longest, values.size)
            if relative:
                with np.errstate(all="ignore"):
                    values = values / values[-1]
            ok = (np.isfinite(values) if fraction else _positive_finite(values)) & mask
            curve.setData(layers[ok], values[ok])
            drawn.append(values[ok])
            missing = int(np.count_nonzero(mask & ~ok))
            note = f"step {row.step}"
            if missing:
                note += f", {missing} layer{'s' * (missing != 1)} not drawn (0 or inf/nan)"
            notes.append(note)
        self._write_legend(notes)
        x = _padded(np.arange(1, longest + 1), self.plotItem.vb.width())
        if fraction:
            self._anchor.set_bounds(x, (-0.08, 1.08))
        else:
            finite = np.concatenate(drawn) if drawn else np.empty(0)
            self._anchor.set_bounds(x, self._range.update(*_log_extent(finite)))
        settle_range(self.plotItem.vb)

    def clear(self) -> None:
        self._shown = None
        self._range.reset()
        for curve in self.curves:
            curve.setData([], [])
        self._anchor.set_bounds((0.5, 10.5), EMPTY_DECADES)
        settle_range(self.plotItem.vb)

    def legend_entries(self) -> list[str]:
        """The legend's plain text, one entry per run ("W = 2I (step 0)")."""
        return list(self._entries)

    def _set_mode(self, metric: str, relative: bool, fraction: bool) -> None:
        if self._mode == (metric, relative):
            return
        self._mode = (metric, relative)
        self._range.reset()
        self.plotItem.setLogMode(x=False, y=not fraction)
        shares = [[(v / 4, f"{25 * v} %") for v in range(5)], []] if fraction else None
        self.plotItem.getAxis("left").setTicks(shares)
        name = STAT_SHORT.get(metric, metric)
        self.set_axis_labels("layer (1 = input)", f"{name} ÷ last layer's" if relative else name)

    def _write_legend(self, notes: Sequence[str]) -> None:
        """One line of runs (wrapping only if it must): the plot keeps its height. When every
        run shows the same step, the title says it once."""
        pairs = list(zip(self._run_labels, notes, strict=True))
        self._entries = [f"{label} ({note})" for label, note in pairs]
        same = len(set(notes)) == 1 and notes[0].startswith("step ")
        relative = self._mode is not None and self._mode[1]
        title = [notes[0]] if same else []
        self._set_title(", ".join(title + (["relative to the last layer"] if relative else [])))
        entries = []
        if self._compact_legend and same:  # a narrow column: the headings show the colours
            pairs = []
            entries.append("colours as in the headings")
        for i, (label, note) in enumerate(pairs):
            colour = to_hex(self._theme.series[i % len(self._theme.series)])
            text = escape(label) if same else f"{escape(label)} ({escape(note)})"
            entries.append(f"<span style='color:{colour}'>—●—</span>&nbsp;{text}")
        html = "&nbsp;&nbsp;&nbsp; ".join(entries)
        if html != self._legend_html:
            self._legend_html = html
            self._legend.setText(
                html, color=self._theme.foreground, size=f"{BASE_TICK_PT * self._font_scale}pt"
            )
            self._relayout()

    def set_compact_legend(self, on: bool) -> None:
        """No run names when every run shows the same step (see LossPlot's)."""
        self._compact_legend = bool(on)
        self._legend_html = ""
        self._shown = None

    def set_font_scale(self, scale: float) -> None:
        super().set_font_scale(scale)
        self._legend_html = ""  # rewrite at the new size
        self._shown = None

    def _apply_theme(self) -> None:
        theme = self._theme
        for i, curve in enumerate(self.curves):
            colour = theme.series[i % len(theme.series)]
            curve.setPen(pg.mkPen(colour, width=theme.line_width))
            curve.setSymbolBrush(colour)
            curve.setSymbolSize(5 * theme.line_width / 2)
        self._legend_html = ""
        self._shown = None
