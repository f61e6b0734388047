"""Mean-field theory: quadrature accuracy, textbook results, extremes, and agreement with
the engine's measurements on wide nets at initialisation."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from gradsim.engine import theory
from gradsim.engine.activations import evaluate
from gradsim.engine.config import ACTIVATIONS, INITS, Config

SQUARE = {"input_dim": 64, "width": 64, "output_dim": 64}


def moment(activation: str, mean: float, var: float, slope: float = 0.01, deriv: bool = False):
    """E[phi(z)^2] (or E[phi'(z)^2]) through the public gaussian_expectation."""
    return theory.gaussian_expectation(
        lambda z: evaluate(activation, z, slope)[int(deriv)] ** 2, mean, var
    )


def brute_force(activation: str, mean: float, var: float, deriv: bool) -> float:
    """Trapezoid rule on 1 million points per side of z = 0, over +-12 standard deviations.

    Each side is evaluated with its own one-sided limit at 0, where selu' jumps.
    """
    std = math.sqrt(var)
    total = 0.0
    for lo, hi, nudge in ((mean - 12 * std, 0.0, -1e-300), (0.0, mean + 12 * std, 1e-300)):
        if lo >= hi:
            continue
        z = np.linspace(lo, hi, 1_000_001)
        f = evaluate(activation, np.where(z == 0.0, nudge, z), 0.01)[int(deriv)] ** 2
        g = f * np.exp(-0.5 * ((z - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))
        total += float((g.sum() - 0.5 * (g[0] + g[-1])) * (z[1] - z[0]))
    return total


# --- Gaussian expectations -------------------------------------------------------------------


@pytest.mark.parametrize("mean", [0.0, 1.5, -3.0])
@pytest.mark.parametrize("var", [1e-6, 0.3, 1.0, 250.0])
def test_second_moment_of_z(mean, var):
    got = theory.gaussian_expectation(lambda z: z * z, mean, var)
    assert got == pytest.approx(mean * mean + var, rel=1e-12)


@pytest.mark.parametrize("q", [1e-300, 1e-12, 0.5, 1.0, 3.0, 1e12, 1e300])
def test_relu_moments_exact_at_every_scale(q):
    assert moment("relu", 0.0, q) == pytest.approx(q / 2, rel=1e-10)
    assert moment("relu", 0.0, q, deriv=True) == pytest.approx(0.5, rel=1e-10)


@pytest.mark.parametrize("slope", [0.01, 0.2, 0.7])
def test_leaky_relu_moments(slope):
    q = 2.5
    assert moment("leaky_relu", 0.0, q, slope) == pytest.approx((1 + slope**2) / 2 * q, rel=1e-10)
    got = moment("leaky_relu", 0.0, q, slope, deriv=True)
    assert got == pytest.approx((1 + slope**2) / 2, rel=1e-10)


def test_relu_with_offset_matches_closed_form():
    mean, std = 0.7, 1.3
    a = mean / std
    cdf = 0.5 * math.erfc(-a / math.sqrt(2))
    pdf = math.exp(-a * a / 2) / math.sqrt(2 * math.pi)
    exact = (mean * mean + std * std) * cdf + mean * std * pdf
    assert moment("relu", mean, std * std) == pytest.approx(exact, rel=1e-12)
    assert moment("relu", mean, std * std, deriv=True) == pytest.approx(cdf, rel=1e-12)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "elu", "selu", "gelu"])
@pytest.mark.parametrize(("mean", "var"), [(0.0, 1.0), (0.7, 0.3), (-1.5, 5.0), (0.2, 40.0)])
@pytest.mark.parametrize("deriv", [False, True])
def test_smooth_and_kinked_activations_match_brute_force(activation, mean, var, deriv):
    expected = brute_force(activation, mean, var, deriv)
    assert moment(activation, mean, var, deriv=deriv) == pytest.approx(expected, rel=1e-8)


def test_tanh_matches_monte_carlo():
    rng = np.random.default_rng(1234)
    z = rng.normal(0.4, 1.7, 2_000_000)
    samples = np.tanh(z) ** 2
    standard_error = samples.std() / math.sqrt(samples.size)
    assert abs(moment("tanh", 0.4, 1.7**2) - samples.mean()) < 4 * standard_error


def test_zero_variance_is_deterministic_and_negative_variance_is_rejected():
    assert moment("tanh", 0.8, 0.0) == pytest.approx(math.tanh(0.8) ** 2, rel=1e-15)
    assert moment("relu", 0.0, 0.0, deriv=True) == 0.0  # the engine's relu'(0)
    with pytest.raises(ValueError, match="variance"):
        theory.gaussian_expectation(np.square, 0.0, -1.0)


def test_vectorised_expectation_matches_scalar():
    var = np.array([0.1, 1.0, 10.0])
    got = theory.gaussian_expectation(np.tanh, 0.3, var)
    assert got.shape == (3,)
    for v, g in zip(var, got, strict=True):
        assert g == pytest.approx(theory.gaussian_expectation(np.tanh, 0.3, float(v)), rel=1e-14)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_extreme_variances_and_means_stay_finite_without_warnings(activation):
    for mean in (0.0, 1.0, 1e6, -1e6):
        for var in (0.0, 1e-300, 1e-30, 1e30, 1e300):
            value = moment(activation, mean, var)
            slope2 = moment(activation, mean, var, deriv=True)
            assert math.isfinite(value) and value >= 0.0
            assert math.isfinite(slope2) and slope2 >= 0.0
            if activation in ("sigmoid", "tanh"):
                assert value <= 1.0 + 1e-12


def test_huge_variance_limits():
    std = 1e150
    # E[tanh'(z)^2] ~ pdf(0) * (4/3) / std: the steep step must be resolved, not skipped.
    got = moment("tanh", 0.0, std * std, deriv=True) * std
    assert got == pytest.approx(4 / 3 / math.sqrt(2 * math.pi), rel=1e-9)
    assert moment("tanh", 0.0, std * std) == pytest.approx(1.0, rel=1e-12)
    assert moment("sigmoid", 0.0, math.inf) == 0.5
    assert moment("relu", 0.0, math.inf, deriv=True) == 0.5


# --- Fixed points and chi --------------------------------------------------------------------


def test_tanh_edge_of_chaos():
    assert theory.fixed_point_q("tanh", 1.0, 0.0) == 0.0
    assert theory.chi("tanh", 1.0, None) == pytest.approx(1.0, abs=1e-12)
    assert theory.chi("tanh", 0.5, None) == pytest.approx(0.5, abs=1e-12)  # ordered: q* = 0
    assert theory.chi("tanh", 2.0, None) > 1.05  # chaotic


def test_fixed_point_is_a_fixed_point():
    for activation, sw2, sb2 in [("tanh", 2.0, 0.05), ("sigmoid", 1.0, 0.0), ("elu", 1.5, 0.1)]:
        q = theory.fixed_point_q(activation, sw2, sb2)
        assert 0.0 < q < math.inf
        image = sw2 * moment(activation, 0.0, q) + sb2
        assert image == pytest.approx(q, rel=1e-9)


def test_relu_fixed_points():
    # q* = sigma_b^2 / (1 - sigma_w^2 / 2) below criticality; unbounded above it.
    assert theory.fixed_point_q("relu", 1.0, 0.25) == pytest.approx(0.5, rel=1e-9)
    assert theory.fixed_point_q("relu", 1.0, 0.0) == 0.0
    assert theory.fixed_point_q("relu", 2.0, 0.0) == 1.0  # every q is fixed: stays at q0
    assert theory.fixed_point_q("relu", 3.0, 0.1) == math.inf
    assert theory.chi("relu", 3.0, None, 0.1) == pytest.approx(1.5, rel=1e-12)
    assert theory.chi("relu", 1.0, 0.0) == pytest.approx(0.5, rel=1e-12)  # q -> 0+ limit


def test_chi_map_matches_scalar_chi():
    sigma_w = np.linspace(0.1, 3.0, 12)
    sigma_b = np.linspace(0.0, 1.5, 7)
    for activation in ("tanh", "sigmoid", "relu", "elu", "gelu", "selu"):
        grid = theory.chi_map(activation, sigma_w, sigma_b)
        assert grid.shape == (7, 12)
        for i in (0, 3, 6):
            for j in (0, 4, 11):
                scalar = theory.chi(activation, sigma_w[j] ** 2, None, sigma_b[i] ** 2)
                assert grid[i, j] == pytest.approx(scalar, rel=1e-3), (activation, i, j)


def test_chi_map_tanh_edge_at_sigma_w_one_and_relu_flat():
    sigma_w = np.array([0.5, 0.9, 1.1, 2.0])
    tanh = theory.chi_map("tanh", sigma_w, np.array([0.0]))[0]
    assert tanh[:2] == pytest.approx(sigma_w[:2] ** 2, rel=1e-9)
    assert np.all(tanh[2:] > 1.0)
    relu = theory.chi_map("relu", sigma_w, np.array([0.0, 0.5]))
    assert relu == pytest.approx(np.vstack([sigma_w**2 / 2] * 2), rel=1e-9)


def test_chi_map_covers_a_full_grid():
    sigma_w, sigma_b = np.linspace(0.05, 4.0, 100), np.linspace(0.0, 2.0, 100)
    grid = theory.chi_map("gelu", sigma_w, sigma_b)
    assert grid.shape == (100, 100) and np.all(np.isfinite(grid)) and np.all(grid >= 0)


# --- Profiles --------------------------------------------------------------------------------


def test_sigma_w2_per_init():
    cfg = Config(init_gain=1.5)
    g2 = 2.25
    expected = {
        "normal": 10 * g2,
        "uniform": 10 * g2 / 3,
        "xavier_normal": 2 * 10 * g2 / 30,
        "xavier_uniform": 2 * 10 * g2 / 30,
        "he_normal": 2 * g2,
        "he_uniform": 2 * g2,
        "lecun_normal": g2,
        "orthogonal": 10 * g2 / 20,
        "identity": g2 * 10 / 20,
    }
    assert set(expected) == set(INITS)
    for init, value in expected.items():
        assert theory.sigma_w2(cfg.replace(init=init), 10, 20) == pytest.approx(value, rel=1e-15)


def test_relu_he_keeps_variance_and_gradient_constant():
    cfg = Config(depth=12, activation="relu", init="he_normal", **SQUARE)
    p = theory.predict(cfg, input_second_moment=0.5)
    assert p.available and not p.exact
    assert p.preactivation_rms == pytest.approx(np.full(12, 1.0), rel=1e-12)
    assert p.activation_rms[:-1] == pytest.approx(np.full(11, math.sqrt(0.5)), rel=1e-12)
    assert p.grad_factor[:-1] == pytest.approx(np.ones(11), rel=1e-12)
    assert math.isnan(p.grad_factor[-1])
    assert theory.compounded_factor(p) == pytest.approx(1.0, rel=1e-12)


def test_relu_xavier_halves_the_variance_per_layer():
    cfg = Config(depth=10, activation="relu", init="xavier_normal", **SQUARE)
    p = theory.predict(cfg)
    ms = p.preactivation_rms**2
    assert ms[1:] / ms[:-1] == pytest.approx(np.full(9, 0.5), rel=1e-12)
    assert p.grad_factor[:-1] == pytest.approx(np.full(9, math.sqrt(0.5)), rel=1e-12)
    assert theory.compounded_factor(p) == pytest.approx(0.5**4.5, rel=1e-12)


def test_last_layer_gradient_factor_uses_fan_out_of_the_next_layer():
    # W_L^T delta_L sums over output_dim terms: g_{L-1}^2 = E[phi'^2] * n_L * Var(W_L).
    cfg = Config(
        depth=4, width=100, input_dim=10, output_dim=4, activation="relu", init="he_normal"
    )
    p = theory.predict(cfg)
    assert p.grad_factor[-2] == pytest.approx(math.sqrt(0.5 * 4 * 2 / 100), rel=1e-12)
    assert p.grad_factor[0] == pytest.approx(1.0, rel=1e-12)
    assert p.preactivation_rms[0] == pytest.approx(math.sqrt(2.0), rel=1e-12)


def test_bias_enters_as_a_mean():
    cfg = Config(depth=3, activation="tanh", init="normal", init_gain=0.0, bias_init=0.5)
    p = theory.predict(cfg)  # zero weights: every pre-activation is exactly the bias
    assert p.preactivation_rms == pytest.approx([0.5, 0.5, 0.5], rel=1e-15)
    assert p.activation_rms[:2] == pytest.approx([math.tanh(0.5)] * 2, rel=1e-15)
    assert p.backprop_grad_rms_relative[:2] == pytest.approx([0.0, 0.0])


@pytest.mark.parametrize(
    "changes",
    [
        {"activation": "tanh", "init": "xavier_normal"},
        {"activation": "relu", "init": "he_normal"},
        {"activation": "linear", "init": "identity", "init_gain": 1.5},
    ],
)
def test_no_bias_is_a_zero_bias(changes):
    """With bias = false, bias_init is ignored: the theory sees sigma_b = 0."""
    cfg = Config(depth=6, bias=False, bias_init=0.7, **changes, **SQUARE)
    assert theory.bias_value(cfg) == 0.0
    assert theory.bias_value(cfg.replace(bias=True)) == 0.7
    got, zero = theory.predict(cfg, 2.0), theory.predict(cfg.replace(bias=True, bias_init=0.0), 2.0)
    assert (got.available, got.exact, got.reason) == (zero.available, zero.exact, zero.reason)
    for name in ("preactivation_rms", "activation_rms", "backprop_grad_rms_relative"):
        np.testing.assert_array_equal(getattr(got, name), getattr(zero, name))
    np.testing.assert_array_equal(got.grad_factor, zero.grad_factor)
    biased = theory.predict(cfg.replace(bias=True), 2.0)
    assert not np.array_equal(biased.preactivation_rms, got.preactivation_rms)


@pytest.mark.parametrize("gain", [0.9, 1.0, 1.1])
def test_identity_linear_is_exact(gain):
    depth = 15
    cfg = Config(depth=depth, activation="linear", init="identity", init_gain=gain, **SQUARE)
    p = theory.predict(cfg, input_second_moment=4.0)
    layers = np.arange(1, depth + 1)
    assert p.available and p.exact
    assert p.preactivation_rms == pytest.approx(2.0 * gain**layers, rel=1e-12)
    assert p.activation_rms == pytest.approx(2.0 * gain**layers, rel=1e-12)
    assert p.backprop_grad_rms_relative == pytest.approx(gain ** (depth - layers), rel=1e-12)
    assert p.grad_factor[:-1] == pytest.approx(np.full(depth - 1, gain), rel=1e-12)


def test_identity_linear_with_bias_accumulates_the_bias():
    g, b = 1.5, 0.3
    cfg = Config(depth=3, activation="linear", init="identity", init_gain=g, bias_init=b, **SQUARE)
    ms = theory.predict(cfg, input_second_moment=2.0).preactivation_rms ** 2
    means = [b, b * (1 + g), b * (1 + g + g * g)]
    expected = [2.0 * g ** (2 * k) + m * m for k, m in zip((1, 2, 3), means, strict=True)]
    assert ms == pytest.approx(expected, rel=1e-12)


def test_identity_linear_non_square_counts_the_copied_units():
    # 16 -> 64 -> ... -> 4: only 16 of 64 hidden units carry the input, and only 4 of 64
    # receive a gradient from the 4 outputs.
    cfg = Config(depth=4, activation="linear", init="identity", init_gain=2.0)
    p = theory.predict(cfg)
    assert p.preactivation_rms == pytest.approx([2 * 0.5, 4 * 0.5, 8 * 0.5, 16.0], rel=1e-12)
    assert p.backprop_grad_rms_relative == pytest.approx([2.0, 1.0, 0.5, 1.0], rel=1e-12)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"batchnorm": True}, "BatchNorm"),
        ({"residual": True}, "residual"),
        ({"init": "identity", "activation": "tanh"}, "random weights"),
    ],
)
def test_unavailable_profiles_say_why(changes, words):
    p = theory.predict(Config(depth=5, **changes))
    assert not p.available and not p.exact
    assert words in p.reason
    for values in (p.preactivation_rms, p.activation_rms, p.backprop_grad_rms_relative):
        assert values.shape == (5,) and np.all(np.isnan(values))
    assert math.isnan(theory.compounded_factor(p))


def test_batchnorm_and_residual_that_the_engine_does_not_apply_are_ignored():
    # BatchNorm acts on hidden layers only; a skip needs equal shapes (input_dim != width).
    assert theory.predict(Config(depth=1, batchnorm=True)).available
    assert theory.predict(Config(depth=2, residual=True, input_dim=16, width=64)).available
    assert not theory.predict(Config(depth=2, residual=True, input_dim=64, width=64)).available


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_exploding_and_deep_profiles_overflow_cleanly(activation):
    for cfg in (
        Config(depth=300, width=4096, activation=activation, init="normal", init_gain=10.0),
        Config(depth=300, activation=activation, init="he_normal", init_gain=1e-3),
        Config(depth=1, activation=activation, init="orthogonal", bias_init=-1e6),
    ):
        p = theory.predict(cfg)
        for values in (p.preactivation_rms, p.activation_rms, p.backprop_grad_rms_relative):
            assert values.shape == (cfg.depth,) and not np.any(np.isnan(values))
        assert not np.any(np.isnan(p.grad_factor[:-1]))


# --- Against the engine (skipped until gradsim.engine.simulation exists) ---------------------


def measure(config: Config, seeds: int) -> tuple[dict[str, np.ndarray], float]:
    """Layer statistics of the first step for several seeds, stacked: (seeds, L)."""
    simulation = pytest.importorskip("gradsim.engine.simulation")
    runs, second_moment = [], 1.0
    for seed in range(seeds):
        sim = simulation.Simulation(config.replace(seed=seed))
        second_moment = float(sim.input_second_moment)
        runs.append(sim.step().layers)
    return {name: np.array([r[name] for r in runs]) for name in runs[0]}, second_moment


WIDE = {"depth": 30, "width": 1024, "batch_size": 128, "learning_rate": 0.0}
# The output layer has only output_dim = 4 units: its mean square is a chi-square with ~4
# degrees of freedom (relative spread ~70%), so per-layer forward checks stop before it.


@pytest.mark.slow
def test_engine_relu_he_preactivations_follow_theory():
    pytest.importorskip("gradsim.engine.simulation")
    cfg = Config(activation="relu", init="he_normal", **WIDE)
    seeds = 3
    stats, m0 = measure(cfg, seeds)
    predicted = theory.predict(cfg, m0).preactivation_rms[:-1]
    ms = stats["preactivation_rms"][:, :-1] ** 2
    measured = np.sqrt(np.mean(ms, axis=0))  # E[ms] is what the theory predicts (unbiased)
    assert measured[0] / predicted[0] == pytest.approx(1.0, abs=0.05)
    # Finite width: log(ms) random-walks with variance ~5/width per layer (Hanin 2018), so the
    # allowed deviation grows like sqrt(layer); a wrong sigma_w^2 compounds linearly instead.
    layers = np.arange(1, cfg.depth)
    allowed = 0.05 + 1.5 * np.sqrt(5 * layers / (cfg.width * seeds))
    assert np.all(np.abs(np.log(measured / predicted)) < allowed)
    growth = np.mean(ms[:, 2:] / ms[:, 1:-1])  # hidden-to-hidden; theory: exactly 1
    assert growth == pytest.approx(1.0, abs=0.025)  # per-layer spread ~6%, 81 samples


@pytest.mark.slow
def test_engine_relu_xavier_halves():
    pytest.importorskip("gradsim.engine.simulation")
    cfg = Config(activation="relu", init="xavier_normal", **WIDE)
    stats, m0 = measure(cfg, seeds=1)
    p = theory.predict(cfg, m0)
    ms = stats["preactivation_rms"][:, :-1] ** 2
    assert np.mean(ms[:, 2:] / ms[:, 1:-1]) == pytest.approx(0.5, abs=0.02)
    grad = stats["backprop_grad_rms"]
    ratio = (grad[:, :-1] / grad[:, 1:]) / p.grad_factor[:-1]
    assert np.mean(ratio) == pytest.approx(1.0, abs=0.01)  # per-layer spread ~1.5%


@pytest.mark.slow
@pytest.mark.parametrize("gain", [1.0, 1.3])
def test_engine_tanh_gradient_factor_matches_sqrt_chi(gain):
    pytest.importorskip("gradsim.engine.simulation")
    cfg = Config(activation="tanh", init="xavier_normal", init_gain=gain, **WIDE)
    stats, m0 = measure(cfg, seeds=2)
    p = theory.predict(cfg, m0)
    grad = stats["backprop_grad_rms"]
    ratio = (grad[:, :-1] / grad[:, 1:]) / p.grad_factor[:-1]  # g_l for l = 1 .. L-1
    # Per-layer spread ~1.3%, 58 samples. At gain 1 the predicted g is ~0.98, not 1.
    assert np.mean(ratio) == pytest.approx(1.0, abs=0.01)
    pre = stats["preactivation_rms"][:, :-1] / p.preactivation_rms[:-1]
    assert np.all(np.abs(pre - 1) < 0.1)
    # Overlay as the GUI does: anchor at the measured last layer. Errors random-walk.
    overlay = p.backprop_grad_rms_relative * grad[:, -1:]
    assert np.all(np.abs(np.log(overlay / grad)) < 0.3)


def test_theory_imports_numpy_only():
    code = (
        "import sys, gradsim.engine.theory\n"
        "print(','.join(m for m in sys.modules if m.split('.')[0] in "
        "('scipy', 'PySide6', 'pyqtgraph')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
