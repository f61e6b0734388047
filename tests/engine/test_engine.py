"""Engine behaviour: the seed example, divergence, vanishing, determinism, precision."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from gradsim.engine import theory
from gradsim.engine.config import Config
from gradsim.engine.simulation import Simulation
from gradsim.engine.stats import STAT_NAMES, safe_norm, segment_norm

SEED = dict(depth=100, width=8, input_dim=8, output_dim=8, activation="linear", init="identity")


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("gain", [2.0, 0.5])
def test_seed_example_is_exact(gain: float, bias: bool) -> None:
    """Every W = gain·I: each layer's signal and gradient is exactly gain× its neighbour's."""
    sim = Simulation(Config(**SEED, init_gain=gain, bias=bias))
    stats = sim.step()
    act = stats.layers["activation_rms"]
    grad = stats.layers["backprop_grad_rms"]
    wgrad = stats.layers["weight_grad_norm"]
    # Inputs are standardised: the batch's RMS is about 1, so layer 1 outputs about gain.
    assert act[0] == pytest.approx(gain * math.sqrt(sim.input_second_moment), rel=0.1)
    # Powers of two are exact in binary floating point, so the ratios are exact, not approximate.
    assert np.all(act[1:] / act[:-1] == gain)
    assert np.all(grad[:-1] / grad[1:] == gain)
    assert np.all(wgrad == wgrad[0])
    # The prediction is gain^100 · X, i.e. gain^99 × layer 1's output.
    assert act[-1] == gain**99 * act[0]
    assert np.all(stats.layers["saturation"] == 0)
    assert np.all(stats.layers["weight_norm"] == gain * math.sqrt(8))


def test_seed_without_bias_follows_the_theory_line_at_every_step() -> None:
    """No biases, W = 0.5I: the net stays a pure matrix product while it trains. Every update
    is ~1e-30 of its weight (dW_l = dz_l^T h_(l-1) ~ 0.5^(L-l) · 0.5^(l-1)), far below a
    rounding step of 0.5, so the gradient profile is the exact line 0.5^(L-l) at every step."""
    config = Config(**SEED, init_gain=0.5, bias=False, learning_rate=0.1)
    sim = Simulation(config)
    profile = theory.predict(config, sim.input_second_moment)
    assert profile.exact
    for step in range(30):
        grad = sim.step().layers["backprop_grad_rms"]
        if step == 0:
            assert np.all(grad[:-1] / grad[1:] == 0.5)
        np.testing.assert_allclose(grad[:-1] / grad[1:], 0.5, rtol=1e-12, err_msg=f"step {step}")
        np.testing.assert_allclose(grad / grad[-1], profile.backprop_grad_rms_relative, rtol=1e-12)
    assert not sim.diverged


def _vanishing_after(steps: int, bias: bool) -> dict[str, np.ndarray]:
    sim = Simulation(Config(**SEED, init_gain=0.5, bias=bias, learning_rate=0.01))
    sim.run(steps + 1)
    assert sim.last is not None and not sim.diverged
    return sim.last.layers


def test_biases_bend_the_vanishing_profile_into_a_v() -> None:
    """W = 0.5I after 20 updates. With biases, those near the output train (their gradient,
    dz_l itself, is not shrunk), so the forward signal stops halving half-way up and the
    activation and weight-gradient profiles bend into a V; the weights then move, and the
    backprop ratios drift off 0.5. Without biases nothing bends: the signal halves at every
    layer, dW is the same at every layer, and the backprop ratios stay 0.5."""
    plain = _vanishing_after(20, bias=False)
    act, wgrad = plain["activation_rms"], plain["weight_grad_norm"]
    grad = plain["backprop_grad_rms"]
    np.testing.assert_allclose(act[1:] / act[:-1], 0.5, rtol=1e-12)  # monotone, log-linear
    np.testing.assert_allclose(wgrad, wgrad[0], rtol=1e-12)
    np.testing.assert_allclose(grad[:-1] / grad[1:], 0.5, rtol=1e-12)

    biased = _vanishing_after(20, bias=True)
    for name in ("activation_rms", "weight_grad_norm"):
        values = biased[name]
        bottom = int(np.argmin(values))
        assert 20 < bottom < 80, f"{name}: lowest at layer {bottom + 1}, not in the middle"
        assert values[-1] > 1e10 * values[bottom], f"{name} does not climb back up"
        assert np.all(np.diff(np.log(values[bottom:])) > 0), f"{name} is not a V"
    grad = biased["backprop_grad_rms"]
    assert np.max(np.abs(grad[:-1] / grad[1:] / 0.5 - 1.0)) > 1e-9


def test_exploding_diverges_at_step_one_and_stops() -> None:
    sim = Simulation(Config(**SEED, init_gain=2.0, learning_rate=0.01))
    first = sim.step()
    assert not first.diverged and math.isfinite(first.loss)
    assert first.loss > 1e50  # the prediction is ~2^100 ≈ 1e30
    assert np.all(np.isfinite(first.layers["update_ratio"]))
    second = sim.step()
    assert second.diverged and sim.diverged
    assert "overflowed" in second.divergence_reason
    assert np.all(np.isnan(second.layers["update_ratio"]))  # no update applied
    with pytest.raises(RuntimeError):
        sim.step()
    assert sim.run(10) == 0
    assert sim.recorder is not None and len(sim.recorder) == 2


def test_vanishing_gradients_stall_learning() -> None:
    sim = Simulation(Config(**SEED, init_gain=0.5, learning_rate=0.1))
    sim.run(50)
    rec = sim.recorder
    assert not sim.diverged
    loss = rec.loss
    # The update of the first layer is ~1e-30 of its weight: nothing moves.
    assert np.all(rec.stat("update_ratio")[:, 0] < 1e-25)
    assert abs(loss[-1] - loss[0]) / loss[0] < 0.5
    assert np.all(np.isfinite(rec.stat("backprop_grad_rms")))


def test_float32_overflows_sooner() -> None:
    """2^100 ≈ 1.3e30 fits in float32 (max 3.4e38); the loss (its square) does not."""
    sim = Simulation(Config(**SEED, init_gain=2.0, dtype="float32"))
    stats = sim.step()
    assert stats.diverged
    assert "float32" in stats.divergence_reason


def test_same_seed_is_bit_identical() -> None:
    config = Config(depth=6, width=16, activation="tanh", batchnorm=True, optimizer="adam", seed=7)
    runs = []
    for _ in range(2):
        sim = Simulation(config)
        sim.run(5)
        runs.append(sim.recorder.arrays())
    for name in ("loss", *STAT_NAMES):
        np.testing.assert_array_equal(runs[0][name], runs[1][name])
    other = Simulation(config.replace(seed=8))
    other.run(5)
    assert not np.array_equal(other.recorder.arrays()["loss"], runs[0]["loss"])


def test_no_numpy_warning_leaks() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for gain in (2.0, 0.5, 50.0):
            Simulation(Config(**SEED, init_gain=gain)).run(3)
        Simulation(
            Config(
                depth=30,
                width=16,
                activation="sigmoid",
                init="normal",
                init_gain=40,
                batchnorm=True,
                dtype="float32",
            )
        ).run(3)


def test_update_ratio_matches_sgd_formula() -> None:
    config = Config(depth=5, width=10, activation="tanh", learning_rate=0.05)
    stats = Simulation(config).step()
    expected = 0.05 * stats.layers["weight_grad_norm"] / stats.layers["weight_norm"]
    np.testing.assert_allclose(stats.layers["update_ratio"], expected, rtol=1e-12)


def test_gradient_clipping_bounds_the_update() -> None:
    config = Config(depth=5, width=10, activation="tanh", learning_rate=1.0, grad_clip=1e-3)
    sim = Simulation(config)
    before = sim.network.params.copy()
    sim.step()
    assert safe_norm(before - sim.network.params) == pytest.approx(1e-3, rel=1e-9)


def test_live_settings_apply_without_restart() -> None:
    sim = Simulation(Config(depth=4, width=8))
    sim.step()
    sim.set_live(learning_rate=0.5, grad_clip=2.0)
    assert sim.config.learning_rate == 0.5 and sim.step_count == 1
    with pytest.raises(ValueError, match="depth"):
        sim.set_live(depth=3)


def test_saturation_counts_dead_relu_and_saturated_sigmoid() -> None:
    dead = Simulation(Config(depth=3, width=32, activation="relu", bias_init=-100.0)).step()
    assert dead.layers["saturation"][0] == 1.0 and dead.layers["saturation"][-1] == 0.0
    sat = Simulation(Config(depth=3, width=64, activation="sigmoid", init="normal", init_gain=50))
    assert sat.step().layers["saturation"][1] > 0.8


def test_classification_records_accuracy() -> None:
    sim = Simulation(
        Config(
            depth=4,
            width=32,
            dataset="spirals",
            loss="cross_entropy",
            output_dim=3,
            input_dim=2,
            activation="relu",
            init="he_normal",
            learning_rate=0.1,
        )
    )
    sim.run(30)
    acc = sim.recorder.accuracy
    assert np.all((acc >= 0) & (acc <= 1))
    assert sim.recorder.loss[-1] < sim.recorder.loss[0]


def test_segment_norm_survives_overflow_and_underflow() -> None:
    values = np.array([3e200, 4e200, 3e-200, 4e-200, 0.0, 0.0, np.inf, 1.0, np.nan, 1.0])
    norms = segment_norm(values, np.array([0, 2, 4, 6, 8]))
    assert norms[0] == pytest.approx(5e200) and norms[1] == pytest.approx(5e-200)
    assert norms[2] == 0.0 and norms[3] == np.inf and np.isnan(norms[4])


def test_fused_sgd_update_is_bit_identical_to_the_plain_optimizer() -> None:
    config = Config(depth=6, width=12, activation="tanh", learning_rate=0.1, seed=3)
    fused, plain = Simulation(config), Simulation(config)
    plain.network.gradients_are_bounded = lambda x, stats: False  # forces the separate update
    fused.run(4)
    plain.run(4)
    np.testing.assert_array_equal(fused.network.params, plain.network.params)
    for name in ("loss", *STAT_NAMES):
        np.testing.assert_array_equal(fused.recorder.arrays()[name], plain.recorder.arrays()[name])


def test_gradient_bound_refuses_overflowing_signals() -> None:
    sim = Simulation(Config(depth=3, width=4, input_dim=4, activation="linear"))
    sim.step()
    net = sim.network
    x = sim.data.inputs[: sim.config.batch_size]
    stats = net.activation_stats()
    assert net.gradients_are_bounded(x, stats)
    stats["backprop_grad_rms"] = np.full(3, 1e306)  # finite, but its products are not
    assert not net.gradients_are_bounded(x, stats)


def test_update_ratio_is_never_inf_on_a_run_that_did_not_diverge() -> None:
    """Weights of 5e-324 (or 0) make ||dW|| / ||W|| beyond float range: undefined (NaN), not
    the inf that means an overflow, since the run did not overflow."""
    from gradsim.engine.simulation import Simulation

    for gain in (5e-324, 0.0):
        sim = Simulation(Config(depth=1, init="uniform", init_gain=gain, bias=False), record=True)
        sim.run(3)
        assert sim.recorder is not None and sim.recorder.diverged_at is None
        ratio = sim.recorder.stat("update_ratio")
        assert not np.isinf(ratio).any(), ratio
        assert np.isnan(ratio[0, 0]) and np.isfinite(ratio[1:]).all()
