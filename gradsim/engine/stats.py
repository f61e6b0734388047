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
    """RMS of consecutive segments of ``flat`` starting at ``offsets``, without overflow.

    Squaring a value above ~1e154 (float64) overflows even though its RMS is representable,
    and squaring one below ~1e-154 underflows to 0; both happen in exploding and vanishing
    nets. Segments whose maximum is in a safe range use the plain formula; the others are
    divided by their maximum first. Both give exact power-of-two ratios for scaled copies.
    """
    return segment_norm(flat, offsets) / np.sqrt(counts)


def segment_norm(flat: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Euclidean norm of consecutive segments of ``flat`` (see ``segment_rms``)."""
    with np.errstate(all="ignore"):
        absval = np.abs(flat)
        peak = np.maximum.reduceat(absval, offsets).astype(np.float64)
        safe = (peak > 1e-140) & (peak < 1e140)
        squares = np.square(absval, dtype=np.float64)
        norms = np.sqrt(np.add.reduceat(squares, offsets))
        if not safe.all():
            sizes = np.diff(np.append(offsets, flat.size))
            scale = np.where(np.isfinite(peak) & (peak > 0), peak, 1.0)
            scaled = absval / np.repeat(scale, sizes)
            rescaled = scale * np.sqrt(np.add.reduceat(np.square(scaled), offsets))
            # Infinite or NaN peaks keep their value: the norm is inf or nan, as it should be.
            rescaled = np.where(np.isfinite(peak), rescaled, peak)
            norms = np.where(safe, norms, rescaled)
    return norms


def safe_norm(values: np.ndarray) -> float:
    """Euclidean norm of a whole array, without intermediate overflow."""
    return float(segment_norm(values.ravel(), np.zeros(1, dtype=np.intp))[0])
