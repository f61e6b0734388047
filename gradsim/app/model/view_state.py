"""How the runs are shown: one evented record the toolbar and menus write and the views read.

Metric, step window, colour levels (and whether they follow the data), theme, font scale,
speed and the step being shown live here and nowhere else. Each setter emits ``changed`` with
the field's name, only when the value really changes, so a view redraws once per change and a
control that mirrors the state never loops back into it.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from PySide6.QtCore import QObject, Signal

from gradsim.engine.stats import STAT_NAMES

DEFAULT_METRIC = "backprop_grad_rms"
DEFAULT_SPEED = 30.0  # steps per second
DEFAULT_WINDOW = 500  # steps the heatmap shows while following the newest
DEFAULT_LEVELS = (-3.0, 3.0)  # decades, before any data
THEME_NAMES = ("dark", "light")
# What shows beside the heatmap under the loss (a comparison: "function" puts each run's
# learned function in place of its heatmap). The views list their own panels in this order.
PANEL_NAMES = ("profile", "distributions", "function", "map")


@dataclass(frozen=True)
class View:
    """The values themselves (what the settings store, and what a test compares)."""

    metric: str = DEFAULT_METRIC
    window: int | None = DEFAULT_WINDOW  # None: the whole run
    auto_levels: bool = True
    levels: tuple[float, float] = DEFAULT_LEVELS  # decades; pinned unless auto_levels
    theme: str = "dark"
    font_scale: float = 1.0  # presentation mode enlarges every text
    speed: float = DEFAULT_SPEED  # math.inf: as fast as possible
    shown_step: int | None = None  # None: the newest step
    first_step: bool = False  # the layer profile also shows the measured step 0
    relative_profile: bool = False  # a comparison's profile: each run over its last layer
    panel: str = "profile"  # one of PANEL_NAMES


class ViewState(QObject):
    """The one view state of the window; see the module notes."""

    changed = Signal(str)  # the name of the field that changed

    def __init__(self, view: View | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._view = view or View()

    @property
    def view(self) -> View:
        """The values now: a frozen record, so a view reads one consistent state per draw."""
        return self._view

    def _update(self, view: View, name: str) -> None:
        if view != self._view:
            self._view = view
            self.changed.emit(name)

    # -- writing -----------------------------------------------------------------------------
    def set_metric(self, name: str) -> None:
        if name not in STAT_NAMES:
            raise ValueError(f"unknown metric {name!r}; expected one of {', '.join(STAT_NAMES)}")
        self._update(replace(self._view, metric=name), "metric")

    def set_window(self, steps: int | None) -> None:
        window = None if steps is None else max(1, int(steps))
        self._update(replace(self._view, window=window), "window")

    def set_auto_levels(self, on: bool) -> None:
        """Follow the data, or keep the levels where they are now (pinned)."""
        self._update(replace(self._view, auto_levels=bool(on)), "auto_levels")

    def pin_levels(self, lo: float, hi: float) -> None:
        """Fix the colour range to [lo, hi] decades (automatic levels off)."""
        if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
            raise ValueError(f"need finite lo < hi, got {lo}, {hi}")
        self.set_auto_levels(False)
        self._update(replace(self._view, levels=(float(lo), float(hi))), "levels")

    def show_levels(self, lo: float, hi: float) -> None:
        """The levels automatic colouring chose (a view reports them; auto stays on)."""
        self._update(replace(self._view, levels=(float(lo), float(hi))), "levels")

    def set_theme(self, name: str) -> None:
        if name not in THEME_NAMES:
            raise ValueError(f"unknown theme {name!r}; expected one of {', '.join(THEME_NAMES)}")
        self._update(replace(self._view, theme=name), "theme")

    def set_font_scale(self, scale: float) -> None:
        self._update(replace(self._view, font_scale=float(scale)), "font_scale")

    def set_speed(self, steps_per_second: float) -> None:
        if not steps_per_second > 0:
            raise ValueError(f"speed must be > 0 steps/s, got {steps_per_second}")
        self._update(replace(self._view, speed=float(steps_per_second)), "speed")

    def set_first_step(self, on: bool) -> None:
        """Show the measured step 0 beside the shown step in the layer profile (where the
        theory, which is about the initial weights, should hold)."""
        self._update(replace(self._view, first_step=bool(on)), "first_step")

    def set_relative_profile(self, on: bool) -> None:
        """A comparison's layer profile divides each run by its own last layer (slopes only)."""
        self._update(replace(self._view, relative_profile=bool(on)), "relative_profile")

    def set_panel(self, name: str) -> None:
        if name not in PANEL_NAMES:
            raise ValueError(f"unknown panel {name!r}; expected one of {', '.join(PANEL_NAMES)}")
        self._update(replace(self._view, panel=name), "panel")

    def show_step(self, step: int | None) -> None:
        """Show a recorded step (None: follow the newest)."""
        shown = None if step is None else int(step)
        self._update(replace(self._view, shown_step=shown), "shown_step")

    # -- persistence -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, object]:
        """The lasting choices (not the font scale, the step shown or the panel: per session)."""
        saved = asdict(self._view)
        for transient in ("font_scale", "shown_step", "panel"):
            saved.pop(transient)
        return saved

    def restore(self, saved: Mapping[str, Any]) -> None:
        """Apply what ``to_dict`` stored (as JSON); values that do not fit (an older version,
        an edited file) are skipped one by one."""
        setters: dict[str, Callable[[Any], None]] = {
            "metric": self.set_metric,
            "window": self.set_window,
            "theme": self.set_theme,
            "speed": self.set_speed,
            "auto_levels": self.set_auto_levels,
            "first_step": self.set_first_step,
            "relative_profile": self.set_relative_profile,
        }
        for name, setter in setters.items():
            with contextlib.suppress(TypeError, ValueError):
                if name in saved:
                    setter(saved[name])
        if not self._view.auto_levels:
            try:
                self.pin_levels(*(float(v) for v in saved.get("levels", ())))
            except (TypeError, ValueError):
                self.set_auto_levels(True)  # pinned to what? Follow the data instead
