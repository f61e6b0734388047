"""Per-step, per-layer statistics: names, the record of one step, and overflow-safe norms."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from gradsim.engine.distributions import StepDistributions

# Column names of the export and entries of the app's metric menu; keep them stable.
STAT_NAMES: tuple[str, ...] = (
    "activation_rms",
    "preactivation_rms",
    "backprop_grad_rms",
    "weight_grad_norm",
    "weight_norm",
    "update_ratio",
    "saturation",
)

STAT_DESCRIPTIONS: dict[str, str] = {
    "activation_rms": "RMS of the layer's output h_l (for the last layer, the prediction)",
    "preactivation_rms": "RMS of the activation function's input (after BatchNorm when on)",
    "backprop_grad_rms": "RMS of the gradient back-propagated to the pre-activation z_l",
    "weight_grad_norm": "Frobenius norm of the loss gradient with respect to W_l",
    "weight_norm": "Frobenius norm of W_l",
    "update_ratio": "||dW_l|| / ||W_l|| for this step's update",
    "saturation": "Fraction of units with activation derivative below 0.05",
}

# What each statistic is, in words first (menus, titles, axes); the code names above stay in
# exports and tooltips. ``STAT_SHORT`` fits a colour bar's or an axis's length.
STAT_TITLES: dict[str, str] = {
    "activation_rms": "signal leaving the layer (RMS of h)",
    "preactivation_rms": "signal entering the activation (RMS of z)",
    "backprop_grad_rms": "gradient reaching the layer (RMS of ∂loss/∂z)",
    "weight_grad_norm": "gradient of the weights (‖∂loss/∂W‖)",
    "weight_norm": "size of the weights (‖W‖)",
    "update_ratio": "relative weight update (‖ΔW‖ / ‖W‖)",
    "saturation": "saturated units (share with σ′ < 0.05)",
}
STAT_SHORT: dict[str, str] = {
    "activation_rms": "signal h (RMS)",
    "preactivation_rms": "signal z (RMS)",
    "backprop_grad_rms": "∂loss/∂z (RMS)",  # an axis label as long as a short plot
    "weight_grad_norm": "‖∂loss/∂W‖",
    "weight_norm": "‖W‖",
    "update_ratio": "‖ΔW‖ / ‖W‖",
    "saturation": "saturated share",
}
# Fractions live in [0, 1] and are drawn on a linear scale; the others span decades.
FRACTION_STATS: frozenset[str] = frozenset({"saturation"})


def stat_applies(name: str, depth: int, activation: str) -> NDArray[np.bool_]:
    """Layers (index 0 = layer 1) whose ``name`` statistic means something; the others are
    "n/a", never a value: saturation needs an activation function, and the output layer (and
    every layer of a linear net) has none."""
    applies = np.ones(depth, dtype=np.bool_)
    if name == "saturation":
        applies[-1] = False
        if activation == "linear":
            applies[:] = False
    return applies


# Derivative below which a unit counts as saturated (sigmoid/tanh tails, dead ReLU).
SATURATION_THRESHOLD = 0.05


@dataclass(frozen=True)
class StepStats:
    """What one training step measured.

    ``layers[name]`` is a float64 array of length ``depth``; index 0 is layer 1 (the input
    side). All values are taken on the step's forward/backward pass before its update, except
    ``update_ratio``, which describes the update itself (NaN when no update was applied, or
    when ‖W‖ is 0 or too small for the ratio to be a float).
    ``distributions``: the per-layer histograms of this step's pass, on the steps that measured
    them (see ``Simulation``), else None.
    """

    step: int
    loss: float
    accuracy: float  # NaN for regression
    layers: dict[str, NDArray[np.float64]]
    diverged: bool = False
    divergence_reason: str | None = None
    distributions: StepDistributions | None = None


def segment_norm(flat: NDArray[np.floating], offsets: NDArray[np.intp]) -> NDArray[np.float64]:
    """Euclidean norm of consecutive segments of ``flat`` starting at ``offsets``."""
    bounds = [*offsets.tolist(), flat.size]
    return norms([flat[start:end] for start, end in itertools.pairwise(bounds)])


def norms(
    segments: Sequence[NDArray[np.floating]], squares: NDArray[np.float64] | None = None
) -> NDArray[np.float64]:
    """Euclidean norm of each 1-D array in ``segments``, without over- or underflow.

    Each sum of squares is one BLAS dot product (one pass, no temporary array): this runs on
    every training step over every weight, so it must cost little next to the step's matrix
    products. ``squares`` may be given when they were computed elsewhere (while the data was
    still in cache). Squaring overflows above ~1e154 (float64) although the norm is
    representable, and loses everything below ~1e-154; both happen in exploding and vanishing
    nets. Those rare segments are recomputed after dividing by their largest entry. Both ways
    give exact power-of-two ratios for copies scaled by powers of two.
    """
    with np.errstate(all="ignore"):
        if squares is None:
            squares = np.array([np.dot(seg, seg) for seg in segments], dtype=np.float64)
        result: NDArray[np.float64] = np.sqrt(squares)
        # NaN fails the comparison too, so NaN segments also take the careful path.
        suspect = ~(squares >= _underflow_threshold(segments[0].dtype)) | ~np.isfinite(squares)
        if suspect.any():
            for i in np.flatnonzero(suspect).tolist():
                result[i] = _careful_norm(segments[i])
    return result


@functools.cache
def _underflow_threshold(dtype: np.dtype[np.floating]) -> float:
    """Below this sum of squares, squaring may have flushed entries to zero or subnormals."""
    info = np.finfo(dtype)
    return float(info.tiny / info.eps)


def _careful_norm(values: NDArray[np.floating]) -> float:
    """Norm of a segment whose plain sum of squares over- or underflowed."""
    peak = float(np.max(np.abs(values))) if values.size else 0.0
    if not np.isfinite(peak) or peak == 0.0:
        return float("nan") if np.isnan(values).any() else peak
    scaled = values.astype(np.float64) / peak
    return peak * float(np.sqrt(np.dot(scaled, scaled)))


def safe_norm(values: NDArray[np.floating]) -> float:
    """Euclidean norm of a whole array, without intermediate overflow."""
    return float(norms([values.reshape(-1)])[0])
