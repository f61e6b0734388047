"""Comparison mode: runs in lockstep in one real worker process, one shared colour scale, one
loss plot, independent divergence, the "Compare with…" dialog, and a clean stop."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from gradsim.app.inputs.compare_dialog import CompareDialog
from gradsim.app.model.session import RunSession, RunSpec
from gradsim.app.model.view_state import ViewState
from gradsim.app.views.colors import VIRIDIS_LUT, LevelTracker, colorize, log_values
from gradsim.app.views.compare_view import CompareView
from gradsim.app.views.themes import DEFAULT_THEME
from gradsim.engine.config import Config
from gradsim.engine.presets import get_preset, list_presets
from gradsim.engine.protocol import RunState
from gradsim.engine.simulation import Simulation

SMALL = Config(depth=6, width=16, input_dim=4, output_dim=2, activation="tanh", seed=5)
# Linear identity nets: each layer scales the signal by the gain, so runs differing in gain
# have activations in very different decades.
FADING = Config(
    depth=30,
    width=8,
    input_dim=8,
    output_dim=8,
    activation="linear",
    init="identity",
    init_gain=0.5,
    batch_size=8,
)
EXPLODING = get_preset("seed-exploding").config  # 100 x 8 linear, W = 2I: diverges at step 1


class Comparison:
    """What the window does for a comparison, without the window: a run session, a view
    state, and a comparison view drawing them (as the frame timer would)."""

    def __init__(self, qtbot) -> None:
        self.qtbot = qtbot
        self.session = RunSession()
        self.state = ViewState()
        self.view: CompareView | None = None

    def start(self, runs, metric: str) -> None:
        self.session.start([RunSpec(label, config) for label, config in runs])
        self.state.set_metric(metric)
        self.view = CompareView(self.session.labels)
        self.qtbot.addWidget(self.view)
        self.view.resize(1200, 700)
        self.view.show()

    def draw(self) -> None:
        self.session.poll()
        self.view.draw(self.session, self.state)

    def settle(self, timeout: int = 10_000) -> None:
        """Draw until every run is idle (at its target, or diverged)."""

        def idle() -> bool:
            self.draw()
            return self.session.is_idle()

        self.qtbot.waitUntil(idle, timeout=timeout)
        self.draw()

    @property
    def step_counts(self) -> list[int]:
        return [s.step_count for s in self.session.snapshots]


@pytest.fixture
def panel(qtbot):
    comparison = Comparison(qtbot)
    yield comparison
    comparison.session.stop()


def test_runs_step_in_lockstep_and_each_records_its_own_run(panel, qtbot) -> None:
    relu = SMALL.replace(activation="relu", init="he_normal")
    panel.start([("tanh", SMALL), ("relu", relu)], "backprop_grad_rms")
    session = panel.session
    session.set_speed(float("inf"))
    for _ in range(3):  # pressed quickly: the worker has reported none of them yet
        session.step()
    panel.settle()
    assert panel.step_counts == [3, 3]
    assert [h.steps.tolist() for h in session.histories] == [[0, 1, 2], [0, 1, 2]]

    session.run_until(20)
    panel.settle()
    assert panel.step_counts == [20, 20] and session.states == [RunState.PAUSED] * 2
    assert [h.steps.tolist() for h in session.histories] == [list(range(20))] * 2
    for config, history in zip((SMALL, relu), session.histories, strict=True):
        reference = Simulation(config)
        reference.run(20)
        expected = reference.recorder.arrays()
        np.testing.assert_array_equal(history.loss, expected["loss"])
        np.testing.assert_array_equal(
            history.stat("backprop_grad_rms"), expected["backprop_grad_rms"]
        )

    # One loss line per run, in the theme's run colours, with the labels in the legend.
    plot = panel.view.loss_plot
    assert session.labels == ["tanh", "relu"] and plot.legend_entries() == ["tanh", "relu"]
    assert len(plot.curves) == 2
    for i, (curve, history) in enumerate(zip(plot.curves, session.histories, strict=True)):
        np.testing.assert_array_equal(curve.yData, history.loss)
        assert curve.opts["pen"].color().getRgb()[:3] == DEFAULT_THEME.series[i]

    session.reset()
    panel.settle()
    assert panel.step_counts == [0, 0] and [len(h) for h in session.histories] == [0, 0]


def test_heatmaps_share_one_colour_scale(panel, qtbot) -> None:
    slower = FADING.replace(learning_rate=0.001)  # same weights at step 0, so same values
    steady = FADING.replace(init_gain=1.0)
    metric = "activation_rms"
    panel.start([("gain 0.5", FADING), ("gain 0.5, slower", slower), ("gain 1", steady)], metric)
    panel.session.run_until(4)
    panel.settle()
    view, histories = panel.view, panel.session.histories
    values = [h.stat(metric) for h in histories]
    logs = [log_values(v) for v in values]
    # The premise: each run on its own scale would get different levels.
    own = {LevelTracker().update(logs[0]), LevelTracker().update(logs[2])}
    assert len(own) == 2

    levels = view.levels()
    assert panel.state.view.levels == levels  # the toolbar shows what the view chose
    assert all(heatmap.levels() == levels for heatmap in view.heatmaps)
    every = np.concatenate([log.ravel() for log in logs])
    assert levels[0] <= every.min() and every.max() <= levels[1]
    for heatmap, history, value in zip(view.heatmaps, histories, values, strict=True):
        rows = np.searchsorted(history.steps, heatmap.displayed_steps())
        expected = colorize(value[rows].T, *levels, VIRIDIS_LUT)
        np.testing.assert_array_equal(heatmap.displayed_rgba(), expected)
    # Equal values look equal across heatmaps: step 0 of the first two runs.
    np.testing.assert_array_equal(values[0][0], values[1][0])
    first, second = (heatmap.displayed_rgba() for heatmap in view.heatmaps[:2])
    np.testing.assert_array_equal(first[:, 0], second[:, 0])

    # A pinned range applies to every heatmap, and automatic levels come back.
    panel.state.pin_levels(-12.0, 2.0)
    panel.draw()
    assert all(heatmap.levels() == (-12.0, 2.0) for heatmap in view.heatmaps)
    assert view.color_bar.bar.levels() == (-12.0, 2.0)
    panel.state.set_auto_levels(True)
    panel.draw()
    assert view.levels() == levels and view.heatmaps[2].levels() == levels


def test_a_diverging_run_leaves_the_others_running(panel, qtbot) -> None:
    panel.start([("W = 2I", EXPLODING), ("tanh", SMALL)], "backprop_grad_rms")
    session = panel.session
    session.set_speed(float("inf"))
    session.run_until(12)
    panel.settle()
    exploded, fine = session.histories
    assert session.states == [RunState.DIVERGED, RunState.PAUSED]
    assert panel.step_counts == [2, 12]
    assert exploded.steps.tolist() == [0, 1] and exploded.diverged_at == 1
    assert fine.steps.tolist() == list(range(12)) and fine.diverged_at is None
    titles = [title.text().replace("&nbsp;", " ") for title in panel.view.titles]
    assert "diverged at step 1" in titles[0] and "diverged" not in titles[1]
    assert "step 11" in titles[1]  # the newest recorded step, as the heatmap's last column
    loss = panel.view.loss_plot
    assert loss.legend_entries()[0] == "W = 2I (inf/nan from step 1)"
    assert loss.overflow_lines[0].isVisible() and not loss.overflow_lines[1].isVisible()
    assert not session.playing

    session.step()  # only the live run moves
    panel.settle()
    assert panel.step_counts == [2, 13]


def test_an_error_shows_for_its_run_only(panel, qtbot) -> None:
    huge = Config(depth=2000, width=4096)  # 268 GB of weights: refused at once
    panel.start([("small", SMALL), ("huge", huge)], "backprop_grad_rms")
    panel.session.run_until(3)
    panel.settle()
    assert panel.step_counts == [3, 0]
    errors = panel.session.errors
    assert errors[0] is None and "memory" in errors[1]
    titles = panel.view.titles
    assert "GB" in titles[1].text() and "cannot start" not in titles[0].text()  # cut short


# -- the dialog ---------------------------------------------------------------------------------
@pytest.fixture
def dialog(qtbot):
    widget = CompareDialog(SMALL, list_presets())
    qtbot.addWidget(widget)
    widget.show()
    return widget


@pytest.mark.parametrize(
    ("field", "values", "labels", "changed"),
    [
        ("activation", ["relu", "sigmoid"], ["tanh", "relu", "sigmoid"], ["relu", "sigmoid"]),
        ("learning_rate", ["0.1", "1e-3"], ["0.01", "0.1", "0.001"], [0.1, 0.001]),
        ("batchnorm", ["on"], ["off", "on"], [True]),
    ],
)
def test_vary_one_setting_makes_the_current_run_and_its_variants(
    dialog, qtbot, field, values, labels, changed
) -> None:
    dialog.choose_variation(field, values)
    qtbot.keyClick(dialog, Qt.Key.Key_Return)  # Enter accepts
    assert dialog.result() == QDialog.DialogCode.Accepted
    expected = [SMALL] + [SMALL.replace(**{field: value}) for value in changed]
    assert dialog.runs() == [
        (f"{field} = {label}", config) for label, config in zip(labels, expected, strict=True)
    ]


@pytest.mark.parametrize(
    ("field", "values", "message"),
    [
        ("learning_rate", ["fast"], "is not a number"),
        ("learning_rate", ["-1"], "out of range"),
        ("activation", ["tanh"], "already compared"),  # the current value
        ("init_gain", ["2", "2.0"], "already compared"),
        ("optimizer", [], "at least one"),
    ],
)
def test_vary_rejects_invalid_choices_inline(dialog, qtbot, field, values, message) -> None:
    dialog.choose_variation(field, values)
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    assert message in dialog.message.text() and dialog.runs() == []


def test_presets_tab_uses_titles_and_needs_two_to_four(dialog, qtbot) -> None:
    dialog.choose_presets(["relu-he"])
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    assert dialog.isVisible() and "Tick 2 to 4" in dialog.message.text()
    dialog.choose_presets([p.id for p in list_presets()[:5]])
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    assert dialog.isVisible() and "(5 ticked)" in dialog.message.text()

    dialog.choose_presets(["relu-xavier", "relu-he"])
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    assert dialog.result() == QDialog.DialogCode.Accepted
    xavier, he = get_preset("relu-xavier"), get_preset("relu-he")
    assert dialog.runs() == [(xavier.title, xavier.config), (he.title, he.config)]


def test_escape_cancels(dialog, qtbot) -> None:
    dialog.choose_variation("activation", ["relu"])
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert dialog.result() == QDialog.DialogCode.Rejected and dialog.runs() == []
