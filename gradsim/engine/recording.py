"""Per-step statistics of a run, in bounded memory however long the run is.

A teaching run may be left training for hours, so the recorder cannot keep every row. It keeps
the most recent ``recent_rows`` steps at full resolution (what the scrolling heatmap shows)
and the older part of the run on a uniform grid of steps (every ``stride``-th step), doubling
the stride whenever the buffer fills. The whole run therefore stays represented at an even
resolution, the first and last steps are always present, and ``steps`` says which steps are.

``append`` is on the training hot path: it copies one row per statistic (O(depth)); the
occasional compaction is O(capacity) but frees at least a quarter of the buffer, so the cost
per append stays O(depth) amortised.

Reads return copies taken under a lock, so the GUI thread can read while a worker thread
appends without ever seeing a half-written or half-compacted buffer.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gradsim.engine.stats import STAT_NAMES, StepStats

SCALAR_NAMES: tuple[str, ...] = ("step", "loss", "accuracy")
ARRAY_NAMES: tuple[str, ...] = SCALAR_NAMES + STAT_NAMES
MIN_CAPACITY = 256


class Recorder:
    """Per-step loss, accuracy and per-layer statistics of one run."""

    def __init__(self, depth: int, cell_budget: int = 4_000_000) -> None:
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        self.depth = int(depth)
        self.cell_budget = int(cell_budget)
        self.capacity = max(MIN_CAPACITY, self.cell_budget // (self.depth * len(STAT_NAMES)))
        # Compaction keeps this many newest rows untouched; the heatmap never needs more.
        self.recent_rows = self.capacity // 2
        self.stride = 1  # older rows (before the recent window) are on steps % stride == 0
        self.diverged_at: int | None = None
        self.divergence_reason: str | None = None
        self._n = 0
        self._lock = threading.Lock()
        self._allocate(self.capacity)

    def _allocate(self, rows: int) -> None:
        self._steps = np.zeros(rows, dtype=np.int64)
        self._loss = np.zeros(rows, dtype=np.float64)
        self._accuracy = np.zeros(rows, dtype=np.float64)
        self._stats = {name: np.zeros((rows, self.depth), dtype=np.float64) for name in STAT_NAMES}

    # -- writing ----------------------------------------------------------------------------

    def append(self, stats: StepStats) -> None:
        """Record one step. Steps must be strictly increasing (the decimation relies on it)."""
        with self._lock:
            n = self._n
            if n and stats.step <= self._steps[n - 1]:
                raise ValueError(
                    f"steps must be strictly increasing: got step {stats.step} after "
                    f"step {int(self._steps[n - 1])}"
                )
            if n == self.capacity:
                self._compact()
                n = self._n
            layers = stats.layers
            for name in STAT_NAMES:
                self._stats[name][n] = layers[name]
            self._steps[n] = stats.step
            self._loss[n] = stats.loss
            self._accuracy[n] = stats.accuracy
            self._n = n + 1
            if stats.diverged and self.diverged_at is None:
                self.diverged_at = int(stats.step)
                self.divergence_reason = stats.divergence_reason

    def _compact(self) -> None:
        """Free at least a quarter of the buffer by thinning the rows before the recent window.

        Rows older than the newest ``recent_rows`` keep only steps on the ``stride`` grid (and
        the very first row); the stride doubles until they fit in a quarter of the capacity.
        """
        n = self._n
        old = n - self.recent_rows
        old_steps = self._steps[:old]
        limit = self.capacity // 4
        while True:
            keep = old_steps % self.stride == 0
            keep[0] = True
            if np.count_nonzero(keep) <= limit:
                break
            if self.stride >= 2**62:  # only reachable with absurd step numbers: keep the first
                keep[1:] = False
                break
            self.stride *= 2
        index = np.concatenate([np.flatnonzero(keep), np.arange(old, n)])
        size = index.size
        # Fancy indexing copies first, so writing into the prefix is safe.
        self._steps[:size] = self._steps[index]
        self._loss[:size] = self._loss[index]
        self._accuracy[:size] = self._accuracy[index]
        for array in self._stats.values():
            array[:size] = array[index]
        self._n = size

    # -- reading ----------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._n

    @property
    def steps(self) -> NDArray[np.int64]:
        """Which steps are recorded, strictly increasing, shape ``(n,)`` int64 (a copy)."""
        with self._lock:
            steps: NDArray[np.int64] = self._steps[: self._n].copy()
            return steps

    @property
    def loss(self) -> NDArray[np.float64]:
        """Training loss of each recorded step, shape ``(n,)`` (a copy)."""
        with self._lock:
            loss: NDArray[np.float64] = self._loss[: self._n].copy()
            return loss

    @property
    def accuracy(self) -> NDArray[np.float64]:
        """Accuracy of each recorded step (NaN for regression), shape ``(n,)`` (a copy)."""
        with self._lock:
            accuracy: NDArray[np.float64] = self._accuracy[: self._n].copy()
            return accuracy

    def stat(self, name: str) -> NDArray[np.float64]:
        """One statistic for every recorded step and layer, shape ``(n, depth)`` (a copy)."""
        if name not in self._stats:
            raise KeyError(f"unknown statistic {name!r}; known: {', '.join(STAT_NAMES)}")
        with self._lock:
            values: NDArray[np.float64] = self._stats[name][: self._n].copy()
            return values

    def row(self, name: str, index: int) -> NDArray[np.float64]:
        """One recorded row of a statistic, shape ``(depth,)`` (a copy): ``index`` into
        ``steps``, negative from the end (IndexError if there is no such row)."""
        if name not in self._stats:
            raise KeyError(f"unknown statistic {name!r}; known: {', '.join(STAT_NAMES)}")
        with self._lock:
            if not -self._n <= index < self._n:
                raise IndexError(f"row {index} of {self._n}")
            values: NDArray[np.float64] = self._stats[name][index % self._n].copy()
            return values

    def steps_at(self, index: int) -> int:
        """The step recorded at ``index`` into ``steps`` (negative from the end), without
        copying the whole column."""
        with self._lock:
            if not -self._n <= index < self._n:
                raise IndexError(f"row {index} of {self._n}")
            return int(self._steps[index % self._n])

    def index_at(self, step: int) -> int | None:
        """Index (into ``steps``) of the newest recorded step at or before ``step``; None if
        every recorded step is later. Old steps may be thinned out: a replayed step is then
        shown by the one before it."""
        with self._lock:
            index = int(np.searchsorted(self._steps[: self._n], step, side="right")) - 1
            return index if index >= 0 else None

    def arrays(self) -> dict[str, NDArray[np.int64 | np.float64]]:
        """Everything recorded, as copies: ``step``, ``loss``, ``accuracy`` and every stat."""
        with self._lock:
            return self._rows(0, self._n)

    def latest(self, n: int) -> dict[str, NDArray[np.int64 | np.float64]]:
        """The last ``n`` recorded rows (fewer if fewer exist), same keys as ``arrays``.

        Costs O(n x depth) whatever the length of the run, so the app can call it every frame.
        At most ``recent_rows`` of them are guaranteed to be consecutive steps.
        """
        with self._lock:
            return self._rows(max(0, self._n - max(0, int(n))), self._n)

    def window(
        self, name: str, span: int | None = None
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Steps and one statistic of the rows covering the last ``span`` steps (all if None).

        Starts at the latest row at or before the span's first step, so a plot that shows "the
        latest row at or before each step" has a value at the left edge even where old history
        is thinned out. Cheap: one statistic only.
        """
        with self._lock:
            n = self._n
            start = 0
            if span is not None and n:
                first_step = self._steps[n - 1] - int(span) + 1
                start = max(0, int(np.searchsorted(self._steps[:n], first_step, "right")) - 1)
            if name not in self._stats:
                raise KeyError(f"unknown statistic {name!r}; expected one of {STAT_NAMES}")
            values = self._stats[name]
            return self._steps[start:n].copy(), values[start:n].copy()

    def _rows(self, start: int, stop: int) -> dict[str, NDArray[np.int64 | np.float64]]:
        out: dict[str, NDArray[np.int64 | np.float64]] = {
            "step": self._steps[start:stop].copy(),
            "loss": self._loss[start:stop].copy(),
            "accuracy": self._accuracy[start:stop].copy(),
        }
        for name in STAT_NAMES:
            out[name] = self._stats[name][start:stop].copy()
        return out

    @property
    def nbytes(self) -> int:
        """Memory held by the buffers (bounded by the capacity, not by the run's length)."""
        return (
            self._steps.nbytes
            + self._loss.nbytes
            + self._accuracy.nbytes
            + sum(array.nbytes for array in self._stats.values())
        )

    # -- loading ----------------------------------------------------------------------------

    @classmethod
    def from_arrays(
        cls,
        depth: int,
        arrays: Mapping[str, ArrayLike],
        diverged_at: int | None = None,
        divergence_reason: str | None = None,
    ) -> Recorder:
        """Rebuild a recorder from ``arrays()``-style data (a loaded file).

        Every row given is kept, even beyond the default capacity: a loaded run is shown as it
        was saved. Shapes are checked so that a malformed file fails here, with a message,
        rather than later inside a plot. Raises ``ValueError``.
        """
        missing = [name for name in ARRAY_NAMES if name not in arrays]
        if missing:
            raise ValueError(f"missing arrays: {', '.join(missing)}")
        steps = np.asarray(arrays["step"])
        if steps.ndim != 1:
            raise ValueError(f"'step' must be one-dimensional, got shape {steps.shape}")
        n = steps.shape[0]
        integral = np.issubdtype(steps.dtype, np.integer) or (
            np.issubdtype(steps.dtype, np.floating)
            and bool(np.all(np.isfinite(steps) & (steps == np.round(steps))))
        )
        if n and not integral:
            raise ValueError("'step' must hold integers")
        steps = steps.astype(np.int64)
        if n > 1 and not np.all(np.diff(steps) > 0):
            raise ValueError("'step' must be strictly increasing")
        shapes = {"loss": (n,), "accuracy": (n,)} | {name: (n, depth) for name in STAT_NAMES}
        values = {}
        for name, shape in shapes.items():
            value = np.asarray(arrays[name])
            if value.shape != shape:
                raise ValueError(f"{name!r} has shape {value.shape}, expected {shape}")
            if n and not (
                np.issubdtype(value.dtype, np.floating) or np.issubdtype(value.dtype, np.integer)
            ):
                raise ValueError(f"{name!r} must hold numbers, got dtype {value.dtype}")
            values[name] = value.astype(np.float64)
        recorder = cls(depth)
        if n > recorder.capacity:
            recorder.capacity = n
            recorder.recent_rows = n // 2
            recorder._allocate(n)
        recorder._steps[:n] = steps
        recorder._loss[:n] = values["loss"]
        recorder._accuracy[:n] = values["accuracy"]
        for name in STAT_NAMES:
            recorder._stats[name][:n] = values[name]
        recorder._n = n
        recorder.diverged_at = None if diverged_at is None else int(diverged_at)
        recorder.divergence_reason = divergence_reason
        return recorder

    def __repr__(self) -> str:
        return (
            f"Recorder(depth={self.depth}, rows={self._n}, capacity={self.capacity}, "
            f"stride={self.stride}, diverged_at={self.diverged_at})"
        )
