"""Per-layer distributions (histograms) of a step's signals and gradients, and their history.

An RMS says how big a layer's signal is; a histogram says how it is spread: how many tanh
units sit in the flat tails, how many ReLU units are dead, how many gradients have underflowed
to exactly zero while the RMS still looks merely small. Four quantities are binned, for every
layer, from the network's own buffers after a step's backward pass (``KINDS``):

* value kinds (``VALUE_KINDS``: h and z) are binned by value over a fixed window where the
  activation does something (``value_window``), ``VALUE_BINS`` equal bins, with the values
  outside counted below and above it;
* log kinds (``LOG_KINDS``: ∂loss/∂z and ∂loss/∂W) span hundreds of decades in vanishing and
  exploding nets, so they are binned by magnitude, one bin per octave [2**k, 2**(k+1)), over
  only the octaves present in that step, with exact zeros counted apart.

Binning is exact (it agrees with ``numpy.histogram`` on the same edges) and vectorised: one
``np.bincount`` per chunk of about ``CHUNK`` values, with per-layer offsets, so a measurement
costs a few passes over the buffers whatever the depth. It is still a few milliseconds on a
large net, hence a cadence (see ``Simulation``), not every step.
"""

from __future__ import annotations

import bisect
import functools
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from gradsim.engine.activations import evaluate

if TYPE_CHECKING:
    from gradsim.engine.network import Network

KINDS: tuple[str, ...] = ("activation", "preactivation", "backprop_grad", "weight_grad")
KIND_TITLES: dict[str, str] = {
    "activation": "signal leaving the layer (h)",
    "preactivation": "input of the activation (z)",
    "backprop_grad": "gradient reaching the layer (∂loss/∂z)",
    "weight_grad": "weight gradient (∂loss/∂W)",
}
VALUE_KINDS: tuple[str, ...] = ("activation", "preactivation")  # binned by value over a window
LOG_KINDS: tuple[str, ...] = ("backprop_grad", "weight_grad")  # by magnitude, one bin per octave

# The API's and `gradsim run`'s default cadence: histograms every 10th step cost a few per
# cent of the training time (benchmarks/bench_engine.py) and still show how they move.
HISTOGRAMS_EVERY = 10
VALUE_BINS = 64  # a power of two: the windows below then have power-of-two bin widths
DEFAULT_BUDGET_BYTES = 64 * 2**20
# Values binned per numpy call: big enough that the per-call overhead vanishes, small enough
# that the scratch arrays stay in cache (and small next to the network's own buffers).
CHUNK = 2**16

# Bounded activations: the window is their whole range (the image of any z window rounded out).
_BOUNDED: dict[str, tuple[float, float]] = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}


@functools.cache
def value_window(kind: str, activation: str, leaky_slope: float = 0.01) -> tuple[float, float]:
    """Value range binned for a value kind of the hidden layers.

    "preactivation": where the activation's slope σ′(z) changes: sigmoid ±8 (σ′(8) ≈ 3e-4),
    every other activation ±4 (tanh′(4) ≈ 1e-3; ReLU's kink, ELU's and GELU's curve, all in
    view). "activation": the image of that z range under the activation: tanh [-1, 1],
    sigmoid [0, 1], relu [0, 4], linear [-4, 4], leaky_relu [-4·slope, 4], elu [φ(-4), 4],
    gelu [min φ, φ(4)]. Residual sums and BatchNorm outputs may fall outside: they are counted
    in ``below`` and ``above``. The output layer is linear whatever the activation: it is
    binned over ``value_window(kind, "linear")`` = [-4, 4] (``Histogram.output_edges``).
    """
    if kind not in VALUE_KINDS:
        raise ValueError(f"{kind!r} is not binned by value; value kinds: {', '.join(VALUE_KINDS)}")
    half = 8.0 if activation == "sigmoid" else 4.0
    if kind == "preactivation":
        return (-half, half)
    if activation in _BOUNDED:
        return _BOUNDED[activation]
    # Every other activation is monotone, or (GELU) has its one minimum inside the window:
    # a fine grid that includes both ends gives the image.
    h, _ = evaluate(activation, np.linspace(-half, half, 4097), leaky_slope)
    return (float(np.min(h)), float(np.max(h)))


def value_edges(kind: str, activation: str, leaky_slope: float = 0.01) -> NDArray[np.float64]:
    """The ``VALUE_BINS + 1`` equally spaced edges over ``value_window`` (a new array)."""
    edges: NDArray[np.float64] = _Grid.of(*value_window(kind, activation, leaky_slope)).edges.copy()
    return edges


@dataclass(frozen=True, eq=False)
class Histogram:
    """One kind, one step, every layer (row l of ``counts`` is layer l + 1).

    ``scale`` is "value" (``edges`` are values; bin i holds edges[i] <= v < edges[i+1];
    ``below``: v < edges[0]; ``above``: v >= edges[-1], the top edge included, unlike the last
    bin of ``numpy.histogram``) or "log2" (``edges`` are consecutive powers of two, bin i holds
    edges[i] <= |x| < edges[i+1]; ``below``: exact zeros; ``above``: always 0). The top
    log2 edge is ``inf`` when the data reach 2**1023 (2**1024 overflows); ``log2_edges`` gives
    the exponents. ``nonfinite`` counts inf and nan. All count arrays are int64, and
    counts.sum(1) + below + above + nonfinite is the number of values of each layer.

    ``output_edges``: the last layer's edges when they differ from ``edges`` (value kinds: the
    output layer is linear and binned over the linear window, with as many bins); None when
    every layer uses ``edges``. ``layer_edges(layer)`` picks the right ones.
    """

    kind: str
    scale: str
    edges: NDArray[np.float64]
    counts: NDArray[np.int64]
    below: NDArray[np.int64]
    above: NDArray[np.int64]
    nonfinite: NDArray[np.int64]
    output_edges: NDArray[np.float64] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r}; known: {', '.join(KINDS)}")
        expected = "value" if self.kind in VALUE_KINDS else "log2"
        if self.scale != expected:
            raise ValueError(f"{self.kind} is binned on the {expected!r} scale, not {self.scale!r}")
        edges = self.edges
        if edges.ndim != 1 or edges.size < 2 or not np.all(np.diff(edges) > 0):
            raise ValueError("edges must be one-dimensional, at least two, increasing")
        if self.scale == "log2":
            mantissa, exponent = np.frexp(edges[np.isfinite(edges)])
            if np.any(mantissa != 0.5) or np.any(np.diff(exponent) != 1):
                raise ValueError("log2 edges must be consecutive powers of two")
        if self.counts.ndim != 2 or self.counts.shape[1] != edges.size - 1:
            raise ValueError(f"counts must have shape (depth, {edges.size - 1})")
        for name in ("below", "above", "nonfinite"):
            if getattr(self, name).shape != self.counts.shape[:1]:
                raise ValueError(f"{name} must have shape ({self.counts.shape[0]},)")
        if self.output_edges is not None and self.output_edges.shape != edges.shape:
            raise ValueError("output_edges must have the shape of edges")

    @property
    def depth(self) -> int:
        return int(self.counts.shape[0])

    def layer_edges(self, layer: int) -> NDArray[np.float64]:
        """The edges of ``layer`` (0-based): ``output_edges`` for the last one when set."""
        if not -self.depth <= layer < self.depth:
            raise IndexError(f"layer {layer} of {self.depth}")
        if self.output_edges is not None and layer % self.depth == self.depth - 1:
            return self.output_edges
        return self.edges

    @property
    def log2_edges(self) -> NDArray[np.float64]:
        """For the log2 scale, k of every edge 2**k (finite even where the edge is inf)."""
        if self.scale != "log2":
            raise ValueError("log2_edges exist on the log2 scale only")
        first = int(np.frexp(self.edges[0])[1]) - 1
        return np.arange(first, first + self.edges.size, dtype=np.float64)

    def totals(self) -> NDArray[np.int64]:
        """Number of values of each layer, shape (depth,)."""
        total: NDArray[np.int64] = (
            self.counts.sum(axis=1, dtype=np.int64) + self.below + self.above + self.nonfinite
        )
        return total

    def quantiles(self, layer: int, qs: Sequence[float]) -> NDArray[np.float64]:
        """Approximate quantiles of ``layer``'s finite values (0-based layer).

        Interpolated within bins: linearly on the value scale, geometrically on the log2
        scale (quantiles of |x|; exact zeros count as 0). Values outside a value window are
        taken as lying on its edge, so those quantiles are clamped to the window. All NaN
        when the layer has no finite value.
        """
        q = np.asarray(qs, dtype=np.float64)
        if q.ndim != 1 or not np.all((q >= 0) & (q <= 1)):
            raise ValueError("qs must be a sequence of numbers in [0, 1]")
        edges = self.layer_edges(layer)
        mass = np.concatenate(([self.below[layer]], self.counts[layer], [self.above[layer]]))
        total = int(mass.sum())
        if total == 0:
            return np.full(q.shape, np.nan)
        # Each slot spans [lower, upper]: below/above are points (the window's edges, or 0 for
        # zeros), bins are intervals, in exponents on the log2 scale.
        if self.scale == "value":
            lower = np.concatenate(([edges[0]], edges[:-1], [edges[-1]]))
            upper = np.concatenate(([edges[0]], edges[1:], [edges[-1]]))
        else:
            k = self.log2_edges
            lower = np.concatenate(([0.0], k[:-1], [k[-1]]))
            upper = np.concatenate(([0.0], k[1:], [k[-1]]))
        cumulative = np.cumsum(mass)
        rank = q * total
        last = int(np.flatnonzero(mass)[-1])
        slot = np.minimum(np.searchsorted(cumulative, rank, side="right"), last)
        fraction = np.clip((rank - (cumulative[slot] - mass[slot])) / mass[slot], 0.0, 1.0)
        position = lower[slot] + fraction * (upper[slot] - lower[slot])
        if self.scale == "value":
            values: NDArray[np.float64] = position
            return values
        with np.errstate(over="ignore"):
            magnitudes = np.minimum(np.exp2(position), np.finfo(np.float64).max)
        result: NDArray[np.float64] = np.where(slot == 0, 0.0, magnitudes)
        return result

    @property
    def nbytes(self) -> int:
        arrays = (self.edges, self.counts, self.below, self.above, self.nonfinite)
        extra = 0 if self.output_edges is None else self.output_edges.nbytes
        return sum(a.nbytes for a in arrays) + extra


@dataclass(frozen=True, eq=False)
class StepDistributions:
    """Every kind's histogram of one step (``histograms`` has one entry per kind in KINDS)."""

    step: int
    histograms: dict[str, Histogram]

    @property
    def nbytes(self) -> int:
        return sum(h.nbytes for h in self.histograms.values())


# -- binning --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Grid:
    """``VALUE_BINS`` equal bins over [lo, hi], and how to find a value's bin exactly.

    When the bin width is a power of two and lo a multiple of it (every window except those of
    ELU, SELU, GELU and leaky ReLU), floor(v / width) is exact, so the bin is found in three
    passes. Otherwise the estimate floor((v - lo) / width) can be one bin off next to an edge
    and is corrected against the edges, as numpy.histogram does.
    """

    lo: float
    edges: NDArray[np.float64]
    bounds: NDArray[np.float64]  # slot s (0 below, i + 1 bin i, then above) is [b[s], b[s+1])
    exact: bool
    scale: float  # bins per unit of value

    @staticmethod
    @functools.cache
    def of(lo: float, hi: float) -> _Grid:
        width = (hi - lo) / VALUE_BINS
        exact = float(np.frexp(width)[0]) == 0.5 and (lo / width).is_integer()
        if exact:
            edges = (lo / width + np.arange(VALUE_BINS + 1, dtype=np.float64)) * width
        else:
            edges = np.linspace(lo, hi, VALUE_BINS + 1)
        bounds = np.concatenate(([-np.inf], edges, [np.inf]))
        # Shared by every histogram of this window: nobody may change them.
        edges.flags.writeable = False
        bounds.flags.writeable = False
        return _Grid(lo, edges, bounds, exact, 1.0 / width)


@dataclass(frozen=True)
class _Block:
    """Consecutive layers of equal size in a flat buffer: elements [start, start + rows·cols)."""

    start: int
    layer: int  # index of the first layer
    rows: int
    cols: int

    def chunks(self) -> Iterator[tuple[int, int]]:
        """Row ranges of about ``CHUNK`` values (at least one row each)."""
        step = max(1, CHUNK // self.cols)
        for first in range(0, self.rows, step):
            yield first, min(self.rows, first + step)


def _equal_runs(sizes: Sequence[int], start_layer: int = 0, start: int = 0) -> list[_Block]:
    """Group consecutive layers of equal size into blocks."""
    blocks: list[_Block] = []
    for size in sizes:
        last = blocks[-1] if blocks else None
        if last is not None and last.cols == size:
            blocks[-1] = _Block(last.start, last.layer, last.rows + 1, size)
        else:
            begin = last.start + last.rows * last.cols if last is not None else start
            layer = last.layer + last.rows if last is not None else start_layer
            blocks.append(_Block(begin, layer, 1, size))
    return blocks


class Meter:
    """Histograms of one network's buffers; keeps its scratch arrays from step to step.

    A measurement only reads the network (training stays bit-identical). Not thread-safe:
    one meter per network, used by the thread that steps it.
    """

    def __init__(self, network: Network, activation: str | None = None) -> None:
        cfg = network.config
        self.network = network
        self.activation = cfg.activation if activation is None else activation
        self.depth = network.depth
        batch, hidden = cfg.batch_size, network.hidden
        # Hidden layers, then the output layer on its own: it has its own value window.
        self._signal_blocks = _equal_runs([batch * cfg.width] * hidden) + _equal_runs(
            [batch * network.dims[-1]], hidden, hidden * batch * cfg.width
        )
        self._weight_blocks = _equal_runs(
            [network.dims[l] * network.dims[l + 1] for l in range(self.depth)]
        )
        self._hidden = hidden
        self._grids = {
            kind: _Grid.of(*value_window(kind, self.activation, cfg.leaky_slope))
            for kind in VALUE_KINDS
        }
        self._output_grids = {kind: _Grid.of(*value_window(kind, "linear")) for kind in VALUE_KINDS}
        size = max(
            (min(b.rows, max(1, CHUNK // b.cols)) * b.cols)
            for b in self._signal_blocks + self._weight_blocks
        )
        self._float = np.empty(size, np.float64)
        self._index = np.empty(size, np.intp)
        self._gathered = np.empty(size, np.float64)
        self._mask = np.empty(size, np.bool_)
        self._mantissa = np.empty(size, network.dtype)
        self._exponent = np.empty(size, np.int32)

    def measure(self, step: int) -> StepDistributions:
        """All four kinds from the buffers of the last forward/backward pass."""
        net = self.network
        # The flat per-layer buffers (one contiguous segment per layer): binned in blocks.
        with np.errstate(all="ignore"):
            histograms = {
                "activation": self._values("activation", net._h),
                "preactivation": self._values("preactivation", net._pre),
                "backprop_grad": self._log2("backprop_grad", net._dz, self._signal_blocks),
                "weight_grad": self._log2(
                    "weight_grad", net.grad[: net.n_weights], self._weight_blocks
                ),
            }
        return StepDistributions(step=int(step), histograms=histograms)

    # -- value kinds ------------------------------------------------------------------------

    def _values(self, kind: str, flat: NDArray[np.floating]) -> Histogram:
        # Slots per layer: 0 below, 1..VALUE_BINS the bins, then above, then non-finite.
        slots = VALUE_BINS + 3
        table = np.zeros((self.depth, slots), np.int64)
        for block in self._signal_blocks:
            hidden = block.layer < self._hidden
            grid = self._grids[kind] if hidden else self._output_grids[kind]
            for first, stop in block.chunks():
                rows, cols = stop - first, block.cols
                begin = block.start + first * cols
                values = flat[begin : begin + rows * cols]
                bad = None if _all_finite(values) else ~np.isfinite(values)
                index = self._value_slots(values, grid, bad).reshape(rows, cols)
                row_base = np.arange(rows) * slots
                index += row_base[:, None]
                if bad is not None:
                    last_slot = (row_base + slots - 1)[:, None]
                    np.copyto(index, last_slot, where=bad.reshape(rows, cols))
                layer = block.layer + first
                counts = np.bincount(index.reshape(-1), minlength=rows * slots)
                table[layer : layer + rows] += counts.reshape(rows, slots)
        grid, out_grid = self._grids[kind], self._output_grids[kind]
        differs = not np.array_equal(grid.edges, out_grid.edges)
        return Histogram(
            kind=kind,
            scale="value",
            edges=grid.edges,
            # Copies, so that a kept histogram holds (and nbytes counts) only its own arrays.
            counts=table[:, 1 : VALUE_BINS + 1].copy(),
            below=table[:, 0].copy(),
            above=table[:, VALUE_BINS + 1].copy(),
            nonfinite=table[:, VALUE_BINS + 2].copy(),
            output_edges=out_grid.edges if differs else None,
        )

    def _value_slots(
        self, values: NDArray[np.floating], grid: _Grid, bad: NDArray[np.bool_] | None
    ) -> NDArray[np.intp]:
        """Slot of every value (0 below, i + 1 for bin i, VALUE_BINS + 1 above), in scratch.

        Non-finite values (``bad``) get slot 0 here; the caller gives them their own.
        """
        n = values.size
        t = self._float[:n]
        index = self._index[:n]
        if grid.exact:
            # v·scale is exact (a power of two), and so is its floor: no edge can be missed.
            np.multiply(values, grid.scale, out=t, dtype=np.float64)
            low = round(grid.lo * grid.scale) - 1  # floor values of the "below" slot
            np.floor(t, out=t)
            np.clip(t, low, low + VALUE_BINS + 1, out=t)
            if bad is not None:
                np.copyto(t, low, where=bad)
            np.subtract(t, low, out=index, casting="unsafe")
            return index
        np.subtract(values, grid.lo, out=t, dtype=np.float64)
        t *= grid.scale
        np.floor(t, out=t)
        np.clip(t, -1, VALUE_BINS, out=t)
        if bad is not None:
            np.copyto(t, -1, where=bad)
        np.add(t, 1, out=index, casting="unsafe")
        # The estimate may be one slot off beside an edge: compare with the slot's own bounds.
        mask, gathered = self._mask[:n], self._gathered[:n]
        np.take(grid.bounds, index, out=gathered)
        np.less(values, gathered, out=mask)
        index -= mask
        np.take(grid.bounds, index + 1, out=gathered)
        np.greater_equal(values, gathered, out=mask)
        index += mask
        return index

    # -- log kinds --------------------------------------------------------------------------

    def _log2(self, kind: str, flat: NDArray[np.floating], blocks: list[_Block]) -> Histogram:
        """Octave histogram over the octaves present in this step (all layers together)."""
        zeros = np.zeros(self.depth, np.int64)
        nonfinite = np.zeros(self.depth, np.int64)
        # Per chunk: first layer, frexp exponent of column 0, counts per (row, exponent).
        parts: list[tuple[int, int, NDArray[np.int64]]] = []
        for block in blocks:
            for first, stop in block.chunks():
                rows, cols = stop - first, block.cols
                begin = block.start + first * cols
                values = flat[begin : begin + rows * cols]
                layer = block.layer + first
                n = values.size
                mantissa, exponent = self._mantissa[:n], self._exponent[:n]
                # |x| = |m|·2**e with 0.5 <= |m| < 1: x lies in octave k = e - 1, exactly.
                np.frexp(values, out=(mantissa, exponent))
                # frexp gives zeros (and inf and nan) exponent 0: they leave that column after.
                is_zero = np.equal(mantissa, 0, out=self._mask[:n])
                apart: NDArray[np.intp] | None = None
                if np.count_nonzero(is_zero):
                    apart = np.count_nonzero(is_zero.reshape(rows, cols), axis=1)
                    zeros[layer : layer + rows] = apart
                if not _all_finite(values):
                    bad = ~np.isfinite(values.reshape(rows, cols))
                    np.copyto(exponent.reshape(rows, cols), 0, where=bad)
                    counted = np.count_nonzero(bad, axis=1)
                    nonfinite[layer : layer + rows] = counted
                    apart = counted if apart is None else apart + counted
                low, high = int(exponent.min()), int(exponent.max())
                span = high - low + 1
                index = self._index[:n]
                np.add(
                    exponent.reshape(rows, cols),
                    (np.arange(rows) * span - low)[:, None],
                    out=index.reshape(rows, cols),
                )
                table = np.bincount(index, minlength=rows * span).reshape(rows, span)
                if apart is not None and apart.any():  # then exponent 0 is in the table
                    table[:, -low] -= apart
                parts.append((layer, low, table))
        present = [
            (low + int(used[0]), low + int(used[-1]))
            for _, low, table in parts
            if (used := np.flatnonzero(table.any(axis=0))).size
        ]
        if present:
            e_min = min(lo for lo, _ in present)
            e_max = max(hi for _, hi in present)
        else:  # no finite non-zero value at all: one empty bin, [1, 2)
            e_min = e_max = 1
        counts = np.zeros((self.depth, e_max - e_min + 1), np.int64)
        for layer, low, table in parts:
            lo, hi = max(low, e_min), min(low + table.shape[1] - 1, e_max)
            if lo <= hi:
                rows = table.shape[0]
                counts[layer : layer + rows, lo - e_min : hi - e_min + 1] = table[
                    :, lo - low : hi - low + 1
                ]
        edges = np.ldexp(1.0, np.arange(e_min - 1, e_max + 1))
        return Histogram(
            kind=kind,
            scale="log2",
            edges=edges,
            counts=counts,
            below=zeros,
            above=np.zeros(self.depth, np.int64),
            nonfinite=nonfinite,
        )


def _all_finite(values: NDArray[np.floating]) -> bool:
    """True if every value is finite (False may also mean huge values: their squares overflow).

    inf and nan propagate into a dot product, which is one fast BLAS pass with no temporary.
    """
    return bool(np.isfinite(np.dot(values, values)))


def measure(network: Network, activation: str, step: int) -> StepDistributions:
    """Histograms of every kind from the buffers of ``network``'s last forward/backward pass.

    Call it after the weight gradients are computed: the optimizer changes the weights, never
    the buffers read here. Keep a ``Meter`` instead when measuring repeatedly (it reuses its
    scratch arrays).
    """
    return Meter(network, activation).measure(step)


# -- history --------------------------------------------------------------------------------


class DistributionHistory:
    """Recorded ``StepDistributions``, oldest first, within ``budget_bytes`` (default 64 MB).

    At depth 100, width 64, one step's histograms take ~150 kB, so 64 MB hold ~400 steps
    densely. When the budget is exceeded the newest entries worth half the budget stay
    dense, and the older ones are thinned to the first entry of every ``stride`` steps, the
    stride doubling until they fit in a quarter of the budget (as ``Recorder`` does for the
    statistics): the whole run stays represented at an even resolution, its first entry is
    always kept and so is the newest. Entries are immutable; reads take a lock, so one thread
    may append while another reads.
    """

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> None:
        if budget_bytes < 1:
            raise ValueError(f"budget_bytes must be positive, got {budget_bytes}")
        self.budget_bytes = int(budget_bytes)
        self.stride = 1
        self._entries: list[StepDistributions] = []
        self._steps: list[int] = []
        self._nbytes = 0
        self._lock = threading.Lock()

    def append(self, d: StepDistributions) -> None:
        """Record one step's histograms; steps must be strictly increasing."""
        with self._lock:
            if self._steps and d.step <= self._steps[-1]:
                raise ValueError(
                    f"steps must be strictly increasing: got step {d.step} after {self._steps[-1]}"
                )
            self._entries.append(d)
            self._steps.append(int(d.step))
            self._nbytes += d.nbytes
            if self._nbytes > self.budget_bytes:
                self._compact()

    def _compact(self) -> None:
        sizes = [e.nbytes for e in self._entries]
        recent, recent_bytes = len(sizes) - 1, sizes[-1]  # the newest always stays
        while recent > 0 and recent_bytes + sizes[recent - 1] <= self.budget_bytes // 2:
            recent -= 1
            recent_bytes += sizes[recent]
        old = np.asarray(self._steps[:recent], dtype=np.int64)
        keep = np.zeros(old.size, np.bool_)
        while old.size:
            bucket = old // self.stride
            keep[0] = True
            keep[1:] = bucket[1:] != bucket[:-1]
            kept_bytes = sum(sizes[i] for i in np.flatnonzero(keep).tolist())
            if kept_bytes <= self.budget_bytes // 4 or np.count_nonzero(keep) <= 1:
                break
            self.stride *= 2
        index = [*np.flatnonzero(keep).tolist(), *range(recent, len(sizes))]
        self._entries = [self._entries[i] for i in index]
        self._steps = [self._steps[i] for i in index]
        self._nbytes = sum(sizes[i] for i in index)

    def __len__(self) -> int:
        return len(self._steps)

    @property
    def steps(self) -> NDArray[np.int64]:
        """The recorded steps, strictly increasing (a copy)."""
        with self._lock:
            return np.asarray(self._steps, dtype=np.int64)

    def entries(self) -> list[StepDistributions]:
        """Every recorded entry, oldest first (a new list of the immutable entries)."""
        with self._lock:
            return list(self._entries)

    def at(self, step: int) -> StepDistributions | None:
        """The newest entry recorded at or before ``step``; None if there is none."""
        with self._lock:
            i = bisect.bisect_right(self._steps, step) - 1
            return self._entries[i] if i >= 0 else None

    def over_time(
        self, kind: str, layer: int, qs: Sequence[float]
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Steps (n,) and quantiles (n, len(qs)) of one kind and layer (0-based): percentile
        bands over the run, as TensorBoard draws them."""
        if kind not in KINDS:
            raise KeyError(f"unknown kind {kind!r}; known: {', '.join(KINDS)}")
        entries = self.entries()
        steps = np.array([e.step for e in entries], dtype=np.int64)
        bands = np.empty((len(entries), len(qs)), dtype=np.float64)
        for row, entry in enumerate(entries):
            bands[row] = entry.histograms[kind].quantiles(layer, qs)
        return steps, bands

    @property
    def nbytes(self) -> int:
        """Memory held by the recorded histograms (at most the budget, bar one huge entry)."""
        return self._nbytes

    def __repr__(self) -> str:
        return (
            f"DistributionHistory(entries={len(self)}, nbytes={self._nbytes}, "
            f"budget_bytes={self.budget_bytes}, stride={self.stride})"
        )
