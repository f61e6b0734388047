"""The learned function: the plane map of the point sets, ``Network.predict`` and the decision
regions / regression fit built from them, none of which may disturb a run."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from gradsim.engine.config import ACTIVATIONS, Config
from gradsim.engine.csv_data import resolve_data
from gradsim.engine.data import make_dataset
from gradsim.engine.learned_function import DecisionMap, RegressionFit, learned_function
from gradsim.engine.network import Network
from gradsim.engine.simulation import Simulation

POINT_SETS = ("spirals", "circles", "blobs")


def trained(config: Config, steps: int = 5) -> Simulation:
    sim = Simulation(config, record=False)
    sim.run(steps)
    return sim


# -- the dataset and its plane ----------------------------------------------------------------


def _old_standardise(x: np.ndarray) -> np.ndarray:
    std = x.std(axis=0)
    return (x - x.mean(axis=0)) / np.where(std > 0, std, 1.0)


def _old_make_dataset(config: Config, rng: np.random.Generator):
    """make_dataset as it was before the plane was kept: the reference the data must match."""
    size = max(2048, config.batch_size)
    if config.dataset == "teacher":
        inputs = rng.standard_normal((size, config.input_dim))
        w1 = rng.standard_normal((config.input_dim, 32)) / np.sqrt(config.input_dim)
        w2 = rng.standard_normal((32, config.output_dim)) / np.sqrt(32)
        outputs = np.tanh(inputs @ w1) @ w2
        labels = np.argmax(outputs, axis=1) if config.is_classification else None
    else:
        classes = config.output_dim
        labels = rng.integers(0, classes, size)
        if config.dataset == "spirals":
            radius = rng.uniform(0.05, 1.0, size)
            angle = 1.75 * 2 * np.pi * radius + 2 * np.pi * labels / classes
            angle += rng.normal(0.0, 0.15, size)
            points = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
        elif config.dataset == "circles":
            radius = (labels + 1) / classes + rng.normal(0.0, 0.25 / classes, size)
            angle = rng.uniform(0, 2 * np.pi, size)
            points = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
        else:
            centres = rng.uniform(-1.0, 1.0, (classes, 2)) * 3.0
            points = centres[labels] + rng.standard_normal((size, 2)) * 0.6
        inputs = _old_standardise(points)
        if config.input_dim != 2:
            inputs = inputs @ rng.standard_normal((2, config.input_dim))
        outputs = np.zeros((size, classes))
    if labels is not None:
        outputs = np.zeros((size, config.output_dim))
        outputs[np.arange(size), labels] = 1.0
    return _old_standardise(inputs).astype(config.dtype), outputs.astype(config.dtype), labels


DATA_CASES = [
    *itertools.product(POINT_SETS, (2, 3, 16), (2, 5), ("float32", "float64"), ("mse",)),
    *itertools.product(
        ("teacher",), (2, 16), (3,), ("float32", "float64"), ("mse", "cross_entropy")
    ),
]


@pytest.mark.parametrize(("dataset", "input_dim", "output_dim", "dtype", "loss"), DATA_CASES)
def test_generated_data_is_bit_identical_to_before(dataset, input_dim, output_dim, dtype, loss):
    config = Config(
        dataset=dataset, input_dim=input_dim, output_dim=output_dim, dtype=dtype, loss=loss,
        batch_size=3000 if input_dim == 3 else 64,  # 3000: more rows than the default 2048
    )  # fmt: skip
    data = make_dataset(config, np.random.default_rng(11))
    inputs, targets, labels = _old_make_dataset(config, np.random.default_rng(11))
    assert data.inputs.dtype == inputs.dtype and data.inputs.tobytes() == inputs.tobytes()
    assert data.targets.tobytes() == targets.tobytes()
    if labels is None:
        assert data.labels is None
    else:
        np.testing.assert_array_equal(data.labels, labels)


@pytest.mark.parametrize(
    ("dataset", "input_dim", "dtype"),
    list(itertools.product(POINT_SETS, (2, 3, 16), ("float32", "float64"))),
)
def test_plane_map_turns_the_points_into_the_training_inputs(dataset, input_dim, dtype):
    config = Config(dataset=dataset, input_dim=input_dim, output_dim=3, dtype=dtype)
    data = make_dataset(config, np.random.default_rng(3))
    assert data.points is not None and data.plane is not None
    assert data.points.shape == (len(data.inputs), 2)
    mapped = data.plane.to_inputs(data.points)
    assert mapped.dtype == data.inputs.dtype
    assert mapped.tobytes() == data.inputs.tobytes()
    # Any subset of the plane maps as the whole set did (rows do not interact).
    rows = np.arange(5, 600, 7)
    np.testing.assert_allclose(
        data.plane.to_inputs(data.points[rows]), data.inputs[rows], rtol=1e-6, atol=1e-6
    )


def test_only_point_sets_have_a_plane():
    data = make_dataset(Config(dataset="teacher"), np.random.default_rng(0))
    assert data.points is None and data.plane is None


# -- Network.predict --------------------------------------------------------------------------

# (batchnorm, residual, bias): every combination.
ARCHITECTURES = list(itertools.product((False, True), repeat=3))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("batchnorm", "residual", "bias"), ARCHITECTURES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_predict_equals_forward_bit_for_bit(activation, batchnorm, residual, bias, dtype):
    config = Config(
        depth=5, width=8, input_dim=8, output_dim=3, batch_size=16, activation=activation,
        batchnorm=batchnorm, residual=residual, bias=bias, bias_init=0.1, dtype=dtype,
        dataset="spirals", learning_rate=0.05,
    )  # fmt: skip
    sim = trained(config, steps=3)  # gammas, betas and biases no longer at their initial values
    x = sim.data.inputs[100:116]
    expected = sim.network.forward(x).copy()  # with BN: sets the statistics to x's
    got = sim.network.predict(x)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    assert got.tobytes() == expected.tobytes()


def test_predict_uses_the_last_batch_statistics_not_its_own():
    config = Config(depth=4, width=8, input_dim=2, batchnorm=True, dataset="spirals", output_dim=2)
    sim = trained(config, steps=2)
    net = sim.network
    first, second = sim.data.inputs[:64], sim.data.inputs[64:128] * 3.0
    batch_output = net.forward(first).copy()
    # A few rows, or a single one, are normalised as they were inside the batch (to rounding:
    # BLAS may sum a product of fewer rows in another order).
    for rows in (slice(0, 5), slice(40, 41)):
        np.testing.assert_allclose(net.predict(first[rows]), batch_output[rows], rtol=1e-12)
    on_first_stats = net.predict(second)
    assert not np.allclose(on_first_stats, net.forward(second).copy())  # own stats differ
    net.forward(first)
    np.testing.assert_array_equal(net.predict(second), on_first_stats)


def test_predict_needs_batch_statistics_with_batchnorm():
    config = Config(depth=3, width=8, batchnorm=True, dataset="spirals", input_dim=2, output_dim=2)
    sim = Simulation(config, record=False)
    assert not sim.network.has_batch_statistics
    with pytest.raises(RuntimeError, match="batch statistics"):
        sim.network.predict(sim.data.inputs[:4])
    assert learned_function(sim) is None  # nothing to draw yet
    sim.step()
    assert sim.network.has_batch_statistics
    assert isinstance(learned_function(sim), DecisionMap)


def _training_state(net: Network) -> dict[str, bytes]:
    arrays = {
        name: getattr(net, name) for name in ("params", "grad", "_z", "_pre", "_h", "_dz", "_dphi")
    }
    for name in ("_xhat", "_inv_std", "_bn_mean"):
        for l, array in enumerate(getattr(net, name)):
            arrays[f"{name}{l}"] = array
    return {name: array.tobytes() for name, array in arrays.items()}


@pytest.mark.parametrize("batchnorm", [False, True])
def test_predict_writes_no_training_buffer(batchnorm):
    config = Config(
        depth=6, width=16, input_dim=16, residual=True, batchnorm=batchnorm, dataset="circles",
        output_dim=3, activation="gelu",
    )  # fmt: skip
    sim = trained(config, steps=2)
    before = _training_state(sim.network)
    for rows in (1, 64, 1000):  # fewer, as many and more rows than a batch
        out = sim.network.predict(sim.data.inputs[:rows])
        assert out.shape == (rows, 3)
    assert _training_state(sim.network) == before


# -- learned_function: the decision map -------------------------------------------------------


def _softmax_max(outputs: np.ndarray) -> np.ndarray:
    exp = np.exp(outputs - outputs.max(axis=1, keepdims=True))
    return (exp / exp.sum(axis=1, keepdims=True)).max(axis=1)


@pytest.mark.parametrize(
    ("dataset", "input_dim", "batchnorm"),
    [("spirals", 2, False), ("circles", 5, True), ("blobs", 16, False), ("spirals", 3, True)],
)
def test_decision_regions_are_the_networks_own_predictions(dataset, input_dim, batchnorm):
    config = Config(
        depth=4, width=16, input_dim=input_dim, output_dim=3, dataset=dataset,
        activation="relu", init="he_normal", batchnorm=batchnorm, learning_rate=0.1,
    )  # fmt: skip
    sim = trained(config, steps=20)
    result = learned_function(sim, resolution=24, sample=50)
    assert isinstance(result, DecisionMap)
    assert (result.step, result.n_classes) == (20, 3)
    assert result.x.shape == result.y.shape == (24,)
    assert result.classes.shape == result.confidence.shape == (24, 24)
    # The grid, built here point by point: row i is y[i], column j is x[j].
    grid = np.array([(x, y) for y in result.y for x in result.x])
    outputs = sim.network.predict(sim.data.plane.to_inputs(grid))
    np.testing.assert_array_equal(result.classes, np.argmax(outputs, axis=1).reshape(24, 24))
    np.testing.assert_allclose(result.confidence, _softmax_max(outputs).reshape(24, 24), 1e-12)
    assert len(np.unique(result.classes)) > 1  # a trained net does not paint one colour


def test_decision_regions_match_forward_on_batches_of_grid_points():
    """Independently of predict: the training forward pass, one batch of grid points at a time."""
    config = Config(
        depth=5, width=32, input_dim=4, output_dim=3, dataset="spirals", batch_size=64,
        activation="tanh", learning_rate=0.1,
    )  # fmt: skip
    sim = trained(config, steps=30)
    result = learned_function(sim, resolution=16)  # 256 grid points: 4 batches of 64
    assert isinstance(result, DecisionMap)
    xx, yy = np.meshgrid(result.x, result.y)
    inputs = sim.data.plane.to_inputs(np.column_stack([xx.ravel(), yy.ravel()]))
    classes = [np.argmax(sim.network.forward(batch), axis=1) for batch in np.split(inputs, 4)]
    np.testing.assert_array_equal(result.classes.ravel(), np.concatenate(classes))


def test_grid_spans_the_points_with_a_margin():
    sim = Simulation(Config(dataset="blobs", input_dim=2, output_dim=4), record=False)
    result = learned_function(sim, resolution=10)
    assert isinstance(result, DecisionMap)
    points = sim.data.points
    lo, hi = points.min(axis=0), points.max(axis=0)
    margin = 0.1 * (hi - lo)
    np.testing.assert_allclose([result.x[0], result.y[0]], lo - margin)
    np.testing.assert_allclose([result.x[-1], result.y[-1]], hi + margin)
    assert np.all(np.diff(result.x) > 0) and np.all(np.diff(result.y) > 0)


def test_point_sample_is_fixed_and_labelled():
    config = Config(dataset="spirals", input_dim=2, output_dim=3, depth=4, width=16)
    sim = Simulation(config, record=False)
    first = learned_function(sim, sample=300)
    sim.run(10)
    later = learned_function(sim, sample=300)
    assert isinstance(first, DecisionMap) and isinstance(later, DecisionMap)
    assert first.points.shape == (300, 2) and first.labels.shape == (300,)
    np.testing.assert_array_equal(first.points, later.points)
    np.testing.assert_array_equal(first.labels, later.labels)
    # Each shown point is a training point with its own label, spread over the whole set.
    rows = [int(np.flatnonzero(np.all(sim.data.points == p, axis=1))[0]) for p in first.points]
    np.testing.assert_array_equal(first.labels, sim.data.labels[rows])
    assert len(set(rows)) == 300 and max(rows) - min(rows) > 0.9 * len(sim.data.points)
    assert (first.step, later.step) == (0, 10)


def test_overflowed_outputs_have_no_confidence():
    config = Config(dataset="circles", input_dim=2, output_dim=2, depth=3, activation="sigmoid")
    sim = Simulation(config, record=False)
    # Sigmoid outputs are about 0.5 in all 16 units: their sum times the largest float is inf.
    sim.network.weights[-1][...] = np.finfo(np.float64).max
    result = learned_function(sim, resolution=8)  # and no numpy warning (warnings are errors)
    assert isinstance(result, DecisionMap)
    assert np.all(np.isnan(result.confidence))
    # One output at -inf, the other finite: a softmax would say 1; no output, no confidence.
    sim.network.weights[-1][...] = 0.0
    sim.network.biases[-1][...] = [-np.inf, 0.0]
    result = learned_function(sim, resolution=8)
    assert isinstance(result, DecisionMap)
    assert np.all(np.isnan(result.confidence))


def test_confidence_is_a_probability_of_the_chosen_class():
    config = Config(dataset="spirals", input_dim=2, output_dim=4, depth=3, width=16)
    result = learned_function(trained(config, steps=5), resolution=12)
    assert isinstance(result, DecisionMap)
    assert np.all(result.confidence >= 1 / 4) and np.all(result.confidence <= 1)


# -- learned_function: regression and nothing to draw -----------------------------------------


@pytest.mark.parametrize("output_dim", [1, 3])
def test_regression_fit_is_predict_on_a_fixed_sample(output_dim):
    config = Config(dataset="teacher", input_dim=8, output_dim=output_dim, depth=4, width=16)
    sim = trained(config, steps=5)
    result = learned_function(sim, sample=300)
    assert isinstance(result, RegressionFit)
    rows = np.arange(300 // output_dim) * len(sim.data.inputs) // (300 // output_dim)
    np.testing.assert_array_equal(result.target, sim.data.targets[rows].ravel())
    np.testing.assert_array_equal(
        result.prediction, sim.network.predict(sim.data.inputs[rows]).ravel()
    )
    assert result.step == 5
    sim.run(5)
    again = learned_function(sim, sample=300)
    assert isinstance(again, RegressionFit)
    np.testing.assert_array_equal(again.target, result.target)
    assert not np.array_equal(again.prediction, result.prediction)  # it follows training


def _csv(tmp_path: Path, target: str) -> Path:
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=80).round(3), rng.normal(size=80).round(3)
    y = (
        [f"{v:.3f}" for v in 2 * a - b]
        if target == "number"
        else ["yes" if v > 0 else "no" for v in a]
    )
    path = tmp_path / f"learned_{target}.csv"
    path.write_text("a,b,y\n" + "".join(f"{p},{q},{t}\n" for p, q, t in zip(a, b, y, strict=True)))
    return path


def test_csv_regression_is_a_fit_and_csv_classification_has_nothing_to_draw(tmp_path: Path):
    def run(target: str) -> Simulation:
        path = str(_csv(tmp_path, target))
        return trained(resolve_data(Config(dataset="csv", data_path=path, depth=3, width=8)))

    regression = run("number")
    result = learned_function(regression, sample=50)
    assert isinstance(result, RegressionFit) and result.target.shape == (50,)
    rows = np.arange(50) * 80 // 50
    np.testing.assert_array_equal(result.target, regression.data.targets[rows, 0])
    classification = run("label")
    assert classification.data.labels is not None
    assert learned_function(classification) is None


def test_teacher_classification_has_nothing_to_draw():
    config = Config(dataset="teacher", loss="cross_entropy", output_dim=3, depth=3, width=8)
    assert learned_function(trained(config)) is None


def test_bad_arguments_are_refused():
    sim = Simulation(Config(dataset="spirals", input_dim=2, output_dim=2, depth=3), record=False)
    with pytest.raises(ValueError, match="resolution"):
        learned_function(sim, resolution=1)
    with pytest.raises(ValueError, match="sample"):
        learned_function(sim, sample=0)


# -- never disturbing a run -------------------------------------------------------------------


@pytest.mark.parametrize(
    "config",
    [
        Config(dataset="spirals", input_dim=2, output_dim=3, depth=6, width=16, activation="relu",
               init="he_normal", optimizer="momentum", learning_rate=0.05),
        Config(dataset="circles", input_dim=8, output_dim=2, depth=5, width=8, batchnorm=True,
               residual=True, activation="tanh", dtype="float32"),
        Config(dataset="teacher", input_dim=8, output_dim=2, depth=4, width=16, optimizer="adam"),
    ],
    ids=["spirals-momentum", "circles-bn-residual-float32", "teacher-adam"],
)  # fmt: skip
def test_calls_mid_training_leave_the_run_bit_identical(config):
    config = config.replace(batch_size=256)  # 25 steps span three epochs: batch order redrawn
    plain = Simulation(config, record=False)
    expected = [plain.step() for _ in range(25)]
    watched = Simulation(config, record=False)
    got = []
    for _ in range(25):
        learned_function(watched, resolution=16, sample=100)
        got.append(watched.step())
        learned_function(watched, resolution=16, sample=100)
    assert _training_state(watched.network) == _training_state(plain.network)
    for ours, theirs in zip(got, expected, strict=True):
        assert np.float64(ours.loss).tobytes() == np.float64(theirs.loss).tobytes()
        assert np.float64(ours.accuracy).tobytes() == np.float64(theirs.accuracy).tobytes()
        assert ours.layers.keys() == theirs.layers.keys()
        for name, values in ours.layers.items():
            assert values.tobytes() == theirs.layers[name].tobytes(), name
    # The next batch (the sampler's random stream) is the same too.
    assert watched.step().loss == plain.step().loss
