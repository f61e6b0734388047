"""Losses with their gradients with respect to the prediction."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def mse(
    prediction: NDArray[np.floating], targets: NDArray[np.floating]
) -> tuple[float, NDArray[np.floating]]:
    """Mean over all entries of (y - t)²; returns (loss, dLoss/dy)."""
    diff = prediction - targets
    loss = float(np.mean(np.square(diff, dtype=np.float64)))
    return loss, diff * (2.0 / diff.size)


def cross_entropy(
    prediction: NDArray[np.floating], labels: NDArray[np.integer]
) -> tuple[float, NDArray[np.floating]]:
    """Softmax cross-entropy averaged over the batch; returns (loss, dLoss/dlogits)."""
    batch = prediction.shape[0]
    shifted = prediction - prediction.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    log_prob = shifted[np.arange(batch), labels] - np.log(total[:, 0])
    loss = float(-np.mean(log_prob, dtype=np.float64))
    grad = exp / total
    grad[np.arange(batch), labels] -= 1.0
    grad /= batch
    return loss, grad


def accuracy(prediction: NDArray[np.floating], labels: NDArray[np.integer]) -> float:
    """Fraction of rows whose largest output is the right class."""
    return float(np.mean(np.argmax(prediction, axis=1) == labels))
