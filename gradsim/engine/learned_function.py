"""What the network has learned, in a form a view can draw while training runs.

For the 2-D point sets (spirals, circles, blobs) that is the decision regions over the plane
the points live in, with a fixed sample of the points on top; for regression (the teacher, a
CSV regression) the prediction against the target on a fixed sample of training rows. Seeing
the regions stay flat in a net whose gradient vanished, and curl around the spirals in one
that trains, ties the gradient statistics to "the network did or did not learn".

Everything here only reads the simulation (``Network.predict`` allocates its own arrays, no
random numbers are drawn), so calling it between steps leaves a run bit-identical.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from gradsim.engine.data import Dataset, PlaneMap
    from gradsim.engine.network import Network
    from gradsim.engine.simulation import Simulation

# Share of the points' extent added on every side of the grid, so the regions show around the
# data and not only under it.
GRID_MARGIN = 0.1


@dataclass(frozen=True)
class DecisionMap:
    """Classification over the 2-D input plane: the class the network picks at each grid point.

    ``confidence`` is the softmax probability of that class (nan where an output is not
    finite; ``classes`` means nothing there). With mse on one-hot targets the outputs are not
    logits, so it is only a relative certainty. ``points``/``labels`` are the same training
    samples at every call, so a view can keep them as they are.
    """

    step: int
    x: NDArray[np.float64]  # (res,) grid coordinates along the plane's first axis
    y: NDArray[np.float64]  # (res,)
    classes: NDArray[np.int64]  # (res_y, res_x) argmax of the outputs; row i is y[i]
    confidence: NDArray[np.float64]  # (res_y, res_x)
    points: NDArray[np.float64]  # (n, 2) a fixed sample of training points, plane coordinates
    labels: NDArray[np.int64]  # (n,)
    n_classes: int


@dataclass(frozen=True)
class RegressionFit:
    """Regression: the prediction against the target for a fixed sample of training rows.

    Every output of each sampled row is a point (flattened row by row: row i's outputs are
    adjacent), since every output is a regression target alike and showing only the first
    would hide a failure on the others; the number of rows is chosen so that about ``sample``
    points are shown whatever ``output_dim`` is.
    """

    step: int
    target: NDArray[np.float64]  # (n,)
    prediction: NDArray[np.float64]  # (n,)


LearnedFunction = DecisionMap | RegressionFit


def learned_function(
    sim: Simulation, resolution: int = 64, sample: int = 300
) -> LearnedFunction | None:
    """What the network computes now, or None when there is nothing to draw.

    None for classification without a 2-D plane (a CSV classification, or the teacher with
    cross-entropy: its inputs are ``input_dim``-dimensional, and its logits against one-hot
    targets are no regression fit), and for a BatchNorm network before its first step (its
    function is defined by a training batch's statistics, which do not exist yet). Never
    changes the simulation's state (random streams, buffers, weights).
    """
    if resolution < 2 or sample < 1:
        raise ValueError(f"resolution must be >= 2 and sample >= 1, not {resolution}, {sample}")
    data, net = sim.data, sim.network
    if not net.has_batch_statistics:
        return None
    with np.errstate(all="ignore"):  # a diverged net is drawn as it is, without warnings
        if data.plane is not None and data.points is not None and data.labels is not None:
            map_args = (data.plane, data.points, data.labels)
            return _decision_map(sim.step_count, net, *map_args, resolution, sample)
        if data.labels is None:
            return _regression_fit(sim.step_count, data, net, sample)
    return None


def grid_points(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    """The (len(y)·len(x), 2) plane points of the grid, row by row (y outer, x inner)."""
    xx, yy = np.meshgrid(x, y)
    return np.stack([xx.ravel(), yy.ravel()], axis=1)


def sample_indices(size: int, count: int) -> NDArray[np.intp]:
    """``count`` (at most ``size``) evenly spaced row indices: the same at every call, drawn
    from no random stream, and spread over the whole file even when its rows are sorted."""
    count = min(count, size)
    return (np.arange(count, dtype=np.intp) * size) // count


def _decision_map(
    step: int,
    net: Network,
    plane: PlaneMap,
    points: NDArray[np.float64],
    labels: NDArray[np.int64],
    resolution: int,
    sample: int,
) -> DecisionMap:
    lo, hi = points.min(axis=0), points.max(axis=0)
    pad = GRID_MARGIN * np.where(hi > lo, hi - lo, 1.0)
    x = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    y = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    outputs = net.predict(plane.to_inputs(grid_points(x, y))).astype(np.float64)
    classes = np.argmax(outputs, axis=1)
    # Softmax of the largest output: exp(0) / sum(exp(o - max)), never overflowing.
    confidence = 1.0 / np.sum(np.exp(outputs - outputs.max(axis=1, keepdims=True)), axis=1)
    confidence[~np.all(np.isfinite(outputs), axis=1)] = np.nan
    rows = sample_indices(len(points), sample)
    return DecisionMap(
        step=step,
        x=x,
        y=y,
        classes=classes.astype(np.int64).reshape(resolution, resolution),
        confidence=confidence.reshape(resolution, resolution),
        points=points[rows].copy(),
        labels=labels[rows].copy(),
        n_classes=int(outputs.shape[1]),
    )


def _regression_fit(step: int, data: Dataset, net: Network, sample: int) -> RegressionFit:
    outputs = data.targets.shape[1]
    rows = sample_indices(len(data.inputs), max(1, sample // outputs))
    prediction = net.predict(data.inputs[rows])
    return RegressionFit(
        step=step,
        target=data.targets[rows].astype(np.float64).ravel(),
        prediction=prediction.astype(np.float64).ravel(),
    )


class FunctionHistory:
    """Learned functions by step, oldest first, at most ``capacity`` of them: when full, every
    other one of the older half goes (as the recorder thins old statistics), so a replayed
    step far back still finds a function near it while memory stays bounded (a 64 x 64
    decision map is ~70 kB: 240 of them ~17 MB)."""

    def __init__(self, capacity: int = 240) -> None:
        if capacity < 4:
            raise ValueError(f"capacity must be >= 4, got {capacity}")
        self.capacity = capacity
        self._items: list[LearnedFunction] = []

    def append(self, function: LearnedFunction) -> None:
        """Add the function of a step later than any held (an equal step replaces it)."""
        if self._items and function.step <= self._items[-1].step:
            if function.step < self._items[-1].step:
                raise ValueError(f"step {function.step} after step {self._items[-1].step}")
            self._items[-1] = function
            return
        self._items.append(function)
        if len(self._items) > self.capacity:
            half = len(self._items) // 2
            # Keep the first (step 0: the untrained function) and every other one after it.
            self._items = self._items[:half:2] + self._items[half:]

    def __len__(self) -> int:
        return len(self._items)

    @property
    def steps(self) -> list[int]:
        return [item.step for item in self._items]

    def at(self, step: int | None) -> LearnedFunction | None:
        """The newest function at or before ``step`` (None: the newest of all)."""
        if not self._items:
            return None
        if step is None:
            return self._items[-1]
        found = None
        for item in self._items:  # at most a few hundred: a scan is cheap
            if item.step > step:
                break
            found = item
        return found
