"""The learned function in the window: decision regions (or prediction against target) drawn
from the worker's measurements, at the step shown, beside one run or in place of a
comparison's heatmaps."""

from __future__ import annotations

import numpy as np
import pytest
from qt_helpers import open_window

from gradsim.app.main_window import MainWindow
from gradsim.app.views.learned_function_view import (
    NO_PLANE_TEXT,
    LearnedFunctionView,
    region_colours,
)
from gradsim.app.views.themes import DARK
from gradsim.engine.config import Config
from gradsim.engine.learned_function import DecisionMap, RegressionFit, learned_function
from gradsim.engine.presets import get_preset
from gradsim.engine.simulation import Simulation

SPIRALS = Config(
    depth=6, width=32, input_dim=2, output_dim=3, dataset="spirals", loss="cross_entropy",
    activation="relu", init="he_normal", learning_rate=0.05, seed=3,
)  # fmt: skip


def settle(qtbot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: (window.draw(), window.session.is_idle())[1], timeout=30_000)
    window.draw()


def test_regions_take_their_class_colour_faded_by_doubt_and_overflow_is_magenta() -> None:
    classes = np.array([[0, 1], [2, 1]])
    confidence = np.array([[1.0, 1 / 3], [0.9, np.nan]])
    function = DecisionMap(
        step=5, x=np.array([0.0, 1.0]), y=np.array([0.0, 1.0]), classes=classes,
        confidence=confidence, points=np.zeros((0, 2)), labels=np.zeros(0, np.int64),
        n_classes=3,
    )  # fmt: skip
    image = region_colours(function, (0, 0, 0))
    assert tuple(image[0, 0, :3]) == tuple(round(0.75 * c) for c in (230, 159, 0))  # sure
    assert tuple(image[0, 1, :3]) == tuple(round(0.25 * c) for c in (86, 180, 233))  # chance
    assert tuple(image[1, 1]) == (255, 0, 255, 255)  # inf/nan output


def test_the_view_draws_a_map_a_fit_or_says_why_there_is_nothing(qtbot) -> None:
    view = LearnedFunctionView()
    qtbot.addWidget(view)
    sim = Simulation(SPIRALS, record=False)
    sim.run(5)
    function = learned_function(sim, 20)
    assert isinstance(function, DecisionMap)
    view.set_function(function)
    np.testing.assert_array_equal(view.image.image, region_colours(function, (0x15, 0x17, 0x1C)))
    assert len(view.points.data) == len(function.points)
    assert "decision regions after 5 training steps" in view.plotItem.titleLabel.text
    fit = RegressionFit(step=0, target=np.array([0.0, 1.0]), prediction=np.array([0.5, np.inf]))
    view.set_function(fit)
    assert len(view.points.data) == 1 and view.diagonal.isVisible()  # inf is not drawn
    assert "prediction against target before training" in view.plotItem.titleLabel.text
    view.set_function(None, NO_PLANE_TEXT)
    assert not view.image.isVisible() and not view.points.isVisible()
    assert view.message == NO_PLANE_TEXT
    view.set_theme(DARK.for_projector())  # a restyle redraws what is shown
    assert view.message == NO_PLANE_TEXT


def test_the_window_draws_the_workers_function_and_replays_it(qtbot) -> None:
    window = open_window(qtbot, config=SPIRALS)
    try:
        window.session.run_until(60)
        settle(qtbot, window)
        window.view_state.set_panel("function")
        window.draw()
        assert window.single.panel == "function"
        functions = window.session.functions[0]
        shown = window.single.function_view.function
        assert shown is functions.at(None) and shown.step == 60  # the pause is measured
        # Replaying a step shows the newest function measured at or before it.
        window.view_state.show_step(30)
        window.draw()
        replayed = window.single.function_view.function
        assert replayed is functions.at(30) and replayed.step <= 30
        # What is drawn is what the network computes: the engine's own, recomputed.
        reference = Simulation(SPIRALS, record=False)
        reference.run(60)
        expected = learned_function(reference, shown.x.size)
        np.testing.assert_array_equal(shown.classes, expected.classes)
    finally:
        window.close()


def test_csv_classification_says_there_is_no_plane(qtbot, tmp_path) -> None:
    path = tmp_path / "data.csv"
    rows = ["a,b,c,label"] + [f"{i},{i % 3},{i % 5},{i % 2}" for i in range(40)]
    path.write_text("\n".join(rows), encoding="utf-8")
    import gradsim  # resolves the file's inputs, classes and loss, as the app's panel does

    config = gradsim.config(dataset="csv", data_path=str(path), depth=3, width=8, batch_size=8)
    assert config.loss == "cross_entropy"
    window = open_window(qtbot, config=config)
    try:
        window.session.run_until(3)
        settle(qtbot, window)
        assert len(window.session.histories[0]) == 3
        window.view_state.set_panel("function")
        window.draw()
        assert window.single.function_view.function is None
        assert window.single.function_view.message == NO_PLANE_TEXT
    finally:
        window.close()


@pytest.mark.parametrize("panel", ["function", "profile"])
def test_a_comparison_shows_each_runs_function_in_place_of_its_heatmap(qtbot, panel) -> None:
    window = open_window(qtbot, preset=get_preset("relu-he"))
    try:
        runs = [("ReLU", SPIRALS), ("sigmoid", SPIRALS.replace(activation="sigmoid"))]
        window.lecture.start_comparison(runs)
        window.session.run_until(20)
        settle(qtbot, window)
        window.view_state.set_panel(panel)
        window.draw()
        view = window.compare_view
        pages = zip(view._pages, view.functions, view.heatmaps, strict=True)
        for page, function, heatmap in pages:
            assert page.currentWidget() is (function if panel == "function" else heatmap)
        assert view.color_bar.isVisible() == (panel != "function")
        if panel == "function":
            for i, function in enumerate(view.functions):
                assert function.function is window.session.functions[i].at(None)
    finally:
        window.close()
