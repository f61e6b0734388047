"""Per-step, per-layer statistics: names, the record of one step, and overflow-safe norms."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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

# Derivative below which a unit counts as saturated (sigmoid/tanh tails, dead ReLU).
SATURATION_THRESHOLD = 0.05


@dataclass(frozen=True)
class StepStats:
    """What one training step measured.

    ``layers[name]`` is a float64 array of length ``depth``; index 0 is layer 1 (the input
    side). All values are taken on the step's forward/backward pass before its update, except
    ``update_ratio``, which describes the update itself (NaN when no update was applied).
    """

    step: int
    loss: float
    accuracy: float  # NaN for regression
    layers: dict[str, np.ndarray]
    diverged: bool = False
    divergence_reason: str | None = None


def segment_rms(flat: np.ndarray, offsets: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """RMS of consecutive segments of ``flat`` starting at ``offsets`` (see ``segment_norm``)."""
    return segment_norm(flat, offsets) / np.sqrt(counts)


def segment_norm(flat: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Euclidean norm of consecutive segments of ``flat`` starting at ``offsets``.

    Each segment's sum of squares is one BLAS dot product (one pass, no temporary array): this
    runs on every training step over every weight, so it must cost little next to the step's
    matrix products. Squaring overflows above ~1e154 (float64) although the norm is
    representable, and underflows to 0 below ~1e-154; both happen in exploding and vanishing
    nets. Those rare segments are recomputed after dividing by their largest entry. Both ways
    give exact power-of-two ratios for copies scaled by powers of two.
    """
    ends = np.append(offsets[1:], flat.size)
    squares = np.empty(len(offsets), dtype=np.float64)
    with np.errstate(all="ignore"):
        for i, (start, end) in enumerate(zip(offsets.tolist(), ends.tolist(), strict=True)):
            segment = flat[start:end]
            squares[i] = np.dot(segment, segment)
    return norms_from_squares(flat, offsets, squares)


def norms_from_squares(flat: np.ndarray, offsets: np.ndarray, squares: np.ndarray) -> np.ndarray:
    """Finish ``segment_norm`` from sums of squares computed elsewhere (e.g. while hot in cache).

    Segments whose sum of squares overflowed, or may have lost precision to underflow, are
    recomputed carefully from ``flat``.
    """
    ends = np.append(offsets[1:], flat.size)
    with np.errstate(all="ignore"):
        norms = np.sqrt(squares)
        threshold = np.finfo(flat.dtype).tiny / np.finfo(flat.dtype).eps
        for i in np.flatnonzero(~np.isfinite(squares) | (squares < threshold)):
            norms[i] = _careful_norm(flat[offsets[i] : ends[i]])
    return norms


def _careful_norm(values: np.ndarray) -> float:
    """Norm of a segment whose plain sum of squares over- or underflowed."""
    peak = float(np.max(np.abs(values))) if values.size else 0.0
    if not np.isfinite(peak) or peak == 0.0:
        return float("nan") if np.isnan(values).any() else peak
    scaled = values.astype(np.float64) / peak
    return peak * float(np.sqrt(np.dot(scaled, scaled)))


def safe_norm(values: np.ndarray) -> float:
    """Euclidean norm of a whole array, without intermediate overflow."""
    return float(segment_norm(values.ravel(), np.zeros(1, dtype=np.intp))[0])
