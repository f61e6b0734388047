"""Per-layer, per-step heatmap of one statistic: the picture the class watches blow up.

Colouring happens in numpy (colors.py): the image handed to pyqtgraph is final RGBA, so zeros
and overflows keep their own colours and pyqtgraph never computes levels. The global
pyqtgraph configuration is left alone (other widgets share it); row-major order is set on
this ImageItem only.
"""

from __future__ import annotations

import math
from html import escape

import numpy as np
import pyqtgraph as pg
from pyqtgraph.GraphicsScene.mouseEvents import MouseClickEvent
from PySide6 import QtCore

from gradsim.app.views.colorbar import DecadeColorBar
from gradsim.app.views.colors import (
    DEFAULT_LEVELS,
    NONFINITE_RGBA,
    VIRIDIS_LUT,
    colorize_log_packed,
    format_value,
    log_values,
    special_key,
    to_hex,
)
from gradsim.app.views.plot_parts import (
    BASE_LABEL_PT,
    BASE_TICK_PT,
    HOVER_RATE_HZ,
    FittedLabel,
    IntegerAxis,
    no_si_prefix,
    quiet_hidden_axes,
    settle_range,
    style_axis,
)
from gradsim.app.views.themes import DEFAULT_THEME, Theme
from gradsim.engine.stats import FRACTION_STATS, STAT_SHORT, STAT_TITLES

EMPTY_STEPS = 100  # steps the empty axes show when the whole run is shown


class HeatmapView(pg.GraphicsLayoutWidget):
    """Heatmap of a metric: x = training step, y = layer (1 = input, at the bottom).

    Layout: a readout line (metric name, or the value under the mouse), the plot with a colour
    bar in decades, and a legend for the two special colours. While the view follows (the
    default, and again after ``follow()`` or a double-click) it shows the last ``window``
    steps; once the user zooms or pans, it draws whatever step range is visible instead, at up
    to ``max_columns`` columns (fewer for very deep nets, see ``max_cells``), so zooming into a
    long run reveals every recorded step.
    """

    # A compact heatmap (in a comparison) has no title line of its own: its hover readout
    # ("step 5, layer 3: ... = 0.2"; "" when the mouse leaves) goes to the comparison's.
    hovered = QtCore.Signal(str)
    # A click on a cell: replay its recorded step in every view (double-click: follow again).
    stepClicked = QtCore.Signal(int)
    # The layer (0-based) under the mouse: the distributions panel follows it.
    layerHovered = QtCore.Signal(int)

    def __init__(
        self,
        parent: QtCore.QObject | None = None,
        max_columns: int = 1500,
        max_cells: int = 600_000,
    ) -> None:
        super().__init__(parent=parent)
        self._theme = DEFAULT_THEME
        self.setBackground(self._theme.background)  # the widget takes no background= argument
        # GraphicsLayoutWidget binds GraphicsLayout.clear (removes every item) on the instance,
        # shadowing our data-only clear(); drop it.
        del self.clear
        self._max_columns = max_columns
        # Cells drawn per frame at most (~8 ms here): deep nets get fewer columns, not a
        # stalled GUI (2000 layers x 1500 columns costs ~40 ms a frame).
        self._max_cells = max_cells
        self._window: int | None = None
        self._levels = DEFAULT_LEVELS  # decades: the view that holds the heatmap sets them
        self._metric = ""
        self._fraction = False  # the statistic is a share in [0, 1]: a linear colour scale
        self._n_a: np.ndarray | None = None  # layers where the statistic does not apply
        self._font_scale = 1.0
        self._steps = np.empty(0, dtype=np.int64)
        self._values = np.empty((0, 0))
        self._empty_layers = 10  # what the empty axes show until a run says
        self._clear_drawn()

        self._readout = FittedLabel(" ", justify="left")
        self.addItem(self._readout, row=0, col=0, colspan=2)
        self._plot: pg.PlotItem = self.addPlot(
            row=1,
            col=0,
            axisItems={"left": IntegerAxis("left"), "bottom": IntegerAxis("bottom")},
            enableMenu=False,  # never built (the app shows no plot menus)
        )
        quiet_hidden_axes(self._plot)
        self._vb: pg.ViewBox = self._plot.getViewBox()
        self._vb.setDefaultPadding(0.0)
        self._image = pg.ImageItem(axisOrder="row-major")
        self._plot.addItem(self._image)
        # A single overflow column can be narrower than a pixel on a long run: a dashed line
        # and a note in the title point at it.
        self._overflow_line = pg.InfiniteLine(
            angle=90,
            pen=pg.mkPen(to_hex(NONFINITE_RGBA), width=2, style=QtCore.Qt.PenStyle.DashLine),
        )
        self._overflow_line.setVisible(False)
        self._plot.addItem(self._overflow_line, ignoreBounds=True)
        # The replayed step (hidden while the views follow the newest step): a light line on
        # a dark one, visible on every colour of the map.
        self._marker_under = pg.InfiniteLine(angle=90, movable=False)
        self._marker = pg.InfiniteLine(angle=90, movable=False)
        for line in (self._marker_under, self._marker):
            line.setVisible(False)
            self._plot.addItem(line, ignoreBounds=True)
        self._notes = ""
        self._compact = False
        self._readout_text = ""
        self._hover_pos: QtCore.QPointF | None = None  # scene position while the mouse is over

        self._cbar = DecadeColorBar(self._levels)
        self.addItem(self._cbar, row=1, col=1)
        self._legend = FittedLabel(" ", justify="right")
        self.addItem(self._legend, row=2, col=0, colspan=2)

        self._hover = pg.SignalProxy(
            self.scene().sigMouseMoved, rateLimit=HOVER_RATE_HZ, slot=self._on_mouse_moved
        )
        self.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        # Range changes (user zoom/pan) and auto-range toggles ("A" button) both may change
        # which steps should be drawn.
        self._vb.sigXRangeChanged.connect(self._on_view_changed)
        self._vb.sigStateChanged.connect(self._on_view_changed)
        self._apply_fonts()
        self._cbar.show_scale(*self._levels, self._fraction)

    # --- public API ---------------------------------------------------------------------------

    def set_metric(self, name: str) -> None:
        """The statistic shown: named in the title, the colour bar and the hover readout; a
        fraction (``FRACTION_STATS``) is coloured on a linear 0-1 scale, the rest by decade."""
        if name != self._metric:
            self._metric = name
            self._fraction = name in FRACTION_STATS
            self._apply_fonts()  # rewrites the labels, which carry the name
            self._render()

    def set_not_applicable(self, layers: np.ndarray | None) -> None:
        """Layers (a bool per layer, True: n/a) where the statistic means nothing: drawn
        blank and read out as "n/a", never as a value (or an underflow)."""
        mask = None if layers is None or not np.any(layers) else np.asarray(layers, dtype=bool)
        old = self._n_a
        same = mask is None or old is None or np.array_equal(mask, old)
        if (mask is None) != (old is None) or not same:
            self._n_a = mask
            self._apply_fonts()  # the key names "n/a" only when there is some
            self._render()

    def set_data(self, steps: np.ndarray, values: np.ndarray) -> None:
        """Show ``values`` (n, L) recorded at ``steps`` (n,), strictly increasing; n == 0 clears.

        The arrays are kept (not copied) to redraw on zoom or window changes: pass arrays the
        caller will not modify afterwards. Data equal to what is shown (a paused run) costs a
        comparison and no drawing. The view range follows before this returns, so the update
        takes one paint.
        """
        steps = np.asarray(steps, dtype=np.int64)
        values = np.asarray(values)
        if steps.size == 0:
            self._show_empty()
            return
        if values.ndim != 2 or values.shape[0] != steps.size:
            raise ValueError(f"values must be (n, L) with n = {steps.size}, got {values.shape}")
        if self._same_data(steps, values):
            return  # what is drawn is up to date: no recolouring, no upload, no repaint
        if values.shape[1] != self._values.shape[1]:  # keep panning within the layers
            self._vb.setLimits(yMin=0.5, yMax=values.shape[1] + 0.5)
        self._steps, self._values = steps, values
        self._render()

    def clear(self, layers: int | None = None) -> None:
        """Remove the data (a new run of ``layers`` layers, or as many as before): the axes
        start afresh, showing the first steps of an empty net."""
        if layers is not None:
            self._empty_layers = max(1, int(layers))
        self.set_data(np.empty(0, dtype=np.int64), np.empty((0, 0)))

    def _show_empty(self) -> None:
        """Nothing of an earlier run may linger: steps from 0, every layer.

        A transparent one-pixel image spans the empty axes, so that following (auto-range)
        fits them now and the first step's column later."""
        self._steps, self._values = np.empty(0, dtype=np.int64), np.empty((0, 0))
        self._clear_drawn()
        self._overflow_line.setVisible(False)
        self._notes = ""
        layers = self._empty_layers
        self._image.setImage(np.zeros((1, 1, 4), dtype=np.uint8), autoLevels=False)
        self._image.setRect(QtCore.QRectF(-0.5, 0.5, self._window or EMPTY_STEPS, layers))
        self._vb.setLimits(yMin=0.5, yMax=layers + 0.5)
        self._vb.enableAutoRange(enable=True)
        self._refresh_readout()
        settle_range(self._vb)

    def set_window(self, steps: int | None) -> None:
        """Show the last ``steps`` steps while following; None shows the whole run."""
        window = None if steps is None else max(1, int(steps))
        if window != self._window:
            self._window = window
            self._render()

    def set_levels(self, lo: float, hi: float) -> None:
        """Colour [lo, hi] decades from the first to the last colour (``SharedLevels``
        chooses them for a view's heatmaps)."""
        if not hi > lo:
            raise ValueError(f"need lo < hi, got {lo}, {hi}")
        if (lo, hi) != self._levels:
            self._levels = (float(lo), float(hi))
            self._recolor()
        self._cbar.show_scale(lo, hi, self._fraction, self.beyond())

    def beyond(self) -> tuple[bool, bool]:
        """Whether drawn values lie below and above the colour levels (drawn in the end
        colours: the colour bar's end labels say "≤" and "≥")."""
        low, high = self._extent
        return low < self._levels[0] - 1e-9, high > self._levels[1] + 1e-9

    def levels(self) -> tuple[float, float]:
        """Current colour levels in decades (lo, hi)."""
        return self._levels

    def drawn_extent(self, before: int | None = None) -> tuple[float, float]:
        """(min, max) of the finite values drawn (log10 but for a fraction), in the columns
        of steps before ``before`` if given (and if there are any); (inf, -inf): none."""
        if before is not None and self._log.size:
            keep = self._col_steps < before
            if keep.any() and not keep.all():
                cells = self._log[keep]
                finite = np.isfinite(cells)
                return (
                    float(np.min(cells, where=finite, initial=np.inf)),
                    float(np.max(cells, where=finite, initial=-np.inf)),
                )
        return self._extent

    def is_fraction(self) -> bool:
        return self._fraction

    def not_applicable(self) -> np.ndarray | None:
        """The layers drawn as n/a (None: none)."""
        return self._n_a

    def follow(self) -> None:
        """Go back to following the newest data (undoes the user's zoom and pan)."""
        self._vb.enableAutoRange(enable=True)
        self._render()

    def set_x_range(self, first: int, last: int) -> None:
        """Pin the step axis to ``first``..``last`` whatever the data, as a user's zoom would
        (the view stops following; ``follow()`` undoes it). Steps not recorded yet stay empty,
        so a growing run fills the plot from left to right (the animated GIF export)."""
        if last < first:
            raise ValueError(f"need first <= last, got {first}, {last}")
        self._vb.setXRange(first - 0.5, last + 0.5, padding=0.0)  # disables x auto-range
        self._on_view_changed()

    def is_following(self) -> bool:
        """True unless the user has zoomed or panned the step axis."""
        return bool(self._vb.autoRangeEnabled()[0])

    def value_at(self, x: float, y: float) -> tuple[int, int, float] | None:
        """(recorded step, layer, value) drawn at view coordinates (x = step, y = layer)."""
        if self._grid.size == 0 or not (math.isfinite(x) and math.isfinite(y)):
            return None
        u = (x - (self._x0 - 0.5)) / self._span
        layer = math.floor(y + 0.5)
        columns, layers = self._grid.shape
        if not (0.0 <= u < 1.0 and 1 <= layer <= layers):
            return None
        column = min(int(u * columns), columns - 1)
        return int(self._col_steps[column]), layer, float(self._grid[column, layer - 1])

    def displayed_rgba(self) -> np.ndarray:
        """Copy of the image shown: (L, columns, 4) uint8, row 0 = layer 1 (drawn at the bottom),
        column 0 = the oldest step drawn."""
        return self._rgba.copy()

    def displayed_steps(self) -> np.ndarray:
        """Recorded step shown in each column of ``displayed_rgba``."""
        return self._col_steps.copy()

    def readout_text(self) -> str:
        """The line above the plot: the metric (and overflow notes), or the hovered value."""
        return self._readout_text

    def make_compact(self) -> None:
        """For a grid of heatmaps that share one colour bar and one key (a comparison): no
        colour bar, key or title line of its own; hover readouts are sent as ``hovered``."""
        self._compact = True
        for item in (self._cbar, self._legend, self._readout):
            self.ci.layout.removeItem(item)
            item.hide()
        self._show_title()

    def set_font_scale(self, scale: float) -> None:
        """Scale every text (e.g. 1.5 for a presentation mode)."""
        self._font_scale = float(scale)
        self._apply_fonts()

    def set_theme(self, theme: Theme) -> None:
        """Background and text colours (the data keeps its colours: they are the lesson)."""
        self._theme = theme
        self.setBackground(theme.background)
        self._apply_fonts()

    # --- drawing ------------------------------------------------------------------------------

    def _same_data(self, steps: np.ndarray, values: np.ndarray) -> bool:
        """Whether set_data got what it already shows (window, zoom and levels changes redraw
        on their own, so equal data means an equal picture)."""
        if steps.shape != self._steps.shape or values.shape != self._values.shape:
            return False
        if steps is not self._steps and not np.array_equal(steps, self._steps):
            return False
        return values is self._values or np.array_equal(values, self._values, equal_nan=True)

    def _clear_drawn(self) -> None:
        self._x0, self._span = 0, 1
        self._col_steps = np.empty(0, dtype=np.int64)
        self._grid = np.empty((0, 0))  # (columns, L): the raw values drawn
        self._log = np.empty((0, 0))
        self._extent = (math.inf, -math.inf)
        self._rgba = np.empty((0, 0, 4), dtype=np.uint8)

    def _x_extent(self) -> tuple[int, int]:
        first, last = int(self._steps[0]), int(self._steps[-1])
        if not self.is_following():  # draw what the user is looking at
            vx0, vx1 = self._vb.viewRange()[0]
            x0, x1 = max(first, math.floor(vx0)), min(last, math.ceil(vx1))
            if x0 <= x1:
                return x0, x1
        if self._window is None:
            return first, last
        return max(first, last - self._window + 1), last

    def _render(self) -> None:
        if self._steps.size == 0:
            return
        x0, x1 = self._x_extent()
        span = x1 - x0 + 1
        layers = self._values.shape[1]
        columns = min(self._max_columns, span, max(100, self._max_cells // max(layers, 1)))
        # Column c spans [x0 - 0.5 + c*span/C, x0 - 0.5 + (c+1)*span/C) and shows the most
        # recent recorded step at or before the last step starting in it (the newest step is
        # always the last column). Gaps from decimated history thus never stretch the x axis.
        c = np.arange(1, columns + 1, dtype=np.int64)
        col_last = x0 - 1 - ((-c * span) // columns)
        index = np.searchsorted(self._steps, col_last, side="right") - 1  # >= 0: x0 >= first
        self._x0, self._span = x0, span
        self._col_steps = self._steps[index]
        # Work in (columns, layers), the order of the gathered rows; only the packed RGBA
        # image (4 bytes a cell) is transposed into the row-major (layers, columns) image.
        self._grid = self._values[index]
        self._log = self._grid.astype(np.float64) if self._fraction else log_values(self._grid)
        if self._n_a is not None and self._n_a.size == layers:
            self._log[:, self._n_a] = -np.inf  # coloured over with blank below, never counted
        finite = np.isfinite(self._log)
        self._extent = (
            float(np.min(self._log, where=finite, initial=np.inf)),
            float(np.max(self._log, where=finite, initial=-np.inf)),
        )
        self._recolor()
        self._mark_specials(finite)
        self._image.setRect(QtCore.QRectF(x0 - 0.5, 0.5, span, layers))
        settle_range(self._vb)  # follow the new steps now: one paint per update
        if self._hover_pos is not None:  # the cell under a resting mouse has a new value
            self._refresh_readout()

    def _recolor(self) -> None:
        if self._log.size == 0:
            return
        packed = colorize_log_packed(self._log, *self._levels, VIRIDIS_LUT, self._theme.underflow)
        if self._n_a is not None and self._n_a.size == packed.shape[1]:
            packed[:, self._n_a] = 0  # transparent: the background shows, "blank: n/a"
        rows = np.ascontiguousarray(packed.T)
        self._rgba = rows.view(np.uint8).reshape((*rows.shape, 4))
        self._image.setImage(self._rgba, autoLevels=False)

    def _mark_specials(self, finite: np.ndarray) -> None:
        """Note in the title the first drawn step with an overflow and with an exact zero."""
        special = ~finite
        if self._n_a is not None and self._n_a.size == special.shape[1]:
            special[:, self._n_a] = False  # blank: neither underflow nor overflow
        zero_cells = special & (self._log == -np.inf)
        overflow = np.flatnonzero((special & ~zero_cells).any(axis=1))
        notes = []
        if overflow.size:
            first = int(overflow[0])
            x = self._x0 - 0.5 + first * self._span / self._log.shape[0]
            self._overflow_line.setValue(x)
            notes.append(
                f"<span style='color:{to_hex(NONFINITE_RGBA)}'>inf/nan from step "
                f"{self._col_steps[first]}</span>"
            )
        self._overflow_line.setVisible(bool(overflow.size))
        zero = np.flatnonzero(zero_cells.any(axis=1))
        if zero.size:
            notes.append(f"0 (underflow) from step {self._col_steps[zero[0]]}")
        text = " — " + ", ".join(notes) if notes else ""
        if text != self._notes:
            self._notes = text
            self._refresh_readout()

    # --- text ---------------------------------------------------------------------------------

    def _apply_fonts(self) -> None:
        scale, theme = self._font_scale, self._theme
        for key in ("left", "right", "top", "bottom"):  # the colour bar's frame
            self._cbar.getAxis(key).setPen(theme.foreground)
        # The replay mark: wide enough to find on a 1000-step heatmap.
        width = max(2.0, theme.line_width)
        self._marker_under.setPen(pg.mkPen("#000000", width=width + 3))
        self._marker.setPen(pg.mkPen("#ffffff", width=width))
        style_axis(self._plot.getAxis("bottom"), "training step", scale, theme=theme)
        style_axis(
            self._plot.getAxis("left"), "layer (1 = input)", scale, widest_tick="2000", theme=theme
        )
        # Fixed width (widest tick "10⁻³⁰⁰"), never setWidth(None): an auto-sized colour bar
        # axis made the process segfault at interpreter exit about one time in three
        # (PySide6 6.11, pyqtgraph 0.14). ColorBarItem's own 45 px clips the labels.
        label = STAT_SHORT.get(self._metric, self._metric or "value")
        style_axis(self._cbar.axis, label, scale, widest_tick="10⁻³⁰⁰", theme=theme)
        no_si_prefix(self._cbar.axis)
        self._legend.setText(
            special_key(None if self._fraction else theme.underflow, self._n_a is not None),
            color=theme.foreground,
            size=f"{BASE_TICK_PT * self._font_scale}pt",
        )
        self._show_title()

    def _show_title(self) -> None:
        title = escape(STAT_TITLES.get(self._metric, self._metric))  # "σ′ < 0.05" is not a tag
        text = f"<b>{title}</b>{self._notes}" if self._metric else self._notes
        if self._compact:
            # The comparison's headings say it (and where a run diverged): a note here would
            # make this panel's title taller than its neighbours'.
            text = ""
        text = text or " "
        self._set_readout(text)

    def _set_readout(self, text: str) -> None:
        self._readout_text = text
        if self._compact:
            self.hovered.emit(text.strip())
            return
        self._readout.setText(
            text, color=self._theme.foreground, size=f"{BASE_LABEL_PT * self._font_scale}pt"
        )

    # --- mouse --------------------------------------------------------------------------------

    def _on_mouse_moved(self, args: tuple) -> None:
        pos = args[0]
        self._hover_pos = pos if self._vb.sceneBoundingRect().contains(pos) else None
        self._refresh_readout()

    def leaveEvent(self, event: QtCore.QEvent) -> None:
        """The mouse left the widget (no more move signals): show the title again."""
        self._hover_pos = None
        self._show_title()
        super().leaveEvent(event)

    def _refresh_readout(self) -> None:
        """The value under the mouse if it rests on a cell, else the title."""
        hit = None
        if self._hover_pos is not None:
            point = self._vb.mapSceneToView(self._hover_pos)
            hit = self.value_at(point.x(), point.y())
        if hit is None:
            self._show_title()
            return
        step, layer, value = hit
        self.layerHovered.emit(layer - 1)
        n_a = self._n_a is not None and layer <= self._n_a.size and self._n_a[layer - 1]
        shown = "n/a" if n_a else format_value(value, self._fraction)
        name = STAT_SHORT.get(self._metric, self._metric or "value")
        self._set_readout(f"step {step}, layer {layer}: {name} = {shown}")

    def _on_mouse_clicked(self, event: MouseClickEvent) -> None:
        if not self._vb.sceneBoundingRect().contains(event.scenePos()):
            return
        if event.double():
            self.follow()
            return
        point = self._vb.mapSceneToView(event.scenePos())
        hit = self.value_at(point.x(), point.y())
        if hit is not None:
            self.stepClicked.emit(hit[0])

    def set_marked_step(self, step: int | None) -> None:
        """Mark the replayed ``step`` with a line (None: no mark, the newest is shown)."""
        for line in (self._marker_under, self._marker):
            line.setVisible(step is not None)
            if step is not None:
                line.setValue(float(step))

    def _on_view_changed(self, *_: object) -> None:
        if self._steps.size and self._x_extent() != (self._x0, self._x0 + self._span - 1):
            self._render()  # zoomed/panned to other steps, or back to following
