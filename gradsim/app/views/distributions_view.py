"""The distributions panel: every layer's histogram at one step, and one layer over time.

An RMS says how big a layer's values are; this panel shows how they spread: tanh inputs
piling up where the slope σ′(z) is flat, ReLU units at exactly 0, gradients sliding down the
octaves layer after layer until they underflow to 0. Top: all layers at the step shown, as a
ridgeline (one curve per layer, layer 1 at the bottom) or an image (layer × bin, coloured by
the bin's share of the layer's values). Bottom: the chosen layer's percentile bands against
step. The numbers come from ``distribution_plots``; this module lays them out and keeps
repeated calls with unchanged data free (the window calls ``set_data`` every frame).
"""

from __future__ import annotations

import html
import sys

import numpy as np
import pyqtgraph as pg
from pyqtgraph.GraphicsScene.mouseEvents import MouseClickEvent
from PySide6 import QtCore, QtGui, QtWidgets

from gradsim.app.views.colorbar import DecadeColorBar
from gradsim.app.views.colors import NONFINITE_RGBA, to_hex
from gradsim.app.views.distribution_plots import (
    OVERLAP,
    QS,
    RIDGE_PX,
    BandPlot,
    Bar,
    BoundedAxis,
    LayerAxis,
    Panel,
    Ridge,
    RidgeItem,
    RidgeStyle,
    band_quantiles,
    column_rgba,
    column_spans,
    number,
    ordinal,
    panel_of,
    ridge_layers,
    ridge_step,
    share_levels,
    share_rgba,
)
from gradsim.app.views.plot_parts import (
    BASE_LABEL_PT,
    BASE_TICK_PT,
    FittedLabel,
    IntegerAxis,
    LogAxis,
    StableRange,
    quiet_hidden_axes,
    style_axis,
)
from gradsim.app.views.themes import DEFAULT_THEME, Theme
from gradsim.engine.activations import evaluate
from gradsim.engine.distributions import (
    KIND_TITLES,
    KINDS,
    VALUE_KINDS,
    DistributionHistory,
    StepDistributions,
)

MODES: tuple[str, ...] = ("ridgeline", "image")
EMPTY_TEXT = "no distributions measured yet: press Space or →"
# The x axis of the all-layers plot (words first; a short axis keeps the part before " (").
AXIS_TITLES: dict[str, str] = {
    "activation": "signal leaving the layer (h)",
    "preactivation": "input of the activation (z)",
    "backprop_grad": "size of the gradient (|∂loss/∂z|)",
    "weight_grad": "size of the weight gradient (|∂loss/∂W|)",
}
# The bands' value axis: vertical and short in presentation mode, so symbols only.
SYMBOLS: dict[str, str] = {
    "activation": "h",
    "preactivation": "z",
    "backprop_grad": "|∂loss/∂z|",
    "weight_grad": "|∂loss/∂W|",
}
_NEWEST = sys.maxsize
POINTER_PX = 14.0  # the image's arrows at the chosen row, at font scale 1
# The chosen layer over time shows when the plots have this many lines of tick text in height:
# below that, all of it would go to two plots too flat to read, so the layers keep it.
BANDS_MIN_LINES = 20


class DistributionsView(QtWidgets.QWidget):
    """One run's per-layer histograms (a ``DistributionHistory``), for the single-run window."""

    layerPicked = QtCore.Signal(int)  # the user clicked a layer (0-based) in this panel
    kindChanged = QtCore.Signal(str)  # the user chose another kind in the panel
    modeChanged = QtCore.Signal(str)  # ... or another display mode

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._theme, self._scale = DEFAULT_THEME, 1.0
        self._kind, self._mode, self._layer = "backprop_grad", "ridgeline", 0
        self._history: DistributionHistory | None = None
        self._entry: StepDistributions | None = None
        self._panel: Panel | None = None
        self._shown_step: int | None = None
        self._activation, self._depth = "tanh", 0  # 0: no net yet (any layer may be chosen)
        self._main_key: tuple[object, ...] | None = None  # what the top plot shows
        self._band_key: tuple[object, ...] | None = None  # what the bottom plot shows
        self._bands_shown = True
        self.draws = 0  # redraws of the top plot (tests: unchanged data must not redraw)
        self.band_draws = 0
        self._sigma: tuple[np.ndarray, np.ndarray] | None = None  # (z, σ′(z)) drawn
        self._image_shares = np.empty((0, 0))
        self._x_range = StableRange(min_span=2.0)  # decades of a log kind's octaves
        self._build_controls()
        self._message = QtWidgets.QLabel(EMPTY_TEXT)
        self._message.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self._message.setWordWrap(True)
        self._canvas = pg.GraphicsLayoutWidget()
        self._stack = QtWidgets.QStackedWidget()  # the plots, or the message
        self._stack.addWidget(self._message)
        self._stack.addWidget(self._canvas)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._controls)
        layout.addWidget(self._stack, 1)
        self._build_plots()
        self._restyle()

    def _build_controls(self) -> None:
        """The title row: "[kind ▾]  [ridgeline | image]". The kind is the title and its
        control at once; the step and the layers drawn open the notes under the plot (a
        projector's font leaves no room for them in this row)."""
        self._controls = QtWidgets.QWidget()
        row = QtWidgets.QHBoxLayout(self._controls)
        row.setContentsMargins(4, 2, 4, 2)
        self._kind_box = _KindBox()
        for kind in KINDS:
            self._kind_box.addItem(KIND_TITLES[kind], kind)
        self._kind_box.setCurrentIndex(KINDS.index(self._kind))
        self._kind_box.setToolTip("what is binned, for every layer")
        self._kind_box.currentIndexChanged.connect(self._on_kind_box)
        self._step_text = ""  # ", step 120, every 4th layer": the rest of the title
        row.addWidget(self._kind_box)
        row.addStretch(1)
        self._mode_buttons: dict[str, QtWidgets.QToolButton] = {}
        group = QtWidgets.QButtonGroup(self)
        tips = {
            "ridgeline": "one curve per layer, layer 1 at the bottom",
            "image": "layer × bin, coloured by the bin's share of the layer's values",
        }
        for mode in MODES:
            button = QtWidgets.QToolButton()
            button.setText(mode)
            button.setCheckable(True)
            button.setChecked(mode == self._mode)
            button.setToolTip(tips[mode])
            button.clicked.connect(lambda _=False, m=mode: self._on_mode_button(m))
            group.addButton(button)
            self._mode_buttons[mode] = button
            row.addWidget(button)

    def _build_plots(self) -> None:
        canvas = self._canvas
        axes = {
            "bottom": BoundedAxis("bottom"),
            "left": LayerAxis("left"),
            "right": BoundedAxis("right"),
        }
        self._plot: pg.PlotItem = canvas.addPlot(row=1, col=0, axisItems=axes, enableMenu=False)
        self._sigma_axis: BoundedAxis = self._plot.getAxis("right")
        self._sigma_axis.unlinkFromView()  # σ′'s own scale, set with the view's range
        self._cbar = DecadeColorBar((-4.0, 0.0))
        self._cbar_shown = False
        self._notes = FittedLabel(" ", justify="left")
        canvas.addItem(self._notes, row=2, col=0, colspan=2)
        self._band_title = FittedLabel(" ", justify="left")
        canvas.addItem(self._band_title, row=3, col=0, colspan=2)
        band_axes = {"bottom": IntegerAxis("bottom"), "left": LogAxis("left")}
        band_plot = canvas.addPlot(row=4, col=0, axisItems=band_axes, enableMenu=False)
        self._bands = BandPlot(band_plot)
        canvas.ci.setContentsMargins(4, 2, 4, 2)
        canvas.ci.layout.setVerticalSpacing(0)
        canvas.ci.layout.setRowStretchFactor(1, 3)
        canvas.ci.layout.setRowStretchFactor(4, 2)
        for plot in (self._plot, band_plot):
            quiet_hidden_axes(plot)
            plot.setMouseEnabled(False, False)  # the ranges are the data's, set when drawn
            plot.hideButtons()
            plot.vb.setDefaultPadding(0.0)
            plot.vb.disableAutoRange()
        for key in ("left", "bottom"):  # opaque grid lines (GridAxis) go under the data
            band_plot.getAxis(key).setZValue(band_plot.vb.zValue() - 1)
        self._ridges = RidgeItem()
        self._image = pg.ImageItem(axisOrder="row-major")
        self._column_images = (
            pg.ImageItem(axisOrder="row-major"),
            pg.ImageItem(axisOrder="row-major"),
        )
        # The chosen layer's row in the image: arrows at both ends (an outline would hide a
        # row only a few pixels high).
        self._pointers = pg.ScatterPlotItem(pxMode=True)
        self._sigma_curve = pg.PlotDataItem()
        self._labels = (pg.TextItem(anchor=(0.5, 0.0)), pg.TextItem(anchor=(0.5, 0.0)))
        items = (
            self._image,
            *self._column_images,
            self._ridges,
            self._sigma_curve,
            self._pointers,
            *self._labels,
        )
        for z, item in enumerate(items):
            item.setZValue(z)
            self._plot.addItem(item, ignoreBounds=True)
        self._plot.vb.sigResized.connect(self._on_resized)
        canvas.scene().sigMouseClicked.connect(self._on_clicked)

    # -- public API --------------------------------------------------------------------------

    @property
    def kind(self) -> str:
        return self._kind

    @property
    def mode(self) -> str:
        return self._mode

    @property
    def layer(self) -> int:
        """The chosen layer (0-based): highlighted above, its bands below."""
        return self._layer

    def set_data(
        self,
        history: DistributionHistory | None,
        shown_step: int | None,
        activation: str,
        depth: int,
    ) -> None:
        """Draw ``history.at(shown_step)`` (None: the newest) of a net of ``depth`` layers.
        Unchanged data cost a few comparisons: the entry drawn is compared by identity."""
        if history is not self._history:
            self._x_range.reset()
            self._bands.reset()
        self._history, self._shown_step = history, shown_step
        self._activation, self._depth = activation, max(1, int(depth))
        self._layer = min(self._layer, self._depth - 1)
        self._refresh()

    def set_layer(self, layer: int) -> None:
        """Choose a layer (0-based), e.g. the one hovered in the heatmap or the profile."""
        layer = max(0, int(layer))
        if self._depth:
            layer = min(layer, self._depth - 1)
        if layer != self._layer:
            self._layer = layer
            self._bands.reset()
            self._refresh()

    def set_kind(self, kind: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; known: {', '.join(KINDS)}")
        if kind != self._kind:
            self._kind = kind
            self._x_range.reset()
            self._bands.reset()
            with QtCore.QSignalBlocker(self._kind_box):
                self._kind_box.setCurrentIndex(KINDS.index(kind))
            self._kind_box.updateGeometry()  # its width follows the kind shown
            self._style_kind_axes()
            self._refresh()

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; known: {', '.join(MODES)}")
        if mode != self._mode:
            self._mode = mode
            self._mode_buttons[mode].setChecked(True)
            self._refresh()

    def drawn_step(self) -> int | None:
        """The step whose histograms are drawn (None: nothing yet)."""
        return None if self._entry is None else self._entry.step

    def export_widget(self) -> QtWidgets.QWidget:
        """The whole panel: its title row names the kind and the step."""
        return self

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self._restyle()

    def set_font_scale(self, scale: float) -> None:
        self._scale = float(scale)
        self._restyle()

    # -- what is drawn (tests, readouts) -----------------------------------------------------

    def panel(self) -> Panel | None:
        """The histogram the top plot draws, as laid out (None: nothing)."""
        return self._panel

    def ridges(self) -> list[Ridge]:
        """The ridges drawn (ridgeline mode), heights above their bases."""
        return self._ridges.ridges if self._ridges.isVisible() else []

    def image_shares(self) -> np.ndarray:
        """(layers, bins) shares the image colours (image mode; row 0 = layer 1)."""
        return self._image_shares.copy()

    def image_rgba(self) -> np.ndarray:
        """The bins' RGBA image drawn: row 0 = layer 1 (at the bottom)."""
        image = self._image.image
        return np.empty((0, 0, 4), np.uint8) if image is None else np.array(image)

    def column_rgba(self) -> tuple[np.ndarray, np.ndarray]:
        """The left and right columns' RGBA images (image mode)."""
        left, right = (np.array(image.image) for image in self._column_images)
        return left, right

    def sigma_curve(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(z, σ′(z)) drawn over the input of the activation (None when not drawn)."""
        return self._sigma

    def bands(self) -> tuple[np.ndarray, np.ndarray]:
        """(steps, quantiles (n, len(QS))) of the chosen layer, as computed (0 stays 0)."""
        return self._bands.steps, self._bands.values

    def texts(self) -> list[str]:
        """Plain text of the top title, the notes under the plot and the bands' title."""
        title = f"{self._kind_box.currentText()}{self._step_text}"
        return [title, *(_plain(label.text) for label in (self._notes, self._band_title))]

    # -- drawing -----------------------------------------------------------------------------

    def _refresh(self) -> None:
        """Redraw what changed: the top plot for another entry, kind, mode, layer, look or
        size; the bands for a grown history, another kind or layer, or the replay mark."""
        history = self._history
        entry = None
        if history is not None and len(history):
            entry = history.at(_NEWEST if self._shown_step is None else self._shown_step)
            if entry is None:  # replaying a step before the first measurement: the first
                entry = history.entries()[0]
        if history is None or entry is None:
            self._entry = self._panel = self._sigma = None
            self._main_key = self._band_key = None
            self._stack.setCurrentWidget(self._message)
            return
        self._stack.setCurrentWidget(self._canvas)
        vb = self._plot.vb
        size = (round(vb.width()), round(vb.height()))
        main_key = (
            entry,
            self._kind,
            self._mode,
            self._layer,
            self._activation,
            self._shown_step,
            size,
        )
        if main_key != self._main_key:
            self._main_key, self._entry = main_key, entry
            self._draw_main(entry)
        mark = None if self._shown_step is None else entry.step
        band_key = (history, len(history), history.at(_NEWEST), self._kind, self._layer, mark)
        if band_key != self._band_key:
            self._band_key = band_key
            self._draw_bands(history, mark)

    def _draw_main(self, entry: StepDistributions) -> None:
        """Lay out the bins, the two columns beside them and the label strip under them (in
        pixels, so the labels fit at any font size), then draw the ridges or the image."""
        self.draws += 1
        panel = self._panel = panel_of(entry.histograms[self._kind])
        vb = self._plot.vb
        width = vb.width() if vb.width() > 50 else 600.0
        height = vb.height() if vb.height() > 50 else 300.0
        metrics = QtGui.QFontMetricsF(self._tick_font())
        column_px = max(metrics.horizontalAdvance(c.label) for c in panel.columns) + 8
        gap_px = 6 * self._scale
        # Image mode: room at both ends for the arrows that point at the chosen row.
        pad_px = gap_px if self._mode == "ridgeline" else POINTER_PX * self._scale + 2
        edges = panel.x_edges
        lo, hi = float(edges[0]), float(edges[-1])
        if panel.log:  # the octaves present move from step to step: a range that holds still
            lo, hi = self._x_range.update(lo, hi) or (lo, hi)
        bins_px = max(width - 2 * (column_px + gap_px + pad_px), 0.4 * width)
        unit = (hi - lo) / bins_px
        spans = column_spans(lo, hi, column_px * unit, gap_px * unit)
        x_range = (spans[0][0] - pad_px * unit, spans[1][1] + pad_px * unit)
        strip_px = metrics.lineSpacing() + 6
        rows = panel.rows
        k = ridge_step(rows, height - strip_px, RIDGE_PX * max(1.0, self._scale * 0.8))
        if self._mode == "ridgeline":
            layers = ridge_layers(rows, k, self._layer)
            y_lo, y_hi = 1.0, float(layers[-1] + 1) + k * OVERLAP
            self._draw_ridges(panel, layers, k * OVERLAP, spans)
        else:
            y_lo, y_hi = 0.5, rows + 0.5
            self._draw_image(panel, spans, x_range, pad_px * unit)
        strip = strip_px * (y_hi - y_lo) / max(height - strip_px, 1.0)
        view_y = (y_lo - strip, y_hi)
        vb.setRange(xRange=x_range, yRange=view_y, padding=0.0)
        bottom = self._plot.getAxis("bottom")
        if bottom.logMode != panel.log:  # x is log10 |x| there: ticks must read 10^v
            bottom.setLogMode(panel.log)
        bottom.set_bounds((lo, hi))
        left_axis = self._plot.getAxis("left")
        left_axis.bounds, left_axis.picture = (1.0, float(rows)), None
        for label, column, (s0, s1) in zip(self._labels, panel.columns, spans, strict=True):
            label.setText(column.label)
            label.setPos((s0 + s1) / 2, y_lo)
        self._draw_sigma(entry, (y_lo, y_hi), view_y)
        self._write_texts(entry, panel, k if self._mode == "ridgeline" else 1)

    def _draw_ridges(
        self,
        panel: Panel,
        layers: np.ndarray,
        full: float,
        spans: tuple[tuple[float, float], tuple[float, float]],
    ) -> None:
        """Each drawn layer's counts as a staircase from its base (the layer's number), its
        tallest bin or column ``full`` high: heights are proportional to counts."""
        ridges = []
        for layer in layers.tolist():
            counts = panel.counts[layer]
            norm = max(int(counts.max(initial=0)), *(int(c.total[layer]) for c in panel.columns))
            scale = full / max(norm, 1)
            left, right = (
                Bar(s0, s1, int(c.counts[layer]) * scale, int(c.nonfinite[layer]) * scale, c.name)
                for (s0, s1), c in zip(spans, panel.columns, strict=True)
            )
            ridges.append(
                Ridge(
                    layer,
                    float(layer + 1),
                    panel.x_edges,
                    counts * scale,
                    (left, right),
                    layer == self._layer,
                )
            )
        self._ridges.set_ridges(ridges, self._ridge_style())
        self._ridges.setVisible(True)
        for item in (self._image, *self._column_images, self._pointers):
            item.setVisible(False)
        self._image_shares = np.empty((0, 0))
        self._show_colorbar(False)

    def _draw_image(
        self,
        panel: Panel,
        spans: tuple[tuple[float, float], tuple[float, float]],
        x_range: tuple[float, float],
        pad: float,
    ) -> None:
        """One image: row = layer, column = bin, coloured by the bin's share of the layer's
        values; the two columns beside it on the same scale (magenta: inf/nan)."""
        levels = share_levels(panel.totals)
        self._image_shares = panel.fractions()
        rows = panel.rows
        self._image.setImage(share_rgba(self._image_shares, levels), autoLevels=False)
        left, right = float(panel.x_edges[0]), float(panel.x_edges[-1])
        self._image.setRect(QtCore.QRectF(left, 0.5, right - left, rows))
        for image, column, (s0, s1) in zip(self._column_images, panel.columns, spans, strict=True):
            image.setImage(column_rgba(column, panel.totals, levels), autoLevels=False)
            image.setRect(QtCore.QRectF(s0, 0.5, s1 - s0, rows))
            image.setVisible(True)
        chosen = self._layer + 1
        if chosen <= rows:
            y = [float(chosen)] * 2
            self._pointers.setData(
                x=[x_range[0] + pad / 2, x_range[1] - pad / 2], y=y, symbol=["t2", "t3"]
            )
        self._pointers.setVisible(chosen <= rows)
        self._image.setVisible(True)
        self._ridges.setVisible(False)
        self._cbar.show_decades(*levels)
        self._show_colorbar(True)

    def _draw_sigma(
        self, entry: StepDistributions, data_y: tuple[float, float], view_y: tuple[float, float]
    ) -> None:
        """σ′(z) over the input of the activation, from the bottom of the data (σ′ = 0) to its
        top (the largest σ′), read on the right axis: mass where σ′ ≈ 0 is saturated."""
        panel = self._panel
        wanted = self._kind == "preactivation" and panel is not None
        wanted = wanted and entry.histograms[self._kind].depth > 1  # else only the output
        self._plot.showAxis("right", wanted)
        self._sigma_curve.setVisible(wanted)
        if not wanted or panel is None:
            self._sigma = None
            return
        z = (panel.x_edges[:-1] + panel.x_edges[1:]) / 2
        slope = 0.01
        if self._activation == "leaky_relu":  # its h window is [-4·slope, 4]
            slope = -float(entry.histograms["activation"].edges[0]) / 4
        _, derivative = evaluate(self._activation, z, slope)
        self._sigma = (z, derivative)
        top = max(float(derivative.max(initial=0.0)), 1e-12)
        y_lo, y_hi = data_y
        self._sigma_curve.setData(z, y_lo + derivative / top * (y_hi - y_lo))
        per_y = top / (y_hi - y_lo)
        self._sigma_axis.setRange((view_y[0] - y_lo) * per_y, (view_y[1] - y_lo) * per_y)
        self._sigma_axis.set_bounds((0.0, top))

    def _draw_bands(self, history: DistributionHistory, mark: int | None) -> None:
        self.band_draws += 1
        entries = history.entries()
        layer = min(self._layer, entries[-1].histograms[self._kind].depth - 1)
        steps, values = band_quantiles(entries, self._kind, layer, QS)
        window = None
        if self._kind in VALUE_KINDS:
            edges = entries[-1].histograms[self._kind].layer_edges(layer)
            window = (float(edges[0]), float(edges[-1]))
        self._bands.set_bands(steps, values, self._kind not in VALUE_KINDS, window, mark)
        which = f"layer {layer + 1}"
        if layer == self._depth - 1 and self._depth > 1:
            which += " (output)"
        color = to_hex(self._highlight_rgb())
        faded = _mix(self._highlight_rgb(), self._theme.background, 0.4).name()
        key = (
            f"<span style='color:{color}'>━</span> median&nbsp;&nbsp;"
            f"<span style='color:{color}'>█</span> 25–75 %&nbsp;&nbsp;"
            f"<span style='color:{faded}'>█</span> 5–95 %"
        )
        self._set_label(self._band_title, f"<b>{which} over time</b>&nbsp;&nbsp; {key}")

    def _write_texts(self, entry: StepDistributions, panel: Panel, k: int) -> None:
        step = f"step {entry.step}"
        shown = self._shown_step
        if shown is not None and shown > entry.step:
            step += f" (the last measured by step {shown})"
        elif shown is not None and shown < entry.step:
            step += f" (none measured by step {shown})"
        which = ordinal(k) if self._mode == "ridgeline" else "all layers"
        if panel.output_apart:
            which += " but the output"
        self._step_text = f", {step}, {which}"
        if panel.output_apart:
            which += f" ({panel.rows + 1}, linear: binned apart)"
        head = f"<b>{html.escape(step)}</b>, {which}"
        self._set_label(self._notes, f"{head}&nbsp;&nbsp;&nbsp; {self._notes_html(panel)}")

    def _notes_html(self, panel: Panel) -> str:
        """What lies outside the bins for the chosen layer, and what the extra curve is."""
        layer, color = self._layer, to_hex(self._highlight_rgb())
        lo, hi = number(float(panel.x_edges[0])), number(float(panel.x_edges[-1]))
        if layer < panel.rows:
            total = max(int(panel.totals[layer]), 1)
            left, right = panel.columns
            words = {
                "below": f"below {lo}",
                "zero": "exactly 0 (underflow)",
                "above": f"at or above {hi}",
            }
            parts = [
                f"{html.escape(_percent(int(c.counts[layer]) / total))} {words[c.name]}"
                for c in (left, right)
                if c.name in words and c.counts[layer]
            ]
            bad = int(right.nonfinite[layer])
            if bad:
                magenta, share = to_hex(NONFINITE_RGBA), html.escape(_percent(bad / total))
                parts.append(f"<span style='color:{magenta}'>{share} inf/nan</span>")
            if not parts:
                parts.append("no zeros, no inf/nan" if panel.log else f"all in {lo} … {hi}")
            lines = [f"<span style='color:{color}'>■</span> layer {layer + 1}: " + ", ".join(parts)]
        else:
            lines = [f"layer {layer + 1}, the output (linear), has its own window: its bands below"]
        if self._sigma is not None:
            curve = to_hex(self._theme.theory)
            name = html.escape(self._activation)
            lines.append(
                f"<span style='color:{curve}'>╍</span> σ′(z), slope of {name}:"
                " ≈ 0 blocks the gradient"
            )
        return "&nbsp;&nbsp;&nbsp; ".join(lines)

    # -- style -------------------------------------------------------------------------------

    def _tick_font(self) -> QtGui.QFont:
        font = QtGui.QFont()
        font.setPointSizeF(BASE_TICK_PT * self._scale)
        return font

    def _highlight_rgb(self) -> tuple[int, ...]:
        return self._theme.series[2]  # bluish green: apart from the ridges' blue, σ′'s orange

    def _ridge_style(self) -> RidgeStyle:
        theme, width = self._theme, self._theme.line_width
        return RidgeStyle(
            pen=pg.mkPen(theme.measured, width=width * 0.75),
            brush=pg.mkBrush(_mix(theme.measured, theme.background, 0.3)),
            highlight_pen=pg.mkPen(self._highlight_rgb(), width=width * 1.25),
            highlight_brush=pg.mkBrush(_mix(self._highlight_rgb(), theme.background, 0.5)),
            bar_brushes={"zero": pg.mkBrush(theme.underflow)},
            nonfinite_brush=pg.mkBrush(NONFINITE_RGBA),
        )

    def _set_label(self, label: FittedLabel, text: str, points: float = BASE_TICK_PT) -> None:
        label.setText(text, color=self._theme.foreground, size=f"{points * self._scale}pt")

    def _show_colorbar(self, on: bool) -> None:
        if on != self._cbar_shown:
            self._cbar_shown = on
            if on:
                self._canvas.addItem(self._cbar, row=1, col=1)
            else:
                self._canvas.ci.layout.removeItem(self._cbar)
            self._cbar.setVisible(on)

    def _style_kind_axes(self) -> None:
        """The axis titles that name the kind."""
        scale, theme = self._scale, self._theme
        style_axis(self._plot.getAxis("bottom"), AXIS_TITLES[self._kind], scale, theme=theme)
        style_axis(
            self._bands.plot.getAxis("left"),
            SYMBOLS[self._kind],
            scale,
            widest_tick="10⁻³⁰⁰",
            theme=theme,
        )

    def _restyle(self) -> None:
        theme, scale = self._theme, self._scale
        pixels = round(BASE_TICK_PT * scale * 96 / 72)
        self._controls.setStyleSheet(
            f"QWidget {{ font-size: {pixels}px; color: {theme.window_text};"
            f" background: {theme.window}; }}"
            f" QToolButton {{ padding: 2px 10px; border: 1px solid {theme.window_text}; }}"
            f" QToolButton:checked {{ color: {theme.window}; background: {theme.window_text}; }}"
        )
        font = QtGui.QFont()  # set, not only styled: the box sizes itself by its font
        font.setPixelSize(pixels)
        self._kind_box.setFont(font)
        self._kind_box.updateGeometry()
        self._message.setStyleSheet(
            f"QLabel {{ font-size: {round(BASE_LABEL_PT * scale * 96 / 72)}px;"
            f" color: {theme.foreground}; background: {theme.background}; }}"
        )
        self._canvas.setBackground(theme.background)
        # Room above the plots for half a tick label: the colour bar's top label sits there.
        top = round(BASE_TICK_PT * scale * 96 / 72 * 0.6)
        self._canvas.ci.setContentsMargins(4, top, 4, 2)
        self._style_kind_axes()
        style_axis(
            self._plot.getAxis("left"), "layer (1 = input)", scale, widest_tick="100", theme=theme
        )
        # σ′'s axis in σ′'s colour: beside the colour bar it must not read as the bar's.
        sigma = to_hex(theme.theory)
        style_axis(self._sigma_axis, "σ′(z)", scale, widest_tick="0.25", theme=theme)
        self._sigma_axis.setLabel(
            "σ′(z)", color=sigma, **{"font-size": f"{BASE_LABEL_PT * scale}pt"}
        )
        self._sigma_axis.setTextPen(sigma)
        self._sigma_axis.setPen(sigma)
        self._bands.plot.showGrid(x=True, y=True, alpha=theme.grid_alpha)
        style_axis(self._bands.plot.getAxis("bottom"), "training step", scale, theme=theme)
        style_axis(self._cbar.axis, "share of values", scale, widest_tick="10⁻⁴", theme=theme)
        for key in ("left", "right", "top", "bottom"):  # the colour bar's frame
            self._cbar.getAxis(key).setPen(theme.foreground)
        for label in (*self._labels, self._bands.zero_text):
            label.setFont(self._tick_font())
            label.setColor(theme.foreground)
        dash = QtCore.Qt.PenStyle.DashLine
        self._sigma_curve.setPen(pg.mkPen(theme.theory, width=theme.line_width * 1.25, style=dash))
        self._sigma_curve.setShadowPen(pg.mkPen(theme.background, width=theme.line_width * 3))
        self._pointers.setSize(POINTER_PX * scale)
        self._pointers.setBrush(pg.mkBrush(self._highlight_rgb()))
        self._pointers.setPen(pg.mkPen(theme.foreground, width=1))
        self._bands.style(
            self._highlight_rgb(), theme.line_width, theme.underflow, theme.foreground
        )
        self._fit_bands()  # a projector's font needs more height for them
        self._main_key = self._band_key = None  # fonts, texts and pens: all anew
        self._refresh()

    # -- interaction -------------------------------------------------------------------------

    def _on_kind_box(self, index: int) -> None:
        kind = KINDS[index]
        if kind != self._kind:
            self.set_kind(kind)
            self.kindChanged.emit(kind)

    def _on_mode_button(self, mode: str) -> None:
        if mode != self._mode:
            self.set_mode(mode)
            self.modeChanged.emit(mode)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_bands()

    def bands_shown(self) -> bool:
        """Whether the chosen layer's bands over time have room to show."""
        return self._bands_shown

    def _fit_bands(self) -> None:
        line = QtGui.QFontMetricsF(self._tick_font()).lineSpacing()
        room = self.height() - self._controls.sizeHint().height()
        shown = room >= BANDS_MIN_LINES * line
        if shown == self._bands_shown:
            return
        self._bands_shown = shown
        # Out of the layout while hidden, rather than squeezed to no height: a plot squeezed
        # once keeps its axis squashed to nothing after it is given room again.
        layout = self._canvas.ci.layout
        for row, item in ((3, self._band_title), (4, self._bands.plot)):
            item.setVisible(shown)
            if shown:
                layout.addItem(item, row, 0, 1, 2)
            else:
                layout.removeItem(item)
        if shown:  # an axis styled while hidden sized itself to 0: size it again
            for key in ("left", "bottom"):
                self._bands.plot.getAxis(key).setStyle()
        # Now, not at the next event loop pass: an export resizes, paints and resizes back
        # before that, and would paint the plots where they were.
        self._canvas.ci.layout.invalidate()
        self._canvas.ci.layout.activate()
        self._main_key = None  # the top plot's height changed: every k-th layer anew

    def _on_resized(self) -> None:
        if self._entry is not None:
            self._refresh()  # every k-th layer and the columns' widths follow the size

    def _on_clicked(self, event: MouseClickEvent) -> None:
        vb = self._plot.vb
        if self._panel is None or not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        point = vb.mapSceneToView(event.scenePos())
        layer = self.layer_at(point.x(), point.y())
        if layer is not None:
            self.set_layer(layer)
            self.layerPicked.emit(layer)

    def layer_at(self, x: float, y: float) -> int | None:
        """The layer (0-based) drawn at view point (x, y): the image's row, or the frontmost
        ridge under the point (else the nearest ridge below it)."""
        panel = self._panel
        if panel is None or y < 0.5:
            return None
        if self._mode == "image":
            row = round(y) - 1
            return row if 0 <= row < panel.rows else None
        ridges = sorted(self._ridges.ridges, key=lambda r: r.base)
        for ridge in ridges:
            if ridge.base <= y <= ridge.base + ridge.height_at(x):
                return ridge.layer
        below = [r.layer for r in ridges if r.base <= y]
        return below[-1] if below else None


class _KindBox(QtWidgets.QComboBox):
    """The kind's combo box, as wide as the kind shown (Qt sizes a combo box for its widest
    item), down to a dozen characters when the panel is narrow."""

    def __init__(self) -> None:
        super().__init__()
        self.currentIndexChanged.connect(self.updateGeometry)

    def sizeHint(self) -> QtCore.QSize:
        hint = super().sizeHint()
        text = self.fontMetrics().horizontalAdvance(self.currentText())
        return QtCore.QSize(text + self.fontMetrics().height() * 2 + 8, hint.height())

    def minimumSizeHint(self) -> QtCore.QSize:
        hint = super().minimumSizeHint()
        narrow = self.fontMetrics().horizontalAdvance("x" * 12) + 40
        return QtCore.QSize(min(self.sizeHint().width(), narrow), hint.height())


def _mix(rgb: tuple[int, ...], background: str, alpha: float) -> QtGui.QColor:
    """The opaque colour ``rgb`` at ``alpha`` shows over ``background``."""
    bg = QtGui.QColor(background)
    back = (bg.red(), bg.green(), bg.blue())
    return QtGui.QColor(
        *(round(alpha * c + (1 - alpha) * b) for c, b in zip(rgb[:3], back, strict=True))
    )


def _percent(share: float) -> str:
    """ "12 %", "0.4 %", "< 0.1 %": small shares matter here (the first dead units)."""
    if share >= 0.095:
        return f"{100 * share:.0f} %"
    if share >= 0.001:
        return f"{100 * share:.1g} %"
    return "< 0.1 %"


def _plain(text: str) -> str:
    """Rich text as Qt reads it (and so as drawn): a stray "<" eats what follows it."""
    document = QtGui.QTextDocument()
    document.setHtml(text)
    return document.toPlainText().replace("\xa0", " ").replace("\u2029", "\n")
