"""The single run's plots: heatmap on the left; loss, layer profile (or the order-to-chaos map)
and the theory readout on the right.

It draws the run session's single run as the view state asks; it owns no run and sends nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from gradsim.app.model.replay import profile_row
from gradsim.app.model.session import RunSession
from gradsim.app.model.view_state import PANEL_NAMES, View, ViewState
from gradsim.app.views.dividers import DividedSplitter
from gradsim.app.views.heatmap import HeatmapView
from gradsim.app.views.learned_function_view import LearnedFunctionView, missing_text
from gradsim.app.views.levels import SharedLevels
from gradsim.app.views.loss_plot import LossPlot
from gradsim.app.views.plots import ProfilePlot
from gradsim.app.views.themes import Styled, Theme
from gradsim.app.views.theory_readout import TheoryReadout
from gradsim.engine.config import Config
from gradsim.engine.recording import Recorder
from gradsim.engine.stats import stat_applies

if TYPE_CHECKING:  # the theory and the map load on first use, after the first paint
    from gradsim.app.views.distributions_view import DistributionsView
    from gradsim.app.views.theory_panel import ChaosMap
    from gradsim.engine.theory import TheoryProfile

# The panels under the loss, one tab each, in this order (the view state names them).
PANELS = PANEL_NAMES
PROFILE_TAB, DISTRIBUTIONS_TAB, FUNCTION_TAB, MAP_TAB = (PANELS.index(name) for name in PANELS)
# The histogram kind that shows a heatmap metric's spread (the panel follows the metric).
KIND_OF_METRIC = {
    "activation_rms": "activation",
    "preactivation_rms": "preactivation",
    "backprop_grad_rms": "backprop_grad",
    "weight_grad_norm": "weight_grad",
}
HEATMAP_SHARE, HEATMAP_SHARE_PRESENTING = 0.6, 0.52  # of the width, next to the side column
# The distributions are a plot of plots (every layer's histogram, one layer over time): when
# they are in front the side column takes more of the width, and the loss less of its height.
DISTRIBUTIONS_SHARE, DISTRIBUTIONS_SHARE_PRESENTING = 0.45, 0.36
LOSS_SHARE, LOSS_SHARE_DISTRIBUTIONS = 2 / 7, 0.22  # of the side column's height
THEORY_DELAY_MS = 150  # the first readout waits for the first paint (loading theory: ~20 ms)


def theory_line(
    theory: TheoryProfile | None, metric: str, measured: np.ndarray
) -> tuple[np.ndarray | None, str]:
    """The theory's prediction for ``metric`` (None where it has none) and its legend label.

    The theory describes the initial weights: ``measured`` should be step 0's values (the
    gradient profile is predicted relative to the output layer, and anchored there)."""
    if theory is None or not theory.available:
        return None, ""
    kind = "exact" if theory.exact else "mean field"
    label = f"theory at initialisation ({kind})"
    if metric == "preactivation_rms":
        return theory.preactivation_rms, label
    if metric == "activation_rms":
        return theory.activation_rms, label
    if metric == "backprop_grad_rms" and measured.size and np.isfinite(measured[-1]):
        # The theory gives the profile relative to the output layer: anchor it there.
        return theory.backprop_grad_rms_relative * measured[-1], label
    return None, ""


class SingleRunView(DividedSplitter):
    """Every plot of one run, laid out for a 16:9 screen."""

    def __init__(self) -> None:
        super().__init__(Qt.Orientation.Horizontal)
        self.heatmap = HeatmapView()
        self._levels = SharedLevels()
        self._generation = -1  # the session's runs last drawn
        self.loss_plot = LossPlot()
        self.profile_plot = ProfilePlot()
        self._chaos_map: ChaosMap | None = None  # built when first shown (~30 ms)
        self._map_page = QWidget()
        self._map_layout = QVBoxLayout(self._map_page)
        self._map_layout.setContentsMargins(0, 0, 0, 0)
        self._theory_wanted: tuple[Config, TheoryProfile | None] | None = None
        self._theory_shown: tuple[Config, TheoryProfile | None] | None = None
        self._theory_ready = False  # the first readout waits for the first paint
        QTimer.singleShot(THEORY_DELAY_MS, self, self._start_theory)
        self._look: tuple[Theme, float] | None = None
        self._drawn: tuple[RunSession, ViewState] | None = None  # what draw() last had
        self.readout = TheoryReadout()
        # The profile and the map share the space under the loss: a tab each, so both stay
        # large enough to read; the readout (one sentence) stays visible under either.
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.function_view = LearnedFunctionView()
        # The distributions (~50 ms to build) and the map are made when first shown.
        self._distributions: DistributionsView | None = None
        self._distributions_page = QWidget()
        self._distributions_layout = QVBoxLayout(self._distributions_page)
        self._distributions_layout.setContentsMargins(0, 0, 0, 0)
        self._picked_layer = 0  # the layer last hovered: the distributions' chosen one
        self._kind_metric = ""  # the metric the distributions' kind last followed
        # Short names: four tabs must fit the side column at projector font sizes.
        self.tabs.tabBar().setElideMode(Qt.TextElideMode.ElideRight)
        self.tabs.tabBar().setUsesScrollButtons(False)
        self.tabs.addTab(self.profile_plot, "Profile")
        self.tabs.addTab(self._distributions_page, "Distributions")
        self.tabs.addTab(self.function_view, "Learned function")
        self.tabs.addTab(self._map_page, "Chaos map")
        self.tabs.currentChanged.connect(self._on_tab)
        self.tabs.setTabToolTip(
            PROFILE_TAB, "Layer profile: one step's statistic across layers, with theory"
        )
        self.tabs.setTabToolTip(
            DISTRIBUTIONS_TAB,
            "Every layer's histogram of h, z or a gradient at the step shown, and one layer"
            " over time (Ctrl+D)",
        )
        self.tabs.setTabToolTip(
            FUNCTION_TAB, "What the network computes: decision regions, or prediction vs target"
        )
        self.tabs.setTabToolTip(
            MAP_TAB,
            "Order-to-chaos map: the predicted per-layer gradient factor over weight and bias"
            " scales (Ctrl+M)",
        )
        # Resting the mouse on a layer in the heatmap or the profile picks that layer's
        # histogram over time (its row in the ridgeline is highlighted).
        self.heatmap.layerHovered.connect(self._pick_layer)
        self.profile_plot.layerHovered.connect(self._pick_layer)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.setSpacing(0)
        lower_layout.addWidget(self.tabs, 1)
        lower_layout.addWidget(self.readout)
        self._side = side = DividedSplitter(Qt.Orientation.Vertical)
        side.addWidget(self.loss_plot)
        side.addWidget(lower)
        side.setStretchFactor(0, 2)
        side.setStretchFactor(1, 5)
        self.addWidget(self.heatmap)
        self.addWidget(side)
        self.setStretchFactor(0, 3)
        self.setStretchFactor(1, 2)

    @property
    def chaos_map(self) -> ChaosMap:
        """The order-to-chaos map (made on first use: start-up need not pay for it)."""
        if self._chaos_map is None:
            from gradsim.app.views.theory_panel import ChaosMap

            self._chaos_map = ChaosMap()
            self._map_layout.addWidget(self._chaos_map)
            self._chaos_map.show()  # now, not at the next event loop pass
            if self._look is not None:
                self._chaos_map.set_theme(self._look[0])
                self._chaos_map.set_font_scale(self._look[1])
            if self._theory_shown is not None:
                self._chaos_map.set_config(self._theory_shown[0])
        return self._chaos_map

    @property
    def distributions_view(self) -> DistributionsView:
        """The distributions panel (made on first use: start-up need not pay for it)."""
        if self._distributions is None:
            from gradsim.app.views.distributions_view import DistributionsView

            view = self._distributions = DistributionsView()
            self._distributions_layout.addWidget(view)
            view.show()
            if self._look is not None:
                view.set_theme(self._look[0])
                view.set_font_scale(self._look[1])
            view.set_layer(self._picked_layer)
        return self._distributions

    def _pick_layer(self, layer: int) -> None:
        """The layer hovered in the heatmap or the profile: the distributions' chosen one."""
        self._picked_layer = layer
        if self._distributions is not None:
            self._distributions.set_layer(layer)

    def _draw_distributions(self, session: RunSession, view: View) -> None:
        """The histograms at the step shown, of the kind that goes with the heatmap's metric
        when it changed (a scene's choice; the panel's own menu chooses otherwise)."""
        panel, config = self.distributions_view, session.configs[0]
        if view.metric != self._kind_metric:
            self._kind_metric = view.metric
            if view.metric in KIND_OF_METRIC:
                panel.set_kind(KIND_OF_METRIC[view.metric])
        panel.set_data(session.distributions[0], view.shown_step, config.activation, config.depth)

    def show_map(self, on: bool = True) -> None:
        """Show the order-to-chaos map (or the layer profile) under the loss."""
        self.show_panel("map" if on else "profile")

    def show_panel(self, name: str) -> None:
        """Bring one of ``PANELS`` to the front under the loss."""
        if name not in PANELS:
            raise ValueError(f"unknown panel {name!r}; expected one of {', '.join(PANELS)}")
        self.tabs.setCurrentIndex(PANELS.index(name))

    @property
    def panel(self) -> str:
        """The panel in front under the loss."""
        return PANELS[self.tabs.currentIndex()]

    def set_theory(self, config: Config, profile: TheoryProfile | None) -> None:
        """Readout and map for ``config`` (``profile`` None: predicted here, at unit input),
        once the first paint is done; computed only when they change."""
        self._theory_wanted = (config, profile)
        self._show_theory()

    def _start_theory(self) -> None:
        self._theory_ready = True
        self._show_theory()

    def _show_theory(self) -> None:
        wanted, shown = self._theory_wanted, self._theory_shown
        if not self._theory_ready or wanted is None:
            return
        if shown is not None and shown[0] == wanted[0] and shown[1] is wanted[1]:
            return  # profiles hold arrays: compared by identity
        from gradsim.engine.theory_summary import predict_cached, summarize

        self._theory_shown = config, profile = wanted
        self.readout.set_summary(summarize(config, profile or predict_cached(config)))
        if self._chaos_map is not None:
            self._chaos_map.set_config(config)

    def set_look(self, theme: Theme, font_scale: float) -> None:
        self._look = (theme, font_scale)
        views: list[Styled] = [
            self.heatmap,
            self.loss_plot,
            self.profile_plot,
            self.readout,
            self.function_view,
        ]
        views += [v for v in (self._chaos_map, self._distributions) if v is not None]
        for view in views:
            view.set_theme(theme)
            view.set_font_scale(font_scale)
        pixels = round(11 * font_scale * 96 / 72)  # >= 24 px in presentation mode at 1080p
        self.tabs.tabBar().setStyleSheet(
            f"QTabBar {{ font-size: {pixels}px; }}"
            f"QTabBar::tab {{ color: {theme.window_text}; background: {theme.window};"
            f" padding: 4px 12px; }} QTabBar::tab:selected {{ color: {theme.accent}; }}"
        )
        for splitter in (self, self._side):
            splitter.set_divider(theme, round(14 * font_scale))
        self._share_space()

    def _on_tab(self, index: int) -> None:
        if index == MAP_TAB:
            self.chaos_map  # noqa: B018 - built on first show
        elif index == DISTRIBUTIONS_TAB:
            self.distributions_view  # noqa: B018
        # The readout is about the profile's theory line; the distributions have notes of
        # their own and need the height.
        self.readout.setVisible(index != DISTRIBUTIONS_TAB)
        self._share_space()

    def _share_space(self) -> None:
        """Widths of the heatmap and the side column, heights of the loss and the panel under
        it: projector fonts need a wider side column for the profile's title and legend, the
        distributions more room still."""
        presenting = self._look is not None and self._look[1] > 1.0
        distributions = self.tabs.currentIndex() == DISTRIBUTIONS_TAB
        if distributions:
            share = DISTRIBUTIONS_SHARE_PRESENTING if presenting else DISTRIBUTIONS_SHARE
        else:
            share = HEATMAP_SHARE_PRESENTING if presenting else HEATMAP_SHARE
        total = sum(self.sizes()) or self.width()
        self.setSizes([round(total * share), round(total * (1 - share))])
        loss = LOSS_SHARE_DISTRIBUTIONS if distributions else LOSS_SHARE
        height = sum(self._side.sizes()) or self._side.height()
        self._side.setSizes([round(height * loss), round(height * (1 - loss))])

    # -- drawing -----------------------------------------------------------------------------
    def draw(self, session: RunSession, state: ViewState) -> None:
        """Show the session's single run as the view state asks (cheap when nothing changed:
        every plot compares with what it shows)."""
        self._drawn = (session, state)
        view = state.view
        history, config = session.histories[0], session.configs[0]
        if session.generation != self._generation:  # a new run: nothing of the old one stays
            self._generation = session.generation
            self.heatmap.clear(config.depth)
            self.loss_plot.clear()
            self.profile_plot.clear(config.depth)
        theory = session.theory(0)
        self.set_theory(config, theory)
        self.heatmap.set_metric(view.metric)
        self.heatmap.set_window(view.window)
        applies = stat_applies(view.metric, config.depth, config.activation)
        self.heatmap.set_not_applicable(~applies)
        steps, values = history.window(view.metric, view.window)
        self.heatmap.set_data(steps, values)
        key = (session.generation, view.metric, view.window)
        self._levels.apply([self.heatmap], state, key, [history.diverged_at])
        self.loss_plot.set_runs([(history.steps, history.loss)])
        self._draw_profile(history, view, theory, applies)
        tab = self.tabs.currentIndex()  # only the panel in front is drawn
        if tab == FUNCTION_TAB:
            self._draw_function(session, view)
        elif tab == DISTRIBUTIONS_TAB:
            self._draw_distributions(session, view)

    def _draw_profile(
        self, history: Recorder, view: View, theory: TheoryProfile | None, applies: np.ndarray
    ) -> None:
        """The shown step's values across layers (the newest, or the one replayed: then the
        heatmap marks it)."""
        row = profile_row(history, view.metric, view.shown_step)
        marked = None if row is None or view.shown_step is None else row.step
        self.heatmap.set_marked_step(marked)
        self.loss_plot.set_marked_step(marked)
        self._draw_measured(history, view.shown_step)
        if row is None:
            self.profile_plot.clear()
            return
        # The theory is about step 0: anchored on step 0's measurement, which the view can
        # show beside the shown step (a deviation after training is then plain to see).
        first = self._first_row(history, view.metric)
        line, label = theory_line(theory, view.metric, first if first is not None else row.values)
        self.profile_plot.set_profile(
            row.values, view.metric, line, label, step=row.step, note=row.note,
            first=first if view.first_step and row.step != 0 else None, applies=applies,
        )  # fmt: skip

    def _draw_function(self, session: RunSession, view: View) -> None:
        """The learned function at the step shown (the newest measured at or before it)."""
        functions = session.functions[0]
        message = missing_text(session.configs[0], functions, len(session.histories[0]))
        self.function_view.set_function(functions.at(view.shown_step), message)

    def _draw_measured(self, history: Recorder, shown_step: int | None) -> None:
        """While a step is replayed, the readout adds what the gradient did at that step (the
        prediction is about step 0). Live, the readout stays one sentence: the profile below
        the theory line shows the measurement already, and space is short on a projector."""
        row = None if shown_step is None else profile_row(history, "backprop_grad_rms", shown_step)
        if row is None:
            self.readout.set_measured("")
            return
        from gradsim.engine.theory_summary import measured_sentence

        self.readout.set_measured(measured_sentence(row.step, row.values))

    @staticmethod
    def _first_row(history: Recorder, metric: str) -> np.ndarray | None:
        """Step 0's values (the recorder keeps the first step, however long the run)."""
        if not len(history) or int(history.steps[0]) != 0:
            return None
        return history.row(metric, 0)

    def export_widget(self, target: str) -> QWidget:
        """The widget pictured for an export ``target`` (the map or profile comes to the front,
        so that it is laid out and drawn exactly as on screen)."""
        if target == "heatmap":
            return self.heatmap
        if target == "loss":
            return self.loss_plot
        if target not in PANELS:
            raise ValueError(f"unknown picture {target!r}")
        self.show_panel(target)
        if self._drawn is not None:  # only the panel in front is drawn: draw it now
            self.draw(*self._drawn)
        pages: dict[str, QWidget] = {
            "profile": self.profile_plot,
            "distributions": self.distributions_view,
            "function": self.function_view,
        }
        return self.chaos_map if target == "map" else pages[target]
