"""The heatmaps' colour bar: the viridis lookup table, labelled in decades.

One piece for the single heatmap's own bar and the comparison's shared one, so both read
the same way.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtGui

from gradsim.app.views.colors import VIRIDIS_LUT, decade_label, decade_ticks
from gradsim.app.views.plot_parts import no_si_prefix

BAR_WIDTH = 22
MAX_MINOR_TICKS = 60  # beyond this, minor (unlabelled) decade ticks only add clutter


class _MenuFreePlotItem(pg.PlotItem):
    """PlotItem built without its ViewBox context menu (~2 ms of start-up, never shown)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("enableMenu", False)
        super().__init__(*args, **kwargs)


class DecadeColorBar(pg.ColorBarItem, _MenuFreePlotItem):
    """A non-interactive colour bar showing VIRIDIS_LUT, its axis in powers of ten.

    It draws the LUT itself, bottom = lowest level: what a 256-stop pg.ColorMap would show,
    without building one (~2 ms of start-up). ``super().__init__()`` of ColorBarItem reaches
    PlotItem through _MenuFreePlotItem (method resolution order), so no menu is built.
    """

    def __init__(self, levels: tuple[float, float] = (0.0, 1.0)) -> None:
        super().__init__(values=levels, interactive=False, width=BAR_WIDTH, colorMapMenu=False)
        lut = np.ascontiguousarray(VIRIDIS_LUT[:, np.newaxis, :])
        image = pg.functions.ndarray_to_qimage(lut, QtGui.QImage.Format.Format_RGBA8888)
        self.bar.setPixmap(QtGui.QPixmap.fromImage(image))
        for key in ("left", "right", "top", "bottom"):  # the bar's frame
            no_si_prefix(self.getAxis(key))  # no label rewrite on resizes

    def show_decades(self, lo: float, hi: float) -> None:
        """Show [lo, hi] (log10 units), labelled at whole decades with minor decade ticks."""
        self.setLevels((lo, hi))
        major = decade_ticks(lo, hi)
        step = major[1] - major[0] if len(major) > 1 else 1.0
        minor = [float(v) for v in range(math.ceil(lo), math.floor(hi) + 1)] if step > 1 else []
        if len(minor) > MAX_MINOR_TICKS:
            minor = []
        self.axis.setTicks(
            [[(v, decade_label(v)) for v in major], [(v, "") for v in minor if v not in major]]
        )
