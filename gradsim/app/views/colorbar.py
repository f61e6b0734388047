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
        self._shown: tuple[object, ...] | None = None

    def show_scale(
        self,
        lo: float,
        hi: float,
        fraction: bool = False,
        beyond: tuple[bool, bool] = (False, False),
    ) -> None:
        """Decades from ``lo`` to ``hi`` (a linear 0-100 % scale for a ``fraction``). Where
        values lie ``beyond`` the bottom or top (and are drawn in the end colour), the end's
        label says so: "≤ 10⁻³", "≥ 10³⁰"."""
        state = (lo, hi, fraction, beyond)
        if state == self._shown:
            return
        self._shown = state
        if fraction:
            self.setLevels((0.0, 1.0))
            self.axis.setTicks([[(v / 4, f"{25 * v} %") for v in range(5)], []])
        else:
            self.show_decades(lo, hi, beyond)

    def show_decades(
        self, lo: float, hi: float, beyond: tuple[bool, bool] = (False, False)
    ) -> None:
        """Show [lo, hi] (log10 units), labelled at whole decades with minor decade ticks."""
        self.setLevels((lo, hi))
        major = decade_ticks(lo, hi)
        step = major[1] - major[0] if len(major) > 1 else 1.0
        minor = [float(v) for v in range(math.ceil(lo), math.floor(hi) + 1)] if step > 1 else []
        if len(minor) > MAX_MINOR_TICKS:
            minor = []
        labels = {v: decade_label(v) for v in major}
        for end, sign, past in ((lo, "≤ ", beyond[0]), (hi, "≥ ", beyond[1])):
            if past:
                labels = {v: t for v, t in labels.items() if abs(v - end) >= 0.5 * (hi - lo) / 8}
                labels[end] = sign + decade_label(end)
        self.axis.setTicks(
            [sorted(labels.items()), [(v, "") for v in minor if v not in labels]]
        )
