"""Side-by-side view of 2-4 runs: one heatmap per run on one colour scale, and one loss plot.

It draws the run session's runs as the view state asks; it owns no run and sends nothing.

Colours only compare across heatmaps if they mean the same number everywhere: one set of
levels (``SharedLevels``) for every heatmap. The scale is drawn once, as a colour bar right
of the whole grid, lined up with the plot areas (each heatmap's own bar is taken out of its
layout): repeated bars would suggest separate scales, and cost every heatmap a tenth of its
width.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from gradsim.app.model.replay import profile_row
from gradsim.app.model.session import RunSession
from gradsim.app.model.view_state import View, ViewState
from gradsim.app.views import plot_parts as parts
from gradsim.app.views.colorbar import DecadeColorBar
from gradsim.app.views.colors import (
    NONFINITE_RGBA,
    special_key,
    to_hex,
)
from gradsim.app.views.compare_profile import CompareProfilePlot
from gradsim.app.views.dividers import DividedSplitter
from gradsim.app.views.heatmap import HeatmapView
from gradsim.app.views.learned_function_view import LearnedFunctionView, missing_text
from gradsim.app.views.levels import SharedLevels
from gradsim.app.views.loss_plot import LossPlot
from gradsim.app.views.status import accuracy_text
from gradsim.app.views.themes import DEFAULT_THEME, Styled, Theme
from gradsim.engine.stats import STAT_SHORT, stat_applies

LOSS_MIN_HEIGHT = 180  # pixels at font scale 1


class SharedColorBar(pg.GraphicsLayoutWidget):
    """The one colour bar of a comparison: the viridis LUT with decade ticks."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent=parent)
        self._metric, self._font_scale = "", 1.0
        self.bar = DecadeColorBar()
        self.addItem(self.bar, row=0, col=0)
        self.set_theme(DEFAULT_THEME)

    def set_levels(
        self, lo: float, hi: float, fraction: bool, beyond: tuple[bool, bool]
    ) -> None:
        """Show [lo, hi] decades (or a 0-100 % fraction), as HeatmapView's own bar."""
        self.bar.show_scale(lo, hi, fraction, beyond)

    def set_text(self, metric: str, font_scale: float) -> None:
        """The metric named on the axis, and the text size."""
        self._metric, self._font_scale = metric, float(font_scale)
        self._restyle()

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.setBackground(theme.background)
        for key in ("left", "right", "top", "bottom"):  # the bar's frame
            self.bar.getAxis(key).setPen(theme.foreground)
        self._restyle()

    def fit_bar(self, top: float, bottom: float) -> None:
        """Stretch the coloured bar from ``top`` to ``bottom`` (this widget's pixels)."""
        self.ci.layout.activate()
        item, shown = self.bar.sceneBoundingRect(), self.bar.getViewBox().sceneBoundingRect()
        margin_top = top - (shown.top() - item.top())
        margin_bottom = (self.height() - bottom) - (item.bottom() - shown.bottom())
        self.ci.setContentsMargins(0, max(0.0, margin_top), 0, max(0.0, margin_bottom))

    def _restyle(self) -> None:
        # A fixed axis width for the widest tick: auto-sized colour bar axes crashed at exit
        # (see heatmap.py). The key under the grid says the scale is shared.
        label = STAT_SHORT.get(self._metric, self._metric or "value")  # fits the bar's height
        scale = self._font_scale
        parts.style_axis(self.bar.axis, label, scale, widest_tick="10⁻³⁰⁰", theme=self._theme)
        self.setFixedWidth(int(self.bar.axis.minimumWidth()) + 22 + 16)


class CompareView(QtWidgets.QWidget):
    """A titled heatmap per run on one shared colour scale, above one shared loss plot."""

    def __init__(
        self,
        labels: Sequence[str],
        theme: Theme = DEFAULT_THEME,
        parent: QtWidgets.QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        if not 2 <= len(labels) <= 4:
            raise ValueError(f"a comparison shows 2 to 4 runs, got {len(labels)}")
        self._labels = list(labels)
        self._theme, self._font_scale, self._metric = theme, 1.0, ""
        self._levels = SharedLevels()
        self._notes = [""] * len(labels)
        self._align_pending = False
        self._generation = -1  # the session's runs last drawn

        self.heatmaps: list[HeatmapView] = []
        self.functions: list[LearnedFunctionView] = []  # in the heatmaps' place, on demand
        self._pages: list[QtWidgets.QStackedWidget] = []
        self.titles: list[QtWidgets.QLabel] = []
        self.grid_widget = grid_widget = QtWidgets.QWidget()
        grid = QtWidgets.QGridLayout(grid_widget)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(6)
        rows, cols = (2, 2) if len(labels) == 4 else (1, len(labels))  # 2, 3: one row
        for i in range(len(labels)):
            # Titles have their own grid row, two lines tall: a long label wraps (it never
            # widens the window) and the heatmaps of a row still line up.
            title = QtWidgets.QLabel()
            title.setTextFormat(QtCore.Qt.TextFormat.RichText)
            title.setWordWrap(True)
            title.setAlignment(QtCore.Qt.AlignmentFlag.AlignBottom)
            heatmap = HeatmapView()
            heatmap.make_compact()
            heatmap.installEventFilter(self)  # its plot moves: the colour bar follows
            function = LearnedFunctionView()
            function.make_compact()
            page = QtWidgets.QStackedWidget()
            page.addWidget(heatmap)
            page.addWidget(function)
            row, col = 2 * (i // cols), i % cols
            grid.addWidget(title, row, col)
            grid.addWidget(page, row + 1, col)
            grid.setRowStretch(row + 1, 1)
            self.heatmaps.append(heatmap)
            self.functions.append(function)
            self._pages.append(page)
            self.titles.append(title)
        self.color_bar = SharedColorBar()
        self.color_bar.installEventFilter(self)
        grid.addWidget(self.color_bar, 0, cols, 2 * rows, 1)
        # The special colours' key, once under the grid (the heatmaps show none of their own).
        # Under the grid, one line: the value under the mouse (any heatmap) and the key.
        self.readout = QtWidgets.QLabel()
        self.readout.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        ignored = QtWidgets.QSizePolicy.Policy.Ignored  # a long readout never widens the view
        self.readout.setSizePolicy(ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        self.key = QtWidgets.QLabel()
        self.key.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.key.setAlignment(QtCore.Qt.AlignmentFlag.AlignRight)
        below = QtWidgets.QHBoxLayout()
        below.addWidget(self.readout, 1)
        below.addWidget(self.key)
        grid.addLayout(below, 2 * rows, 0, 1, cols + 1)
        for i, heatmap in enumerate(self.heatmaps):
            heatmap.hovered.connect(lambda text, i=i: self._show_readout(i, text))
        self.loss_plot = LossPlot(labels, theme)
        if rows == 1:
            self.loss_plot.setMinimumHeight(LOSS_MIN_HEIGHT)
        self.profile_plot = CompareProfilePlot(labels, theme)

        # The heatmaps are the point. In one row, the loss gets a quarter of the height below
        # them; under a 2 x 2 grid it goes to the right (a third of the width), or the
        # heatmaps would be too flat to read at a projector's font sizes.
        along = QtCore.Qt.Orientation
        self._splitter = splitter = DividedSplitter(
            along.Vertical if rows == 1 else along.Horizontal
        )
        splitter.addWidget(grid_widget)
        # The loss and the layer profile share the rest: side by side under one row of
        # heatmaps, one above the other beside a 2 x 2 grid.
        self._side = side = DividedSplitter(along.Horizontal if rows == 1 else along.Vertical)
        side.addWidget(self.loss_plot)
        side.addWidget(self.profile_plot)
        for plot in (self.loss_plot, self.profile_plot):
            plot.set_compact_legend(rows == 2)
        splitter.addWidget(side)
        share = 3 if rows == 1 else 2
        splitter.setStretchFactor(0, share)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([1000 * share, 1000])
        self._loss_below = rows == 1
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self.setAutoFillBackground(True)
        self.set_theme(theme)
        self.color_bar.set_levels(*self.heatmaps[0].levels(), False, (False, False))

    # -- drawing ---------------------------------------------------------------------------
    def draw(self, session: RunSession, state: ViewState) -> None:
        """Show the session's runs as the view state asks (cheap when nothing changed)."""
        view = state.view
        if session.generation != self._generation:  # new runs: nothing of the old ones stays
            self._generation = session.generation
            self.loss_plot.clear()
            for heatmap, config in zip(self.heatmaps, session.configs, strict=True):
                heatmap.clear(config.depth)
        new_metric = view.metric != self._metric
        if new_metric:
            self._metric = view.metric
            self.color_bar.set_text(view.metric, self._font_scale)
        runs = zip(self.heatmaps, session.histories, session.configs, strict=True)
        for heatmap, history, config in runs:
            heatmap.set_metric(view.metric)
            heatmap.set_window(view.window)
            heatmap.set_not_applicable(~stat_applies(view.metric, config.depth, config.activation))
            heatmap.set_data(*history.window(view.metric, view.window))
        key = (session.generation, view.metric, view.window)
        stops = [history.diverged_at for history in session.histories]
        if new_metric:
            self._write_key()  # zeros are ordinary for a fraction; n/a layers differ
        levels = self._levels.apply(self.heatmaps, state, key, stops)
        past = [heatmap.beyond() for heatmap in self.heatmaps]
        beyond = (any(p[0] for p in past), any(p[1] for p in past))
        self.color_bar.set_levels(*levels, self.heatmaps[0].is_fraction(), beyond)
        self.loss_plot.set_runs(
            [(h.steps, h.loss) for h in session.histories],
            diverged=[h.diverged_at is not None for h in session.histories],
        )
        self._draw_profiles(session, view)
        self._draw_functions(session, view)
        for i, (note, tip) in enumerate(run_notes(session)):
            if note != self._notes[i]:
                self._notes[i] = note
                self._write_title(i)
            self.titles[i].setToolTip(tip)

    def _draw_profiles(self, session: RunSession, view: View) -> None:
        """Every run's profile at the step shown (the newest, or the one replayed: then the
        heatmaps and the loss mark it)."""
        rows = [profile_row(h, view.metric, view.shown_step) for h in session.histories]
        applies = [stat_applies(view.metric, c.depth, c.activation) for c in session.configs]
        self.profile_plot.set_profiles(rows, view.metric, view.relative_profile, applies)
        replaying = view.shown_step is not None
        for heatmap, row in zip(self.heatmaps, rows, strict=True):
            heatmap.set_marked_step(row.step if replaying and row is not None else None)
        self.loss_plot.set_marked_step(view.shown_step)

    def _draw_functions(self, session: RunSession, view: View) -> None:
        """Each run's learned function in its heatmap's place, when that panel is chosen:
        side by side, a net that learns and one that does not."""
        functions = view.panel == "function"
        self._show_functions(functions)
        if not functions:
            return
        for i, function in enumerate(self.functions):
            measured = session.functions[i]
            message = missing_text(session.configs[i], measured, len(session.histories[i]))
            function.set_function(measured.at(view.shown_step), message)

    def _show_functions(self, on: bool) -> None:
        for page in self._pages:
            page.setCurrentIndex(1 if on else 0)
        self.color_bar.setVisible(not on)  # the heatmaps' scale and key
        self.key.setVisible(not on)

    def export_widget(self, target: str) -> QtWidgets.QWidget:
        """The widget pictured for an export ``target``: the heatmaps (or the learned
        functions) with their headings, shared colour bar and key; the loss or the profile.
        A comparison has no order-to-chaos map and no distributions panel."""
        if target in ("heatmap", "function"):  # each run's, with their headings
            self._show_functions(target == "function")
            return self.grid_widget
        if target == "loss":
            return self.loss_plot
        if target == "profile":
            return self.profile_plot
        raise ValueError(
            f"a comparison shows no {target}; export its heatmap, function, loss, profile or"
            " window"
        )

    def levels(self) -> tuple[float, float]:
        """The shared levels in decades (lo, hi)."""
        return self.heatmaps[0].levels()

    # -- style -----------------------------------------------------------------------------
    def set_font_scale(self, scale: float) -> None:
        """Scale every text (e.g. 1.5 for a presentation mode)."""
        self._font_scale = float(scale)
        views: list[Styled] = [*self.heatmaps, *self.functions, self.loss_plot, self.profile_plot]
        for view in views:
            view.set_font_scale(scale)
        if self._loss_below:  # room for its ticks
            self.loss_plot.setMinimumHeight(round(LOSS_MIN_HEIGHT * scale))
        self.color_bar.set_text(self._metric, scale)
        for i in range(len(self.titles)):
            self._write_title(i)
        self._write_key()
        self._style_splitter()
        self._schedule_align()

    def _style_splitter(self) -> None:
        # A line between the colour bar's title and the loss plot's: two plots, not one.
        for splitter in (self._splitter, self._side):
            splitter.set_divider(self._theme, round(14 * self._font_scale))

    def set_theme(self, theme: Theme) -> None:
        """Restyle the titles and background, and every child that can."""
        self._theme = theme
        palette = self.palette()
        palette.setColor(QtGui.QPalette.ColorRole.Window, QtGui.QColor(theme.background))
        self.setPalette(palette)
        views: list[Styled] = [
            *self.heatmaps, *self.functions, self.loss_plot, self.profile_plot, self.color_bar
        ]
        for view in views:
            view.set_theme(theme)
        self._style_splitter()
        for i in range(len(self.titles)):
            self._write_title(i)
        self._write_key()

    def _show_readout(self, run: int, text: str) -> None:
        self.readout.setText(f"{self._labels[run]} · {text}" if text else "")

    def _write_key(self) -> None:
        theme, size = self._theme, parts.BASE_TICK_PT * self._font_scale
        for label in (self.key, self.readout):
            label.setStyleSheet(
                f"QLabel {{ color: {theme.foreground}; background: {theme.background};"
                f" font-size: {size:.1f}pt; padding: 0px 4px; }}"
            )
        heatmap = self.heatmaps[0]
        underflow = None if heatmap.is_fraction() else theme.underflow
        n_a = any(h.not_applicable() is not None for h in self.heatmaps)
        self.key.setText(special_key(underflow, n_a) + "&nbsp;&nbsp;&nbsp;one colour scale")

    def _heading_pt(self) -> float:
        """Headings a little larger than axis titles, but not in a 2 x 2 grid, where a long
        label would wrap to three lines and take the heatmaps' height."""
        if len(self._labels) == 4:
            return parts.BASE_TICK_PT * self._font_scale  # bold: still reads as a heading
        return parts.BASE_LABEL_PT * 1.15 * self._font_scale

    def _write_title(self, i: int) -> None:
        theme, size = self._theme, self._heading_pt()
        self.titles[i].setStyleSheet(
            f"QLabel {{ color: {theme.foreground}; background: {theme.background};"
            f" font-size: {size:.1f}pt; padding: 2px 4px; }}"
        )
        swatch = f"<span style='color:{to_hex(theme.series[i % len(theme.series)])}'>■</span>"
        note = f"&nbsp;&nbsp; {self._notes[i]}" if self._notes[i] else ""
        self.titles[i].setText(f"{swatch} <b>{escape(self._labels[i])}</b>{note}")
        self._fit_titles()

    def _fit_titles(self) -> None:
        """One height for every heading, that of the tallest (at least two lines): the
        heatmaps keep lining up when one run's note grows ("diverged at step 1"), and a long
        label that wraps to three lines is not cut off."""
        font = QtGui.QFont()
        font.setPointSizeF(self._heading_pt())
        height = 2 * QtGui.QFontMetrics(font).lineSpacing() + 6
        for title in self.titles:
            if title.width() > 0:
                height = max(height, text_height(title))
        for title in self.titles:
            if title.height() != height or title.minimumHeight() != height:
                title.setFixedHeight(height)

    # -- the colour bar spans the plot areas, top row to bottom row ------------------------
    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if event.type() in (QtCore.QEvent.Type.Resize, QtCore.QEvent.Type.Show):
            self._schedule_align()
        return False

    def _schedule_align(self) -> None:
        if not self._align_pending:  # once, after the layouts have settled
            self._align_pending = True
            # Owned by this view: a view deleted meanwhile (a scene left) cancels it.
            QtCore.QTimer.singleShot(0, self, self._align_color_bar)

    def _align_color_bar(self) -> None:
        """Stretch the bar from the top row's plot area to the bottom row's."""
        self._align_pending = False
        self._fit_titles()  # their widths are known now
        edges = []
        for heatmap, corner in ((self.heatmaps[0], "topLeft"), (self.heatmaps[-1], "bottomLeft")):
            plot = heatmap.getItem(1, 0)  # HeatmapView's plot (row 1, left of its own bar)
            if plot is None or not heatmap.isVisible():
                return
            point = heatmap.mapFromScene(getattr(plot.getViewBox().sceneBoundingRect(), corner)())
            edges.append(self.color_bar.mapFromGlobal(heatmap.viewport().mapToGlobal(point)).y())
        self.color_bar.fit_bar(*edges)


def text_height(label: QtWidgets.QLabel) -> int:
    """Pixels that ``label``'s rich text needs at its current width, wrapped. (QLabel's own
    heightForWidth never returns less than a fixed height set earlier.)"""
    label.ensurePolished()  # the style sheet's font size applies
    document = QtGui.QTextDocument()
    document.setDefaultFont(label.font())
    document.setHtml(label.text())
    margins = label.contentsMargins()
    document.setTextWidth(max(1, label.contentsRect().width() - 2 * label.margin()))
    extra = margins.top() + margins.bottom() + 2 * label.margin()
    return math.ceil(document.size().height()) + extra


def run_notes(session: RunSession) -> list[tuple[str, str]]:
    """Per run: the HTML after its title (its newest step, where it diverged, or its error)
    and a plain tooltip. The step is the newest recorded one, as in the heatmap's last
    column and the status bar."""
    notes = []
    for i, (history, error) in enumerate(zip(session.histories, session.errors, strict=True)):
        if error:
            short = error if len(error) <= 60 else error[:57].rstrip() + "…"
            notes.append((overflow_note(short, keep_together=False), error))
        elif history.diverged_at is not None:
            reason = f"Training stopped: {history.divergence_reason}."
            notes.append((overflow_note(f"diverged at step {history.diverged_at}"), reason))
        else:
            step = session.newest_step(i)
            accuracy = accuracy_text(history)
            text = "no steps yet" if step is None else f"step {step}"
            notes.append((plain_note(f"{text} · {accuracy}" if accuracy else text), ""))
    return notes


def plain_note(text: str) -> str:
    """HTML for a short per-run note (e.g. "step 200") that wraps as one piece."""
    return escape(text).replace(" ", "&nbsp;")


def overflow_note(text: str, keep_together: bool = True) -> str:
    """HTML for a per-run note in the overflow colour (divergence; errors may wrap)."""
    body = plain_note(text) if keep_together else escape(text)
    return f"<span style='color:{to_hex(NONFINITE_RGBA)}'><b>{body}</b></span>"
