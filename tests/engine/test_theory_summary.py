"""The theory readout: its numbers come from the engine's theory, its verdicts and text say
what the lessons (presets) teach, and the map point is the config's (σ_w, σ_b)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gradsim.engine import theory
from gradsim.engine.config import Config
from gradsim.engine.presets import get_preset
from gradsim.engine.theory_summary import (
    format_ratio,
    last_layer_ratio,
    map_point,
    predict_cached,
    summarize,
)


def summary_of(config: Config):
    profile = theory.predict(config)
    return summarize(config, profile), profile


@pytest.mark.parametrize(
    ("preset", "verdict"),
    [
        ("seed-exploding", "exploding"),
        ("seed-vanishing", "vanishing"),
        ("relu-he", "stable"),
        ("relu-xavier", "vanishing"),
        ("tanh-xavier", "stable"),  # "shrinks only a few-fold across all 30 layers"
        ("sigmoid-naive", "vanishing"),
    ],
)
def test_preset_verdicts_and_compounded_factor(preset, verdict):
    config = get_preset(preset).config
    s, profile = summary_of(config)
    assert s.available and s.verdict == verdict and s.text.endswith(f": {verdict}")
    assert s.compounded == theory.compounded_factor(profile)
    assert s.log10_compounded == pytest.approx(math.log10(s.compounded), abs=1e-9)
    assert s.depth == config.depth and f"layer {config.depth}" in s.text


def test_identity_factor_is_the_exact_gain():
    for preset, gain in (("seed-exploding", 2.0), ("seed-vanishing", 0.5)):
        s, profile = summary_of(get_preset(preset).config)
        assert s.exact and s.symbol == "c" and s.factor_range is None
        assert s.factor == pytest.approx(gain, rel=1e-12)
        assert profile.grad_factor[:-1] == pytest.approx(np.full(99, gain), rel=1e-12)
        assert f"by exactly {gain:g} (W = {gain:g}·I)" in s.text


@pytest.mark.parametrize(("init", "factor"), [("he_normal", 1.0), ("xavier_normal", 0.5**0.5)])
def test_relu_factor_is_sqrt_chi_of_the_hidden_layers(init, factor):
    config = Config(depth=30, activation="relu", init=init)  # 16 -> 64 x 29 -> 4
    s, profile = summary_of(config)
    assert s.symbol == "√χ" and not s.exact and s.factor_range is None
    assert s.factor == pytest.approx(factor, rel=1e-12)
    assert profile.grad_factor[:-2] == pytest.approx(np.full(28, factor), rel=1e-12)
    # The 4-unit last layer: compounded = factor^28 x its own, smaller factor.
    ratio = last_layer_ratio(config)
    assert profile.grad_factor[-2] == pytest.approx(factor * ratio, rel=1e-12)
    assert s.depth_compounded == pytest.approx(factor**29, rel=1e-9)
    assert s.compounded == pytest.approx(factor**29 * ratio, rel=1e-9)


def test_relu_he_compounds_to_the_width_ratio_and_says_why():
    config = get_preset("relu-he").config  # width 64, 4 outputs
    s, _ = summary_of(config)
    assert s.compounded == pytest.approx(math.sqrt(4 / 64), rel=1e-12)
    assert "4-unit last layer" in s.text and "64 → 4" in s.note
    square = config.replace(input_dim=64, output_dim=64)
    s_square, _ = summary_of(square)
    assert s_square.compounded == pytest.approx(1.0, rel=1e-12)
    assert "last layer" not in s_square.text and "last layer" not in s_square.note


def test_converging_tanh_reports_mean_and_range():
    config = get_preset("tanh-xavier").config
    s, profile = summary_of(config)
    hidden = profile.grad_factor[:-1].copy()
    hidden[-1] /= last_layer_ratio(config)
    assert s.factor_range == pytest.approx((hidden.min(), hidden.max()), rel=1e-12)
    assert s.factor == pytest.approx(math.exp(np.mean(np.log(hidden))), rel=1e-12)
    assert s.factor_range[0] < s.factor < s.factor_range[1] < 1.0
    assert "by layer" in s.text and "Layer 1 (16 → 64 units)" in s.note


@pytest.mark.parametrize(
    ("preset", "exponent"),
    [("seed-exploding", "10²⁹"), ("seed-vanishing", "10⁻³⁰"), ("relu-xavier", "10⁻⁵")],
)
def test_text_shows_the_exponent(preset, exponent):
    s, _ = summary_of(get_preset(preset).config)
    assert f"× {exponent} × its size at layer" in s.text
    assert math.floor(s.log10_compounded) == int(exponent[2:].translate(_FROM_SUPER))


_FROM_SUPER = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")


@pytest.mark.parametrize(("gain", "sign"), [(2.0, 1), (0.5, -1)])
def test_beyond_float64_is_still_counted_in_decades(gain, sign):
    config = Config(depth=2000, width=16, input_dim=16, output_dim=16)
    config = config.replace(activation="linear", init="identity", init_gain=gain)
    s, profile = summary_of(config)
    assert theory.compounded_factor(profile) in (0.0, math.inf)  # float64 gave up
    decades = 1999 * math.log10(gain)
    assert s.log10_compounded == pytest.approx(decades, rel=1e-12)
    assert format_ratio(decades) in s.text and "beyond float64's range" in s.text
    assert s.verdict == ("exploding" if sign > 0 else "vanishing")


def test_float32_range_is_smaller():
    config = get_preset("seed-exploding").config.replace(dtype="float32", depth=200)
    assert "beyond float32's range" in summary_of(config)[0].text
    assert "beyond" not in summary_of(get_preset("seed-exploding").config)[0].text


def test_zero_weights_mean_no_gradient():
    s, _ = summary_of(Config(init_gain=0.0))
    assert s.verdict == "vanishing" and s.factor == 0.0
    assert "no gradient reaches layer 1" in s.text


def test_single_layer_has_nothing_to_compound():
    s, _ = summary_of(Config(depth=1))
    assert s.available and s.verdict == "stable" and math.isnan(s.factor)
    assert "single layer" in s.text


@pytest.mark.parametrize(
    ("changes", "short"),
    [
        ({"batchnorm": True}, "no theory for BatchNorm"),
        ({"residual": True, "input_dim": 64}, "no theory for residual connections"),
        ({"init": "identity", "activation": "tanh"}, "no theory for identity init with tanh"),
    ],
)
def test_unavailable_theory_says_why(changes, short):
    config = Config(**changes)
    s, profile = summary_of(config)
    assert not s.available and s.verdict == "unknown"
    assert s.text.startswith("theory not available: ") and short in s.text
    assert "(" not in s.text  # the long explanation goes to the tooltip
    assert profile.reason in s.note
    assert math.isnan(s.factor) and math.isnan(s.compounded)
    assert theory.limitation(config) == profile.reason


def test_limitation_agrees_with_predict():
    identity = Config(init="identity")
    for config in (
        Config(),
        Config(depth=1, batchnorm=True),
        identity.replace(activation="linear"),
    ):
        assert theory.limitation(config) is None and theory.predict(config).available
    for config in (identity, identity.replace(depth=1), identity.replace(batchnorm=True)):
        assert (theory.limitation(config) is None) == theory.predict(config).available


@pytest.mark.parametrize(
    ("changes", "point"),
    [
        ({"init": "he_normal", "init_gain": 1.5}, (1.5 * math.sqrt(2), 0.0)),
        ({"init": "xavier_normal", "bias_init": -0.3}, (1.0, 0.3)),  # square hidden layers
        ({"init": "identity", "init_gain": 2.0}, (2.0, 0.0)),
        ({"init": "orthogonal", "init_gain": 0.8, "bias_init": 0.5}, (0.8, 0.5)),
        ({"init": "normal", "width": 32}, (math.sqrt(32), 0.0)),
        ({"init": "orthogonal", "init_gain": 0.8, "bias_init": 0.5, "bias": False}, (0.8, 0.0)),
    ],
)
def test_map_point(changes, point):
    config = Config(activation="linear", **changes)
    assert map_point(config) == pytest.approx(point, rel=1e-12)
    sigma_w2 = theory.sigma_w2(config, config.width, config.width)
    assert map_point(config)[0] ** 2 == pytest.approx(sigma_w2, rel=1e-12)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.25, "0.25"),
        (0.0774, "0.077"),
        (107.0, "110"),
        (1.0, "1"),
        (1.48e-5, "1.5 × 10⁻⁵"),
        (1e-30, "10⁻³⁰"),
        (9.96e29, "10³⁰"),  # the mantissa rounds up to 10
        (6.34e29, "6.3 × 10²⁹"),
    ],
)
def test_format_ratio(value, text):
    assert format_ratio(math.log10(value)) == text


def test_format_ratio_specials():
    assert format_ratio(-math.inf) == "0"
    assert format_ratio(math.inf) == "∞"
    assert format_ratio(math.nan) == "?"
    assert format_ratio(345.2) == "1.6 × 10³⁴⁵"


@pytest.mark.parametrize(
    ("init", "ratio"),
    [
        ("he_normal", math.sqrt(4 / 64)),
        ("xavier_normal", math.sqrt(2 * 4 / (64 + 4))),
        ("orthogonal", math.sqrt(4 / 64)),
        ("identity", math.sqrt(4 / 64)),  # only 4 of 64 units receive a gradient
    ],
)
def test_last_layer_ratio_is_the_last_factor_over_a_hidden_one(init, ratio):
    config = Config(activation="linear", init=init, init_gain=1.3)  # 16 -> 64 ... -> 4
    assert last_layer_ratio(config) == pytest.approx(ratio, rel=1e-12)
    factors = theory.predict(config).grad_factor
    assert factors[-2] / factors[-3] == pytest.approx(ratio, rel=1e-12)


def test_predict_cached_ignores_training_settings():
    config = get_preset("tanh-xavier").config
    first = predict_cached(config)
    assert predict_cached(config.replace(learning_rate=0.5, seed=3, optimizer="adam")) is first
    assert predict_cached(config.replace(init_gain=1.1)) is not first
    biased = config.replace(bias_init=0.5)
    assert predict_cached(biased.replace(bias=False)) is not predict_cached(biased)
    assert predict_cached(config, 4.0) is not first
    np.testing.assert_array_equal(first.grad_factor, theory.predict(config).grad_factor)
