"""Property-based tests: any valid small config trains without raising, and its statistics are
finite unless the step is flagged diverged."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradsim.engine.config import (
    ACTIVATIONS,
    DATASETS,
    DTYPES,
    INITS,
    LOSSES,
    OPTIMIZERS,
    Config,
)
from gradsim.engine.simulation import Simulation
from gradsim.engine.stats import STAT_NAMES


@st.composite
def small_configs(draw: st.DrawFn) -> Config:
    dataset = draw(st.sampled_from(DATASETS))
    loss = draw(st.sampled_from(LOSSES))
    classes = dataset != "teacher" or loss == "cross_entropy"
    return Config(
        depth=draw(st.integers(1, 12)),
        width=draw(st.integers(1, 12)),
        input_dim=draw(st.integers(1, 6)),
        output_dim=draw(st.integers(2 if classes else 1, 5)),
        activation=draw(st.sampled_from(ACTIVATIONS)),
        leaky_slope=draw(st.floats(0, 1)),
        init=draw(st.sampled_from(INITS)),
        # Gains below ~1e-300 make ‖ΔW‖/‖W‖ exceed the largest float without any divergence.
        init_gain=draw(st.one_of(st.just(0.0), st.floats(1e-12, 20))),
        bias_init=draw(st.floats(-3, 3)),
        batchnorm=draw(st.booleans()),
        residual=draw(st.booleans()),
        optimizer=draw(st.sampled_from(OPTIMIZERS)),
        learning_rate=draw(st.floats(0, 10)),
        momentum=draw(st.floats(0, 0.99)),
        grad_clip=draw(st.sampled_from([0.0, 0.1, 10.0])),
        batch_size=draw(st.integers(1, 16)),
        dataset=dataset,
        loss=loss,
        dtype=draw(st.sampled_from(DTYPES)),
        seed=draw(st.integers(0, 2**32 - 1)),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=small_configs())
def test_steps_never_raise_and_stay_finite_until_divergence(config: Config) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy warning may reach the user
        sim = Simulation(config)
        for _ in range(4):
            if sim.diverged:
                break
            stats = sim.step()
            for name in STAT_NAMES:
                values = stats.layers[name]
                assert values.shape == (config.depth,)
                if name == "update_ratio":
                    # ‖ΔW‖/‖W‖ is infinite, by definition, for a weight matrix that was 0.
                    values = values[stats.layers["weight_norm"] > 0]
                if not stats.diverged:
                    assert np.all(np.isfinite(values)), (name, values)
            if not stats.diverged:
                assert np.isfinite(stats.loss)
            else:
                assert stats.divergence_reason
