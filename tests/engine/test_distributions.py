"""Per-layer histograms: exact counts (numpy.histogram agrees), every value counted, training
untouched, the cadence, a history within its memory budget, and NPZ/JSON round trips."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gradsim.engine.config import Config
from gradsim.engine.distribution_export import read_histograms, write_histograms
from gradsim.engine.distributions import (
    KIND_TITLES,
    KINDS,
    LOG_KINDS,
    VALUE_BINS,
    VALUE_KINDS,
    DistributionHistory,
    Histogram,
    Meter,
    StepDistributions,
    measure,
    value_edges,
    value_window,
)
from gradsim.engine.export import ExportError
from gradsim.engine.network import Network
from gradsim.engine.presets import get_preset
from gradsim.engine.simulation import Simulation

ACTIVATIONS = ("linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu")
F64 = np.finfo(np.float64)


def small_config(**fields) -> Config:
    base = {"depth": 5, "width": 12, "input_dim": 5, "output_dim": 3, "batch_size": 8}
    return Config(**(base | fields))


def layer_values(net: Network, kind: str, layer: int) -> np.ndarray:
    """The values a histogram of ``kind`` covers, read through the network's public views."""
    views = {"activation": net.h, "preactivation": net.pre, "backprop_grad": net.dz,
             "weight_grad": net.weight_grads}
    return np.asarray(views[kind][layer], dtype=np.float64).ravel()


def assert_matches_numpy(d: StepDistributions, net: Network) -> None:
    """Every kind and layer against numpy.histogram on the same values and edges."""
    assert set(d.histograms) == set(KINDS)
    for kind, h in d.histograms.items():
        assert h.counts.shape[0] == net.depth and h.counts.dtype == np.int64
        for layer in range(net.depth):
            v = layer_values(net, kind, layer)
            edges = h.layer_edges(layer)
            finite = np.isfinite(v)
            if kind in VALUE_KINDS:
                assert h.scale == "value"
                # numpy closes its last bin on the right; here v == edges[-1] is "above".
                inside = v[finite & (v < edges[-1])]
                expected = np.histogram(inside, bins=edges)[0]
                assert h.below[layer] == np.count_nonzero(v[finite] < edges[0])
                assert h.above[layer] == np.count_nonzero(v[finite] >= edges[-1])
            else:
                assert h.scale == "log2"
                magnitudes = np.abs(v[finite & (v != 0)])
                expected = np.histogram(magnitudes, bins=edges)[0]
                assert h.below[layer] == np.count_nonzero(v == 0)
                assert h.above[layer] == 0
            np.testing.assert_array_equal(h.counts[layer], expected, err_msg=f"{kind} {layer}")
            assert h.nonfinite[layer] == np.count_nonzero(~finite)
            assert h.totals()[layer] == v.size


def fill(net: Network, values: np.ndarray, rng: np.random.Generator) -> None:
    """Write ``values`` (cycled, shuffled) into every buffer the histograms read."""
    for views in (net.h, net.pre, net.dz, net.weight_grads):
        for view in views:
            view[...] = rng.permutation(np.resize(values, view.size)).reshape(view.shape)


def test_kinds_titles_and_scales() -> None:
    assert KINDS == ("activation", "preactivation", "backprop_grad", "weight_grad")
    assert set(VALUE_KINDS) | set(LOG_KINDS) == set(KINDS)
    assert not set(VALUE_KINDS) & set(LOG_KINDS)
    assert set(KIND_TITLES) == set(KINDS)
    assert KIND_TITLES["preactivation"] == "input of the activation (z)"


def test_value_windows() -> None:
    assert value_window("preactivation", "tanh") == (-4.0, 4.0)
    assert value_window("preactivation", "sigmoid") == (-8.0, 8.0)
    assert value_window("preactivation", "relu") == (-4.0, 4.0)
    assert value_window("activation", "tanh") == (-1.0, 1.0)
    assert value_window("activation", "sigmoid") == (0.0, 1.0)
    assert value_window("activation", "relu") == (0.0, 4.0)
    assert value_window("activation", "linear") == (-4.0, 4.0)
    assert value_window("activation", "leaky_relu", 0.1) == pytest.approx((-0.4, 4.0))
    assert value_window("activation", "elu") == pytest.approx((np.expm1(-4.0), 4.0))
    gelu_lo, gelu_hi = value_window("activation", "gelu")
    assert -0.18 < gelu_lo < -0.16 and gelu_hi == pytest.approx(4.0, abs=1e-3)
    edges = value_edges("activation", "tanh")
    assert edges.size == VALUE_BINS + 1 and edges[0] == -1 and edges[-1] == 1
    np.testing.assert_array_equal(np.diff(edges), 2 / VALUE_BINS)
    with pytest.raises(ValueError, match="not binned by value"):
        value_window("backprop_grad", "tanh")


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_counts_agree_with_numpy_histogram(activation) -> None:
    sim = Simulation(small_config(activation=activation, seed=3))
    sim.step()
    stats = sim.step(distributions=True)
    assert stats.distributions is not None and stats.distributions.step == 1
    assert_matches_numpy(stats.distributions, sim.network)
    activation_hist = stats.distributions.histograms["activation"]
    np.testing.assert_array_equal(activation_hist.edges, value_edges("activation", activation))
    # The output layer is linear: binned over the linear window whatever the activation.
    np.testing.assert_array_equal(
        activation_hist.layer_edges(-1), value_edges("activation", "linear")
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"batchnorm": True, "activation": "tanh"},
        {"residual": True, "activation": "relu", "input_dim": 12},
        {"bias": False, "dtype": "float32", "activation": "gelu"},
        {"depth": 1},
        {"depth": 2, "activation": "sigmoid"},
        {"depth": 3, "width": 300, "batch_size": 300, "activation": "elu"},  # several chunks
    ],
    ids=["batchnorm", "residual", "float32-nobias", "depth1", "depth2", "chunked"],
)
def test_counts_agree_for_other_architectures(fields) -> None:
    sim = Simulation(small_config(**fields))
    stats = sim.step(distributions=True)
    assert_matches_numpy(stats.distributions, sim.network)


# Values that break naive binning: both zeros, subnormals, the extremes, inf, nan, and values
# on, just below and just above window edges.
def special_values(dtype: str) -> np.ndarray:
    info = np.finfo(dtype)
    edges = np.concatenate([value_edges("activation", "elu"), value_edges("preactivation", "tanh")])
    near = np.concatenate([edges, np.nextafter(edges, -np.inf), np.nextafter(edges, np.inf)])
    values = [0.0, -0.0, np.inf, -np.inf, np.nan, float(info.max), -float(info.max),
              float(info.tiny), float(info.smallest_subnormal), -float(info.smallest_subnormal),
              2.0 ** (info.maxexp - 1), 1e-30, 1e30, 3.0, -0.3, 0.5, 1.0, 2.0]
    if dtype == "float64":
        values += [1e300, -1e300, 1e-320, -1e-320, 1e-310]
    with np.errstate(over="ignore"):
        return np.concatenate([np.array(values), near]).astype(dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("activation", ["tanh", "elu"])  # an exact grid, a corrected one
def test_exploding_and_vanishing_values_are_all_counted(dtype, activation) -> None:
    net = Network(small_config(dtype=dtype, activation=activation), np.random.default_rng(0))
    fill(net, special_values(dtype), np.random.default_rng(1))
    d = measure(net, activation, step=7)
    assert d.step == 7
    assert_matches_numpy(d, net)
    grads = d.histograms["backprop_grad"]
    assert grads.nonfinite.sum() > 0 and grads.below.sum() > 0
    # Octaves from the smallest subnormal to the largest float: the top edge overflows to inf.
    info = np.finfo(dtype)
    assert grads.edges[0] == info.smallest_subnormal
    assert grads.log2_edges[-1] == info.maxexp and np.isfinite(grads.log2_edges).all()
    if dtype == "float64":
        assert grads.edges[-1] == np.inf


def test_huge_finite_values_are_not_taken_for_overflow() -> None:
    """Squares of 1e200 overflow (the quick finiteness check fails) yet every value is finite."""
    net = Network(small_config(depth=3), np.random.default_rng(0))
    fill(net, np.array([1e200, -1e160, 3e250]), np.random.default_rng(0))
    d = measure(net, "tanh", 0)
    assert_matches_numpy(d, net)
    assert all(h.nonfinite.sum() == 0 for h in d.histograms.values())


@settings(max_examples=60, deadline=None)
@given(
    values=hnp.arrays(
        np.float64, 16, elements=st.floats(allow_nan=True, allow_infinity=True, width=64)
    ),
    seed=st.integers(0, 2**16),
)
def test_any_values_agree_with_numpy(values, seed) -> None:
    net = Network(small_config(depth=3, width=4, batch_size=2, input_dim=3, output_dim=2,
                               activation="gelu"), np.random.default_rng(0))
    fill(net, values, np.random.default_rng(seed))
    assert_matches_numpy(measure(net, "gelu", 0), net)


def test_edge_convention() -> None:
    """Value bins are [e_i, e_(i+1)); the window's top edge itself counts as above."""
    net = Network(small_config(depth=2, activation="tanh"), np.random.default_rng(0))
    edges = value_edges("activation", "tanh")
    hidden = net.h[0]
    hidden[...] = 0.5  # a bin in the middle, to be overwritten below
    flat = hidden.reshape(-1)
    below = np.nextafter(edges, -np.inf)
    flat[:5] = [edges[0], below[0], edges[-1], edges[3], below[3]]
    h = measure(net, "tanh", 0).histograms["activation"]
    assert h.below[0] == 1 and h.above[0] == 1
    assert h.counts[0, 0] == 1 and h.counts[0, 3] == 1 and h.counts[0, 2] == 1


def test_log_bins_span_only_the_octaves_present() -> None:
    net = Network(small_config(depth=2), np.random.default_rng(0))
    fill(net, np.array([3.0, -0.3, 0.0]), np.random.default_rng(0))
    h = measure(net, "tanh", 0).histograms["backprop_grad"]
    np.testing.assert_array_equal(h.edges, [0.25, 0.5, 1.0, 2.0, 4.0])
    np.testing.assert_array_equal(h.log2_edges, [-2, -1, 0, 1, 2])
    sizes = [net.dz[l].size for l in range(2)]
    np.testing.assert_array_equal(h.totals(), sizes)
    assert (h.counts[:, 1:3] == 0).all() and (h.counts[:, 0] > 0).all() and (h.below > 0).all()
    # Nothing but zeros (a dead net): one empty bin [1, 2), every value below.
    fill(net, np.array([0.0, -0.0]), np.random.default_rng(0))
    h = measure(net, "tanh", 0).histograms["weight_grad"]
    np.testing.assert_array_equal(h.edges, [1.0, 2.0])
    assert h.counts.sum() == 0
    np.testing.assert_array_equal(h.below, [w.size for w in net.weight_grads])


def test_quantiles() -> None:
    rng = np.random.default_rng(5)
    net = Network(small_config(depth=2, width=64, batch_size=64), rng)
    values = rng.uniform(-0.9, 0.9, net.h[0].shape)
    net.h[0][...] = values
    net.dz[0][...] = values * 1e-30
    net.dz[0][0, :10] = 0.0
    d = measure(net, "tanh", 0)
    qs = [0.0, 0.1, 0.5, 0.9, 1.0]
    width = 2 / VALUE_BINS
    np.testing.assert_allclose(
        d.histograms["activation"].quantiles(0, qs), np.quantile(values, qs), atol=width
    )
    grads = net.dz[0].ravel()
    got = d.histograms["backprop_grad"].quantiles(0, qs)
    want = np.quantile(np.abs(grads), qs)
    assert got[0] == 0.0  # the exact zeros come first
    assert np.all((got[1:] >= want[1:] / 2) & (got[1:] <= want[1:] * 2))  # within an octave
    assert np.all(np.diff(got) >= 0)
    # No finite value at all: NaN.
    net.h[0][...] = np.nan
    assert np.isnan(measure(net, "tanh", 0).histograms["activation"].quantiles(0, qs)).all()
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        d.histograms["activation"].quantiles(0, [1.5])


def test_measure_and_meter_agree_and_only_read() -> None:
    sim = Simulation(small_config(activation="selu"))
    sim.step()
    net = sim.network
    buffers = [a.copy() for a in (net.params, net.grad, net._h, net._pre, net._dz, net._z)]
    first = measure(net, "selu", 1)
    second = Meter(net).measure(1)
    for kind in KINDS:
        a, b = first.histograms[kind], second.histograms[kind]
        np.testing.assert_array_equal(a.edges, b.edges)
        np.testing.assert_array_equal(a.counts, b.counts)
    after = (net.params, net.grad, net._h, net._pre, net._dz, net._z)
    for before, now in zip(buffers, after, strict=True):
        np.testing.assert_array_equal(before, now)


# -- the simulation's hook -------------------------------------------------------------------


def run_arrays(sim: Simulation, steps: int) -> dict[str, np.ndarray]:
    sim.run(steps)
    return sim.recorder.arrays() | {"params": sim.network.params.copy()}


@pytest.mark.parametrize(
    "fields",
    [
        {"activation": "tanh"},
        # Big matrices: the fused SGD path, which updates weights inside weight_gradients.
        {"depth": 3, "width": 256, "input_dim": 16, "batch_size": 8, "activation": "relu"},
        {"optimizer": "adam", "batchnorm": True, "residual": True, "input_dim": 12},
        {"dtype": "float32", "optimizer": "momentum", "grad_clip": 0.5},
    ],
    ids=["tanh", "fused-sgd", "adam-bn-residual", "float32-clip"],
)
def test_training_is_bit_identical_with_distributions_on(fields) -> None:
    cfg = small_config(**fields)
    off = run_arrays(Simulation(cfg), 8)
    on_sim = Simulation(cfg, distributions=1)
    on = run_arrays(on_sim, 8)
    assert len(on_sim.distribution_history) == 8
    for name in off:
        np.testing.assert_array_equal(on[name], off[name], err_msg=name)


def test_cadence_forcing_and_suppressing() -> None:
    sim = Simulation(small_config(), distributions=3)
    assert sim.distribution_history is not None and len(sim.distribution_history) == 0
    measured = [s.step for s in (sim.step() for _ in range(10)) if s.distributions is not None]
    assert measured == [0, 3, 6, 9]
    assert sim.step(distributions=True).distributions is not None  # step 10, off the cadence
    assert sim.step(distributions=False).distributions is None  # step 11
    assert sim.step(distributions=False).distributions is None  # step 12, on the cadence
    np.testing.assert_array_equal(sim.distribution_history.steps, [0, 3, 6, 9, 10])
    assert sim.distribution_history.at(12).step == 10


def test_off_by_default_until_asked() -> None:
    sim = Simulation(small_config())
    assert all(sim.step().distributions is None for _ in range(3))
    assert sim.distribution_history is None
    assert sim.step(distributions=True).distributions is not None
    np.testing.assert_array_equal(sim.distribution_history.steps, [3])
    # Without recording the measurement still rides on the step's statistics.
    quiet = Simulation(small_config(), record=False, distributions=1)
    assert quiet.step().distributions is not None and quiet.distribution_history is None


@pytest.mark.parametrize("every", [0, 50])
def test_the_diverging_step_is_measured(every) -> None:
    sim = Simulation(get_preset("seed-exploding").config.replace(depth=30), distributions=every)
    sim.run(20)
    assert sim.diverged
    last = sim.last
    assert last is not None and last.distributions is not None
    steps = [0, last.step] if every else [last.step]
    np.testing.assert_array_equal(sim.distribution_history.steps, steps)
    h = last.distributions.histograms["activation"]
    assert (h.nonfinite.sum() + h.above.sum() + h.below.sum()) > 0


@pytest.mark.parametrize("bad", [-1, 1.5, True, "3"])
def test_bad_cadence_is_refused(bad) -> None:
    with pytest.raises(ValueError, match="distributions"):
        Simulation(small_config(), distributions=bad)


# -- history ---------------------------------------------------------------------------------


def make_entry(step: int, depth: int = 4, bins: int = 8) -> StepDistributions:
    """An entry whose counts encode its step, so misplaced entries are caught."""
    histograms = {}
    for kind in KINDS:
        if kind in VALUE_KINDS:
            edges, scale = np.linspace(-1.0, 1.0, bins + 1), "value"
        else:
            edges, scale = np.ldexp(1.0, np.arange(-bins, 1)), "log2"
        counts = np.full((depth, bins), step, dtype=np.int64)
        zeros = np.zeros(depth, np.int64)
        histograms[kind] = Histogram(kind, scale, edges, counts, zeros, zeros.copy(), zeros.copy())
    return StepDistributions(step, histograms)


def test_history_stays_within_its_budget_and_keeps_the_whole_run() -> None:
    size = make_entry(0).nbytes
    history = DistributionHistory(budget_bytes=40 * size)
    rng = np.random.default_rng(0)
    steps = np.cumsum(rng.integers(1, 4, 2000))  # irregular, as when the app asks by time
    for step in steps.tolist():
        history.append(make_entry(step))
        assert history.nbytes <= history.budget_bytes
    kept = history.steps
    assert history.nbytes == len(history) * size
    assert kept[0] == steps[0] and kept[-1] == steps[-1]  # first and newest stay
    # The newest half of the budget is dense: the last 20 recorded steps are all there.
    np.testing.assert_array_equal(kept[-20:], steps[-20:])
    assert len(history) >= 25 and history.stride > 1  # the older part was thinned, not dropped
    assert np.all(np.diff(kept) > 0)
    for entry in history.entries():  # every entry still holds its own step's data
        assert (entry.histograms["weight_grad"].counts == entry.step).all()


def test_history_at_and_over_time() -> None:
    history = DistributionHistory()
    assert history.at(5) is None and len(history) == 0
    for step in (2, 5, 9):
        history.append(make_entry(step))
    assert history.at(1) is None
    assert [history.at(s).step for s in (2, 3, 5, 8, 9, 100)] == [2, 2, 5, 5, 9, 9]
    with pytest.raises(ValueError, match="strictly increasing"):
        history.append(make_entry(9))
    steps, bands = history.over_time("backprop_grad", 1, [0.25, 0.5])
    np.testing.assert_array_equal(steps, [2, 5, 9])
    expected = [history.at(s).histograms["backprop_grad"].quantiles(1, [0.25, 0.5]) for s in steps]
    np.testing.assert_array_equal(bands, expected)
    with pytest.raises(KeyError):
        history.over_time("nope", 0, [0.5])


def test_histogram_checks_its_shape() -> None:
    good = make_entry(1).histograms["activation"]
    with pytest.raises(ValueError, match="counts"):
        Histogram("activation", "value", good.edges, good.counts[:, 1:], good.below,
                  good.above, good.nonfinite)
    with pytest.raises(ValueError, match="scale"):
        Histogram("activation", "log2", good.edges, good.counts, good.below, good.above,
                  good.nonfinite)
    with pytest.raises(ValueError, match="powers of two"):
        Histogram("weight_grad", "log2", np.array([1.0, 3.0]), good.counts[:, :1], good.below,
                  good.above, good.nonfinite)


# -- export ----------------------------------------------------------------------------------


def exploding_history() -> tuple[Config, DistributionHistory]:
    """A real run whose last step overflows (inf, nan, a top octave edge of inf)."""
    cfg = get_preset("seed-exploding").config.replace(depth=30)
    sim = Simulation(cfg, distributions=1)
    sim.run(20)
    net = sim.network
    net.dz[0][0, 0] = F64.max  # reaches octave 1023, whose top edge 2**1024 is inf
    sim.distribution_history.append(measure(net, cfg.activation, sim.step_count + 1))
    return cfg, sim.distribution_history


@pytest.mark.parametrize("suffix", [".npz", ".json"])
def test_export_round_trip(tmp_path, suffix) -> None:
    cfg, history = exploding_history()
    assert np.isinf(history.entries()[-1].histograms["backprop_grad"].edges[-1])
    path = tmp_path / f"histograms{suffix}"
    write_histograms(history, path, cfg)
    back = read_histograms(path)
    assert back.config == cfg
    np.testing.assert_array_equal(back.history.steps, history.steps)
    for a, b in zip(history.entries(), back.history.entries(), strict=True):
        for kind in KINDS:
            ha, hb = a.histograms[kind], b.histograms[kind]
            assert hb.scale == ha.scale
            for layer in (0, ha.depth - 1):
                np.testing.assert_array_equal(hb.layer_edges(layer), ha.layer_edges(layer))
            for name in ("counts", "below", "above", "nonfinite"):
                np.testing.assert_array_equal(getattr(hb, name), getattr(ha, name))
    if suffix == ".json":  # strict JSON: no NaN or Infinity literals
        def refuse(name):
            raise AssertionError(f"non-standard JSON literal {name}")

        json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)


def test_export_of_an_empty_history(tmp_path) -> None:
    cfg = small_config()
    for suffix in (".npz", ".json"):
        write_histograms(DistributionHistory(), tmp_path / f"e{suffix}", cfg)
        assert len(read_histograms(tmp_path / f"e{suffix}").history) == 0


def test_bad_histogram_files_raise_export_error(tmp_path) -> None:
    cfg, history = small_config(), DistributionHistory()
    with pytest.raises(ExportError, match=r"\.npz or \.json"):
        write_histograms(history, tmp_path / "h.csv", cfg)
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ExportError, match=r"bad\.npz"):
        read_histograms(tmp_path / "bad.npz")
    (tmp_path / "bad.json").write_text('{"format": "something else"}')
    with pytest.raises(ExportError, match="format"):
        read_histograms(tmp_path / "bad.json")
    with pytest.raises(ExportError, match="cannot read"):
        read_histograms(tmp_path / "missing.json")

