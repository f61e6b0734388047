"""Training data: a fixed random teacher (regression), 2-D classification sets, or a CSV file.

Every generated dataset is made once from the run's seed, so the same config gives the same
data. Classification sets have ``output_dim`` classes; their 2-D points are projected to
``input_dim`` features with a fixed random matrix when ``input_dim != 2``. Features are
standardised, so the input's second moment is about 1 (the theory uses the measured value).
Those sets keep their 2-D points and the fitted maps (``PlaneMap``), so any point of the plane
can be fed to the network exactly as the training inputs were made: that is how the learned
function is drawn over the plane.
A CSV dataset is the file's rows as they are (see ``csv_data``, whose ``resolve_data`` also
lowers batch_size to the row count: a batch never repeats a row).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from gradsim.engine.config import Config, ConfigError
from gradsim.engine.csv_data import CsvTable, read_csv_table

DATASET_SIZE = 2048
TEACHER_HIDDEN = 32


@dataclass(frozen=True)
class PlaneMap:
    """The affine maps, fitted once on the training points, from the 2-D plane to the inputs.

    Standardise the points, project them to ``input_dim`` features (unless that is 2),
    standardise again, cast to the dtype: the steps ``make_dataset`` took, with the same fitted
    means, scales and matrix, so a grid over the plane reaches the network as training data does.
    """

    point_mean: NDArray[np.float64]  # (2,)
    point_scale: NDArray[np.float64]  # (2,) the std, or 1 where it is 0
    projection: NDArray[np.float64] | None  # (2, input_dim), None when input_dim == 2
    input_mean: NDArray[np.float64]  # (input_dim,)
    input_scale: NDArray[np.float64]  # (input_dim,)
    dtype: np.dtype[np.floating]

    def to_inputs(self, xy: NDArray[np.float64]) -> NDArray[np.floating]:
        """Network inputs (n, input_dim) for plane points ``xy`` (n, 2)."""
        standard = (xy - self.point_mean) / self.point_scale
        projected = standard if self.projection is None else standard @ self.projection
        standardised = (projected - self.input_mean) / self.input_scale
        inputs: NDArray[np.floating] = standardised.astype(self.dtype)
        return inputs


@dataclass(frozen=True)
class Dataset:
    """Inputs, regression targets (or one-hot rows) and class labels (None for regression).

    ``points`` and ``plane`` exist only for the 2-D point sets (spirals, circles, blobs):
    ``plane.to_inputs(points)`` equals ``inputs`` bit for bit.
    """

    inputs: NDArray[np.floating]  # (N, input_dim)
    # (N, output_dim): regression values, or one-hot for classification
    targets: NDArray[np.floating]
    labels: NDArray[np.int64] | None  # (N,) int64 class index, or None
    points: NDArray[np.float64] | None = None  # (N, 2) the same samples in the plane
    plane: PlaneMap | None = None

    @property
    def input_second_moment(self) -> float:
        """Mean of x² over samples and features (the theory's E[h_0²])."""
        return float(np.mean(np.square(self.inputs, dtype=np.float64)))


def make_dataset(config: Config, rng: np.random.Generator) -> Dataset:
    """Generate (or, for "csv", read) the config's dataset in the config's dtype."""
    if config.dataset == "csv":
        return _csv_dataset(config)
    size = max(DATASET_SIZE, config.batch_size)
    dtype = np.dtype(config.dtype)
    points: NDArray[np.float64] | None = None
    plane: PlaneMap | None = None
    if config.dataset == "teacher":
        raw = rng.standard_normal((size, config.input_dim))
        w1 = rng.standard_normal((config.input_dim, TEACHER_HIDDEN)) / np.sqrt(config.input_dim)
        w2 = rng.standard_normal((TEACHER_HIDDEN, config.output_dim)) / np.sqrt(TEACHER_HIDDEN)
        outputs = np.tanh(raw @ w1) @ w2
        labels = np.argmax(outputs, axis=1) if config.is_classification else None
        inputs = _standardise(raw).astype(dtype)
    else:
        points, labels = _POINT_SETS[config.dataset](size, config.output_dim, rng)
        plane = _fit_plane(points, config.input_dim, dtype, rng)
        inputs = plane.to_inputs(points)
        outputs = np.zeros((size, config.output_dim))
    if labels is not None:
        outputs = np.zeros((size, config.output_dim))
        outputs[np.arange(size), labels] = 1.0
    return Dataset(
        inputs=inputs,
        targets=outputs.astype(dtype),
        labels=None if labels is None else labels.astype(np.int64),
        points=points,
        plane=plane,
    )


def _fit_plane(
    points: NDArray[np.float64], dim: int, dtype: np.dtype[np.floating], rng: np.random.Generator
) -> PlaneMap:
    """Fit the plane-to-inputs maps on the training points (drawing the projection, if any)."""
    point_mean, point_scale = _fit_standard(points)
    standard = (points - point_mean) / point_scale
    projection = None if dim == points.shape[1] else rng.standard_normal((points.shape[1], dim))
    projected = standard if projection is None else standard @ projection
    input_mean, input_scale = _fit_standard(projected)
    return PlaneMap(point_mean, point_scale, projection, input_mean, input_scale, dtype)


def _csv_dataset(config: Config) -> Dataset:
    table = read_csv_table(config.data_path, config.target_column, config.task)
    _check_shape(table, config)
    dtype = np.dtype(config.dtype)
    return Dataset(
        inputs=table.features.astype(dtype, copy=False),  # the parsed table itself for float64
        targets=table.targets.astype(dtype, copy=False),
        labels=None if table.labels is None else table.labels.copy(),
    )


def _check_shape(table: CsvTable, config: Config) -> None:
    """The network must fit the file: say exactly which settings would make it fit."""
    want = {"input_dim": table.n_features, "output_dim": table.output_dim, "loss": table.loss}
    wrong = [name for name, value in want.items() if getattr(config, name) != value]
    fix = [f"{name} = {value!r}" for name, value in want.items()]
    if config.batch_size > table.n_rows:
        wrong.append("batch_size")
        fix.append(f"batch_size <= {table.n_rows}")
    if not wrong:
        return
    outputs = f"{table.output_dim} classes" if table.labels is not None else "a numeric target"
    has = ", ".join(f"{name} = {getattr(config, name)!r}" for name in wrong)
    raise ConfigError(
        f"{config.data_path} has {table.n_rows} rows, {table.n_features} feature columns and "
        f"{outputs} (column {table.target_name!r}), but the config has {has}: set "
        f"{', '.join(fix)} (gradsim.engine.csv_data.resolve_data does this)"
    )


def _fit_standard(x: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Column means and stds (1 for a constant column, which then stays 0)."""
    std = x.std(axis=0)
    return x.mean(axis=0), np.where(std > 0, std, 1.0)


def _standardise(x: NDArray[np.float64]) -> NDArray[np.float64]:
    mean, scale = _fit_standard(x)
    standard: NDArray[np.float64] = (x - mean) / scale
    return standard


# 2-D points (N, 2) and each point's class (N,).
_PointSet = tuple[NDArray[np.float64], NDArray[np.int64]]


def _spirals(size: int, classes: int, rng: np.random.Generator) -> _PointSet:
    labels = rng.integers(0, classes, size)
    radius = rng.uniform(0.05, 1.0, size)
    angle = 1.75 * 2 * np.pi * radius + 2 * np.pi * labels / classes
    angle += rng.normal(0.0, 0.15, size)
    return np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1), labels


def _circles(size: int, classes: int, rng: np.random.Generator) -> _PointSet:
    labels = rng.integers(0, classes, size)
    radius = (labels + 1) / classes + rng.normal(0.0, 0.25 / classes, size)
    angle = rng.uniform(0, 2 * np.pi, size)
    return np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1), labels


def _blobs(size: int, classes: int, rng: np.random.Generator) -> _PointSet:
    labels = rng.integers(0, classes, size)
    centres = rng.uniform(-1.0, 1.0, (classes, 2)) * 3.0
    return centres[labels] + rng.standard_normal((size, 2)) * 0.6, labels


_POINT_SETS = {"spirals": _spirals, "circles": _circles, "blobs": _blobs}


class BatchSampler:
    """Yields minibatch indices: a fresh random permutation per epoch, in order."""

    def __init__(self, size: int, batch_size: int, rng: np.random.Generator) -> None:
        if batch_size > size:  # the network's buffers are sized for exactly batch_size rows
            raise ValueError(f"batch_size {batch_size} exceeds the {size} samples")
        self._size = size
        self._batch = batch_size
        self._rng = rng
        self._order = rng.permutation(size)
        self._pos = 0

    def next(self) -> NDArray[np.int64]:
        """Indices of the next batch (always exactly ``batch_size`` of them)."""
        if self._pos + self._batch > self._size:
            self._order = self._rng.permutation(self._size)
            self._pos = 0
        indices = self._order[self._pos : self._pos + self._batch]
        self._pos += self._batch
        return indices
