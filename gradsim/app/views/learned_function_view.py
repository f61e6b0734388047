"""What the network has learned, drawn: decision regions over the input plane with the data
points (spirals, circles, blobs), or prediction against target (regression).

This ties the gradient statistics to the outcome: a net whose gradient vanished keeps flat,
one-colour regions while a healthy one curls around the spiral. The worker measures the
function a few times a second (``gradsim.engine.live_views``); this view draws the one for
the step shown.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from gradsim.app.views.colors import NONFINITE_RGBA
from gradsim.app.views.plot_parts import (
    BASE_LABEL_PT,
    BASE_TICK_PT,
    FittedLabel,
    GridAxis,
    no_si_prefix,
    quiet_hidden_axes,
    style_axis,
)
from gradsim.app.views.themes import DEFAULT_THEME, Theme
from gradsim.engine.config import Config
from gradsim.engine.learned_function import (
    DecisionMap,
    FunctionHistory,
    LearnedFunction,
    RegressionFit,
)

# Okabe-Ito: classes stay distinguishable with every common colour-vision deficiency.
CLASS_COLOURS: tuple[tuple[int, int, int], ...] = (
    (230, 159, 0), (86, 180, 233), (0, 158, 115), (240, 228, 66),
    (0, 114, 178), (213, 94, 0), (204, 121, 167), (153, 153, 153),
)  # fmt: skip
EMPTY_TEXT = "no learned function to draw yet"
NO_PLANE_TEXT = (
    "nothing to draw: this data has no 2-D input plane (a CSV classification, or the teacher"
    " with cross-entropy)"
)


def missing_text(config: Config, functions: FunctionHistory, steps_taken: int) -> str:
    """Why no function is drawn: none measured yet, or none to measure. The config says so
    for the 2-D point sets (always) and the teacher (a regression unless cross-entropy); a
    CSV file's task may only be known once read, so there an empty history after training
    steps says it."""
    if config.dataset in ("spirals", "circles", "blobs"):
        return EMPTY_TEXT
    if config.dataset == "teacher":
        return NO_PLANE_TEXT if config.loss == "cross_entropy" else EMPTY_TEXT
    return NO_PLANE_TEXT if not len(functions) and steps_taken > 0 else EMPTY_TEXT


def region_colours(function: DecisionMap, background: tuple[int, int, int]) -> np.ndarray:
    """(res_y, res_x, 4) uint8 image: each cell in its class's colour, faded towards the
    background where the network is unsure (confidence near 1/classes), magenta where its
    output is inf/nan."""
    palette = np.array([CLASS_COLOURS[i % len(CLASS_COLOURS)] for i in range(function.n_classes)])
    chance = 1.0 / max(function.n_classes, 1)
    with np.errstate(invalid="ignore"):
        sure = np.clip((function.confidence - chance) / max(1e-9, 1.0 - chance), 0.0, 1.0)
    strength = 0.25 + 0.5 * np.nan_to_num(sure)[..., None]
    back = np.array(background, dtype=np.float64)
    rgb = back + (palette[np.clip(function.classes, 0, len(palette) - 1)] - back) * strength
    image = np.empty((*function.classes.shape, 4), dtype=np.uint8)
    image[..., :3] = np.clip(np.rint(rgb), 0, 255)
    image[..., 3] = 255
    image[np.isnan(function.confidence)] = NONFINITE_RGBA
    return image


class LearnedFunctionView(pg.PlotWidget):
    """One run's learned function at one step (``set_function``)."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        # GridAxis: titles shrink to fit a short axis (a comparison's small panels).
        axes = {key: GridAxis(key) for key in ("left", "bottom")}
        super().__init__(parent=parent, enableMenu=False, axisItems=axes)
        self._theme, self._scale = DEFAULT_THEME, 1.0
        self._function: LearnedFunction | None = None
        self._message = EMPTY_TEXT
        self._drawn: tuple[object, ...] | None = None
        plot = self.plotItem
        quiet_hidden_axes(plot)
        self._compact = False
        self.image = pg.ImageItem(axisOrder="row-major")
        self.points = pg.ScatterPlotItem(size=7)
        self.diagonal = pg.PlotDataItem()
        for item in (self.image, self.diagonal, self.points):
            plot.addItem(item)
        self._caption = FittedLabel(" ", justify="left")
        plot.layout.addItem(self._caption, 4, 1)
        self._restyle()

    @property
    def function(self) -> LearnedFunction | None:
        """What is drawn (None: the message instead)."""
        return self._function

    @property
    def message(self) -> str:
        return self._message

    def make_compact(self) -> None:
        """For a comparison's small panels: the title only (the scene's caption and the
        headings say the rest), so the regions keep their height."""
        self._compact = True
        self._drawn = None
        self.set_function(self._function, self._message)

    def set_function(self, function: LearnedFunction | None, message: str = EMPTY_TEXT) -> None:
        """Draw ``function`` (cheap when it is the one drawn); None shows ``message``."""
        key = (id(function), message, self._theme.name, self._theme.projector)
        if key == self._drawn:
            return
        self._drawn = key
        self._function, self._message = function, message
        if isinstance(function, DecisionMap):
            self._draw_map(function)
        elif isinstance(function, RegressionFit):
            self._draw_fit(function)
        else:
            for item in (self.image, self.points, self.diagonal):
                item.setVisible(False)
            self._set_texts("", message)

    def _draw_map(self, function: DecisionMap) -> None:
        back = _rgb(self._theme.background)
        self.image.setImage(region_colours(function, back), autoLevels=False)
        x, y = function.x, function.y
        dx = (x[-1] - x[0]) / max(1, x.size - 1)
        dy = (y[-1] - y[0]) / max(1, y.size - 1)
        self.image.setRect(
            QtCore.QRectF(x[0] - dx / 2, y[0] - dy / 2, x[-1] - x[0] + dx, y[-1] - y[0] + dy)
        )
        colours = [CLASS_COLOURS[int(label) % len(CLASS_COLOURS)] for label in function.labels]
        brushes = [pg.mkBrush(*colour) for colour in colours]
        self.points.setData(
            function.points[:, 0], function.points[:, 1], brush=brushes,
            pen=pg.mkPen(self._theme.foreground, width=1),
        )  # fmt: skip
        self.image.setVisible(True)
        self.points.setVisible(True)
        self.diagonal.setVisible(False)
        self.plotItem.setAspectLocked(True)  # the plane as it is: a spiral looks like one
        self.plotItem.setRange(
            xRange=(x[0], x[-1]), yRange=(y[0], y[-1]), padding=0.0, disableAutoRange=True
        )
        shown = np.isfinite(function.confidence)
        self._set_texts(
            f"decision regions {_after(function.step)}",
            f"{function.n_classes} classes: each region in the colour of the class the network"
            " picks there (paler: less sure); dots: training points in their true class's colour"
            + ("" if shown.all() else "; magenta: inf/nan"),
        )
        self._axes("x₁ (input plane)", "x₂ (input plane)")

    def _draw_fit(self, function: RegressionFit) -> None:
        target, prediction = function.target, function.prediction
        finite = np.isfinite(prediction)
        self.points.setData(
            target[finite], prediction[finite], brush=pg.mkBrush(*self._theme.measured),
            pen=None,
        )  # fmt: skip
        lo = float(np.min(target)) if target.size else -1.0
        hi = float(np.max(target)) if target.size else 1.0
        self.diagonal.setData([lo, hi], [lo, hi])
        self.image.setVisible(False)
        self.points.setVisible(True)
        self.diagonal.setVisible(True)
        self.plotItem.setAspectLocked(False)
        values = np.concatenate([target, prediction[finite]]) if finite.any() else target
        low, high = (float(values.min()), float(values.max())) if values.size else (-1.0, 1.0)
        self.plotItem.setRange(xRange=(lo, hi), yRange=(low, high), disableAutoRange=True)
        missing = int(np.count_nonzero(~finite))
        self._set_texts(
            f"prediction against target {_after(function.step)}",
            "on the dashed diagonal the network is exactly right"
            + (f"; {missing} inf/nan predictions not drawn" if missing else ""),
        )
        self._axes("target", "prediction")

    def _axes(self, bottom: str, left: str) -> None:
        for key, text in (("bottom", bottom), ("left", left)):
            axis = self.plotItem.getAxis(key)
            widest = "−0.00" if key == "left" else ""
            style_axis(axis, text, self._scale, widest_tick=widest, theme=self._theme)
            no_si_prefix(axis)

    def _set_texts(self, title: str, caption: str) -> None:
        self.plotItem.setTitle(
            title or None, color=self._theme.foreground, size=f"{BASE_LABEL_PT * self._scale}pt"
        )
        shown = caption if not self._compact or not title else ""  # a message always shows
        self._caption.setText(
            shown or " ", color=self._theme.foreground, size=f"{BASE_TICK_PT * self._scale}pt"
        )

    # -- look ----------------------------------------------------------------------------------
    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self._restyle()

    def set_font_scale(self, scale: float) -> None:
        self._scale = float(scale)
        self._restyle()

    def _restyle(self) -> None:
        self.setBackground(self._theme.background)
        dash = QtCore.Qt.PenStyle.DashLine
        self.diagonal.setPen(pg.mkPen(self._theme.theory, width=self._theme.line_width, style=dash))
        self.points.setSize(7 * self._theme.line_width / 2 + 2)
        self._axes("x₁ (input plane)", "x₂ (input plane)")
        self._drawn = None
        self.set_function(self._function, self._message)


def _after(steps: int) -> str:
    """When the function was taken: it is what the weights compute after ``steps`` updates,
    the weights that step ``steps`` (as the other views count) trains with."""
    if steps == 0:
        return "before training"
    return f"after {steps:,} training step{'s' * (steps != 1)}"


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    colour = hex_colour.lstrip("#")
    return int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16)
