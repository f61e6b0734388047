"""The distributions panel draws what the histograms hold: ridge heights in proportion to the
counts, image colours from each bin's share of its layer, σ′(z) over the inputs of the
activation, percentile bands equal to the histograms' own quantiles, and the step shown."""

from __future__ import annotations

import numpy as np
import pytest

from gradsim.app.views.colors import NONFINITE_RGBA
from gradsim.app.views.distribution_plots import (
    QS,
    band_quantiles,
    panel_of,
    ridge_layers,
    ridge_step,
)
from gradsim.app.views.distributions_view import EMPTY_TEXT, DistributionsView
from gradsim.app.views.themes import LIGHT
from gradsim.engine.activations import evaluate
from gradsim.engine.config import Config
from gradsim.engine.distributions import DistributionHistory, Histogram, StepDistributions
from gradsim.engine.simulation import Simulation

TANH = Config(depth=12, width=16, activation="tanh", init="normal", init_gain=1.5, seed=4)
LINEAR_HALF = Config(depth=30, width=4, input_dim=4, output_dim=4, activation="linear",
                     init="identity", init_gain=0.5, bias=False, seed=1)  # fmt: skip


def history_of(config: Config, steps: int, every: int = 5) -> DistributionHistory:
    sim = Simulation(config, record=False, distributions=every)
    history = DistributionHistory()
    for _ in range(steps):
        stats = sim.step()
        if stats.distributions is not None:
            history.append(stats.distributions)
    return history


@pytest.fixture(scope="module")
def tanh_history() -> DistributionHistory:
    return history_of(TANH, 21)


def shown(qtbot, history, config, **choices) -> DistributionsView:
    view = DistributionsView()
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    for name, value in choices.items():
        getattr(view, f"set_{name}")(value)
    view.set_data(history, None, config.activation, config.depth)
    return view


def test_without_measurements_the_panel_says_how_to_get_some(qtbot) -> None:
    view = shown(qtbot, None, TANH)
    assert view.drawn_step() is None
    assert view._message.text() == EMPTY_TEXT
    view.set_data(DistributionHistory(), None, "tanh", 12)
    assert view.drawn_step() is None


def test_ridges_are_the_counts_scaled_to_one_height_per_layer(qtbot, tanh_history) -> None:
    view = shown(qtbot, tanh_history, TANH, kind="preactivation", layer=5)
    newest = tanh_history.entries()[-1]
    histogram = newest.histograms["preactivation"]
    assert view.drawn_step() == newest.step == 20
    ridges = view.ridges()
    assert {r.layer for r in ridges} >= {0, 5}  # layer 1 and the chosen one always
    for ridge in ridges:
        counts = histogram.counts[ridge.layer].astype(float)
        nonzero = counts > 0
        ratio = ridge.heights[nonzero] / counts[nonzero]
        np.testing.assert_allclose(ratio, ratio[0])  # one scale per ridge: a true shape
        assert ridge.base == ridge.layer + 1  # on its layer's tick, layer 1 at the bottom
        assert ridge.highlighted == (ridge.layer == 5)
    # Every value of a layer is somewhere: bins, the columns beside them, or inf/nan.
    panel = view.panel()
    assert panel is not None
    np.testing.assert_array_equal(
        panel.counts.sum(axis=1) + sum(c.total for c in panel.columns), panel.totals
    )
    assert (panel.totals[:-1] == TANH.batch_size * TANH.width).all()
    assert panel.totals[-1] == TANH.batch_size * TANH.output_dim


def test_a_ridgeline_of_many_layers_thins_to_every_kth_and_keeps_first_last_chosen() -> None:
    assert ridge_step(100, 25 * 16.0) == 4
    layers = ridge_layers(100, 4, chosen=41).tolist()
    assert layers[0] == 0 and layers[-1] == 99 and 41 in layers
    assert {3, 7, 11} <= set(layers) and 5 not in layers
    assert ridge_step(10, 1000.0) == 1


def test_the_image_colours_each_bins_share_of_its_layer(qtbot, tanh_history) -> None:
    view = shown(qtbot, tanh_history, TANH, kind="activation", mode="image")
    histogram = tanh_history.entries()[-1].histograms["activation"]
    shares = view.image_shares()
    rows = shares.shape[0]
    expected = histogram.counts[:rows] / histogram.totals()[:rows, None]
    np.testing.assert_allclose(shares, expected)
    rgba = view.image_rgba()
    assert rgba.shape[:2] == shares.shape
    assert (rgba[shares == 0, 3] == 0).all()  # an empty bin shows the background
    assert (rgba[shares > 0, 3] == 255).all()
    assert view.ridges() == []


def test_inf_and_nan_are_counted_and_drawn_magenta(qtbot) -> None:
    edges = np.linspace(-1.0, 1.0, 5)
    counts = np.array([[1000, 2000, 3000, 4000], [0, 0, 0, 0]], dtype=np.int64)
    histogram = Histogram(
        kind="activation", scale="value", edges=edges, counts=counts,
        below=np.array([1, 0]), above=np.array([0, 1]), nonfinite=np.array([0, 9]),
    )  # fmt: skip
    entry = StepDistributions(
        step=3,
        histograms={
            k: histogram for k in ("activation", "preactivation", "backprop_grad", "weight_grad")
        },
    )
    history = DistributionHistory()
    history.append(entry)
    view = shown(qtbot, history, TANH, kind="activation", mode="image", layer=1)
    _, right = view.column_rgba()
    assert tuple(right[1, 0]) == NONFINITE_RGBA
    assert tuple(right[0, 0]) != NONFINITE_RGBA
    notes = view.texts()[1]
    assert "layer 2:" in notes and "90 % inf/nan" in notes and "10 % at or above 1" in notes
    view.set_layer(0)  # rich text: a share under 0.1 % must not read as a tag
    assert "layer 1: < 0.1 % below −1" in view.texts()[1]


def test_sigma_prime_is_drawn_over_the_inputs_of_the_activation_only(qtbot, tanh_history) -> None:
    view = shown(qtbot, tanh_history, TANH, kind="preactivation")
    curve = view.sigma_curve()
    assert curve is not None
    z, slope = curve
    np.testing.assert_allclose(slope, evaluate("tanh", z, 0.01)[1])
    assert slope.max() == pytest.approx(1.0, abs=0.01)  # tanh′(0) = 1, at the middle bin
    assert "σ′(z), slope of tanh" in view.texts()[1]
    view.set_kind("activation")
    assert view.sigma_curve() is None
    assert "σ′" not in view.texts()[1]


def test_gradients_are_binned_by_octave_on_a_log_axis_that_reads_ten_to_the(
    qtbot,
) -> None:
    history = history_of(LINEAR_HALF, 1, every=1)
    view = shown(qtbot, history, LINEAR_HALF, kind="backprop_grad")
    axis = view._plot.getAxis("bottom")
    assert axis.logMode
    lo = min(axis.range)
    strings = axis.tickStrings([round(lo) + 1.0], 1.0, 1.0)
    assert strings[0].startswith("10")  # a power of ten, never a bare exponent
    # W = 0.5 I: each layer nearer the input holds the gradient one octave lower.
    medians = [np.median(view.panel().histogram.quantiles(layer, [0.5])) for layer in (0, 1, 2)]
    assert medians[1] / medians[0] == pytest.approx(2.0, rel=1e-6)
    assert medians[2] / medians[1] == pytest.approx(2.0, rel=1e-6)


def test_bands_are_the_chosen_layers_quantiles_at_every_measured_step(qtbot, tanh_history) -> None:
    view = shown(qtbot, tanh_history, TANH, kind="backprop_grad", layer=7)
    steps, values = view.bands()
    expected_steps, expected = tanh_history.over_time("backprop_grad", 7, QS)
    np.testing.assert_array_equal(steps, expected_steps)
    np.testing.assert_allclose(values, expected, rtol=1e-12)
    for kind in ("activation", "preactivation", "weight_grad"):
        fast = band_quantiles(tanh_history.entries(), kind, 3)[1]
        np.testing.assert_allclose(fast, tanh_history.over_time(kind, 3, QS)[1], rtol=1e-12)
    assert "layer 8 over time" in view.texts()[2]


def test_replay_draws_the_stored_step_and_marks_it_in_the_bands(qtbot, tanh_history) -> None:
    view = shown(qtbot, tanh_history, TANH, kind="weight_grad")
    view.set_data(tanh_history, 10, "tanh", TANH.depth)
    assert view.drawn_step() == 10
    stored = tanh_history.at(10).histograms["weight_grad"]
    np.testing.assert_array_equal(view.panel().counts, panel_of(stored).counts)
    assert view._bands.mark.isVisible() and view._bands.mark.value() == 10
    view.set_data(tanh_history, 13, "tanh", TANH.depth)  # between measurements: the last one
    assert view.drawn_step() == 10
    assert "the last measured by step 13" in view.texts()[0]
    view.set_data(tanh_history, None, "tanh", TANH.depth)
    assert view.drawn_step() == 20 and not view._bands.mark.isVisible()


def test_unchanged_data_do_not_redraw(qtbot, tanh_history) -> None:
    view = shown(qtbot, tanh_history, TANH)
    draws, band_draws = view.draws, view.band_draws
    for _ in range(5):
        view.set_data(tanh_history, None, "tanh", TANH.depth)
    assert (view.draws, view.band_draws) == (draws, band_draws)
    view.set_layer(2)
    assert view.draws == draws + 1 and view.band_draws == band_draws + 1


def test_clicking_a_ridge_or_a_row_picks_its_layer(qtbot, tanh_history) -> None:
    view = shown(qtbot, tanh_history, TANH, kind="activation", mode="image")
    picked: list[int] = []
    view.layerPicked.connect(picked.append)
    assert view.layer_at(0.0, 4.1) == 3  # the image's row 4 is layer 4 (0-based 3)
    assert view.layer_at(0.0, 0.2) is None  # the label strip under layer 1
    view.set_mode("ridgeline")
    ridge = next(r for r in view.ridges() if r.layer == 0)
    peak = int(np.argmax(ridge.heights))
    x = (ridge.x_edges[peak] + ridge.x_edges[peak + 1]) / 2
    assert view.layer_at(x, ridge.base + 0.01) == 0
    assert picked == []  # only a user's click emits


def test_bad_choices_are_refused_with_the_known_ones(qtbot) -> None:
    view = shown(qtbot, None, TANH)
    with pytest.raises(ValueError, match="known: activation"):
        view.set_kind("bogus")
    with pytest.raises(ValueError, match="ridgeline, image"):
        view.set_mode("pie")


def test_a_theme_and_a_projector_font_restyle_without_losing_the_step(qtbot, tanh_history) -> None:
    view = shown(qtbot, tanh_history, TANH, kind="preactivation", layer=4)
    view.set_data(tanh_history, 5, "tanh", TANH.depth)
    view.set_theme(LIGHT)
    view.set_font_scale(1.75)
    assert view.drawn_step() == 5 and view.layer == 4 and view.kind == "preactivation"
    assert view.sigma_curve() is not None


def test_replaying_a_step_before_the_first_measurement_says_so(qtbot, tanh_history) -> None:
    later = DistributionHistory()
    for entry in tanh_history.entries()[1:]:  # from step 5 on
        later.append(entry)
    view = shown(qtbot, later, TANH)
    view.set_data(later, 2, "tanh", TANH.depth)
    assert view.drawn_step() == 5
    assert "step 5 (none measured by step 2)" in view.texts()[0]


def test_the_bands_give_way_on_a_short_panel_and_come_back_whole(qtbot, tanh_history) -> None:
    view = shown(qtbot, tanh_history, TANH)
    assert view.bands_shown()
    view.resize(900, 250)  # too short for two plots: the layers keep the room
    assert not view.bands_shown() and not view._bands.plot.isVisible()
    view.set_theme(LIGHT)  # restyled while hidden (a hidden axis sizes itself to 0)
    view.resize(900, 700)
    qtbot.wait(10)
    assert view.bands_shown() and view._bands.plot.isVisible()
    axis = view._bands.plot.getAxis("bottom")
    assert axis.geometry().height() > 20  # its tick labels and title have their room
    assert view._bands.plot.vb.geometry().height() > 50
