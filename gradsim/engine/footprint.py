"""How much memory (and time per step) a config needs, known before anything is allocated.

A network too big for the machine used to be found out by ``MemoryError`` or, worse, by the
kernel's OOM killer (depth 2000 x width 1024 is 2.1 G weights: some 50 GB in float64).
``estimate`` counts, by arithmetic on the config alone, the arrays the engine allocates:

- ``parameters``, ``gradients``: ``Network.params`` and ``Network.grad`` (weights, biases,
  BatchNorm scales and shifts, one flat vector each);
- ``optimizer``: ``Optimizer``'s step buffer, plus momentum's velocity and Adam's two moments,
  and the network's per-matrix step buffer (fused SGD);
- ``activations``: the per-layer buffers for one batch (z, h, dz, phi', BatchNorm's
  pre-activations and normalised inputs);
- ``data``: the data set (``max(DATASET_SIZE, batch_size)`` rows of inputs and targets);
- ``recorder``: the recorder's capped budget (``Recorder.cell_budget`` float64 cells);
- ``histograms``: the distributions meter's scratch arrays;
- ``scratch``: the largest temporaries alive at once (weight initialisation in float64,
  Adam's elementwise temporaries, a careful norm of an overflowing matrix).

It is an estimate of the peak, accurate to some tens of percent (tests/engine/test_footprint.py
compares it with tracemalloc; benchmarks/bench_footprint.py with the process's peak RSS).
``check_fits`` refuses a config whose estimate exceeds ``FIT_FRACTION`` of the memory the
system says is available, with the estimate in the message. Pure arithmetic: cheap enough to
run on every edit of the settings panel.
"""

from __future__ import annotations

import inspect
import itertools
import os
from dataclasses import dataclass
from pathlib import Path

from gradsim.engine.config import Config, ConfigError
from gradsim.engine.data import DATASET_SIZE
from gradsim.engine.distributions import CHUNK
from gradsim.engine.recording import Recorder
from gradsim.engine.stats import STAT_NAMES

# Refuse a config that needs more than this share of the available memory: the rest of the
# process (Python, numpy, Qt in the app) and the system need some too.
FIT_FRACTION = 0.8

# Step-time model: a step costs about 3 matrix products over the weights (forward, the
# backward signal, the weight gradient: 3·batch·weights multiply-adds), some passes over the
# parameter vector (norms, update), some over the activation buffers, and Python overhead per
# layer. Measured once with ``benchmarks/bench_footprint.py --calibrate`` on the development
# machine (x86-64, one BLAS thread as the app's worker runs, float64): Simulation.step timed
# for wide-shallow (2 x 2048), narrow-deep (2000 x 16) and mid-size nets, each constant set
# from the configs where its term dominates; the model is then within 1.5x of all seven
# measured sizes. Only the order of magnitude matters.
SECONDS_PER_MULTIPLY_ADD = 4e-11  # float64 BLAS, one thread (~25 G multiply-adds/s)
SECONDS_PER_BYTE_PASSED = 1e-10  # streaming a buffer from memory (~10 GB/s)
PARAMETER_PASSES = 4  # norms of weights and gradients, the update, the divergence checks
ACTIVATION_PASSES = 12  # activation function, derivative, statistics, BatchNorm
SECONDS_PER_LAYER = 1.5e-5  # numpy call overhead per layer per step


@dataclass(frozen=True)
class Footprint:
    """Estimated peak bytes (with their parts, by name) and seconds per training step."""

    bytes: int
    parts: dict[str, int]
    step_seconds: float

    def summary(self) -> str:
        """'needs about 1.2 GB, ~0.8 s a step'."""
        return (
            f"needs about {format_bytes(self.bytes)}, ~{format_seconds(self.step_seconds)} a step"
        )


def estimate(config: Config, *, record: bool = True) -> Footprint:
    """What a ``Simulation(config, record=record)`` allocates at its peak, and a step's time.

    Parts of under a megabyte are left out of ``parts`` (never out of ``bytes``).
    """
    item = 8 if config.dtype == "float64" else 4
    depth, width, batch = config.depth, config.width, config.batch_size
    dims = [config.input_dim] + [width] * (depth - 1) + [config.output_dim]
    hidden = depth - 1
    batchnorm = config.batchnorm and hidden > 0
    w_sizes = [dims[l] * dims[l + 1] for l in range(depth)]
    weights = sum(w_sizes)
    biggest = max(w_sizes)
    n_params = (
        weights + (sum(dims[1:]) if config.bias else 0) + (2 * width * hidden if batchnorm else 0)
    )

    signals = batch * sum(dims[1:])  # one (batch, n_l) segment per layer
    hidden_signals = batch * width * hidden
    activation_buffers = 3 * signals + hidden_signals  # z, h, dz; phi'
    if batchnorm:
        activation_buffers += signals + hidden_signals  # pre-activations; x-hat per layer

    state = {"sgd": 1, "momentum": 2, "adam": 3}.get(config.optimizer, 3)  # delta (+ m, v)
    rows = max(DATASET_SIZE, batch)
    # CSV data is the file's rows: at least the batch; the generated sets have ``rows``.
    data_rows = batch if config.dataset == "csv" else rows
    data = data_rows * (config.input_dim + config.output_dim) * item + data_rows * 8  # + labels

    recorder = 0
    if record:
        capacity = max(256, _RECORDER_BUDGET // (depth * len(STAT_NAMES)))
        recorder = capacity * (depth * len(STAT_NAMES) + 3) * 8

    # Meter: float64, intp, float64, bool, dtype and int32 scratch of its largest block.
    block = max(
        _meter_block([batch * width] * hidden),
        _meter_block([batch * config.output_dim]),
        _meter_block(w_sizes),
    )
    histograms = block * (8 + 8 + 8 + 1 + item + 4)

    # Transients: initialisation draws each matrix in float64 (orthogonal: QR of it too);
    # Adam holds two parameter-sized temporaries; a careful norm copies a matrix to float64.
    init = biggest * 8 * (3 if config.init == "orthogonal" else 1)
    adam = 2 * n_params * item if config.optimizer == "adam" else 0
    momentum = n_params * item if config.optimizer == "momentum" and config.grad_clip > 0 else 0
    careful = biggest * (item + 16)
    step_temps = 4 * batch * width * item + batch * width * hidden  # BN/residual temps; mask
    scratch = max(init, adam + momentum, careful) + step_temps + data_rows * config.input_dim * 16

    parts = {
        "parameters": n_params * item,
        "gradients": n_params * item,
        "optimizer": state * n_params * item + biggest * item,
        "activations": activation_buffers * item,
        "data": data,
        "recorder": recorder,
        "histograms": histograms,
        "scratch": scratch,
    }
    total = sum(parts.values())
    shown = {name: size for name, size in parts.items() if size >= 1_000_000}
    return Footprint(
        bytes=int(total),
        parts=shown,
        step_seconds=_step_seconds(config, weights, n_params, signals, item),
    )


# Recorder's default cell budget (the constructor's default argument).
_RECORDER_BUDGET: int = inspect.signature(Recorder).parameters["cell_budget"].default


def _meter_block(sizes: list[int]) -> int:
    """The largest scratch a Meter needs for runs of equal-sized segments (as it chunks them)."""
    return max(
        (
            min(sum(1 for _ in run), max(1, CHUNK // cols)) * cols
            for cols, run in itertools.groupby(sizes)
        ),
        default=0,
    )


def _step_seconds(config: Config, weights: int, n_params: int, signals: int, item: int) -> float:
    precision = item / 8  # float32 products and passes take about half as long
    products = 3 * config.batch_size * weights * SECONDS_PER_MULTIPLY_ADD * precision
    passes = (
        PARAMETER_PASSES * n_params * item + ACTIVATION_PASSES * signals * item
    ) * SECONDS_PER_BYTE_PASSED
    return products + passes + config.depth * SECONDS_PER_LAYER


def available_bytes() -> int | None:
    """Memory the system can give this process now, or None when it cannot say.

    Linux: MemAvailable from /proc/meminfo (free memory plus what caches would give back),
    capped by the cgroup's limit (a container's memory.max) where one is set. Other Unix:
    free physical pages. None elsewhere: then nothing is refused.
    """
    available = _meminfo_available()
    if available is None:
        try:
            available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, ValueError, OSError):
            return None
        if available <= 0:
            return None
    room = _cgroup_room()
    return available if room is None else min(available, room)


def _meminfo_available() -> int | None:
    try:
        text = Path("/proc/meminfo").read_text(encoding="ascii")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("MemAvailable:"):
            fields = line.split()
            try:
                return int(fields[1]) * 1024  # kB
            except (IndexError, ValueError):
                return None
    return None


def _cgroup_room() -> int | None:
    """What the cgroup v2 limit leaves (memory.max - memory.current), None without a limit."""
    base = Path("/sys/fs/cgroup")
    try:
        limit = (base / "memory.max").read_text(encoding="ascii").strip()
        if limit == "max":
            return None
        current = (base / "memory.current").read_text(encoding="ascii").strip()
        return max(0, int(limit) - int(current))
    except (OSError, ValueError):
        return None


def check_fits(config: Config, *, record: bool = True) -> Footprint:
    """The config's footprint; ConfigError when it exceeds ``FIT_FRACTION`` of free memory."""
    footprint = estimate(config, record=record)
    free = available_bytes()
    if free is not None and footprint.bytes > FIT_FRACTION * free:
        largest = sorted(footprint.parts.values(), reverse=True)[:4]
        parts = ", ".join(
            f"{name} {format_bytes(size)}"
            for name, size in footprint.parts.items()
            if size >= largest[-1]
        )
        raise ConfigError(
            f"this network needs about {format_bytes(footprint.bytes)} of memory ({parts}) "
            f"but only {format_bytes(free)} are free: make it shallower or narrower"
        )
    return footprint


def format_bytes(size: float) -> str:
    """'54 GB', '1.2 GB', '350 MB', '12 kB' (decimal units)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            value = size / scale
            return f"{value:.1f} {unit}" if value < 10 else f"{value:.0f} {unit}"
    return f"{size:.0f} B"


def format_seconds(seconds: float) -> str:
    """'0.8 s', '12 s', '40 ms'."""
    if seconds >= 10:
        return f"{seconds:.0f} s"
    if seconds >= 0.1:
        return f"{seconds:.1f} s"
    return f"{seconds * 1000:.0f} ms"
