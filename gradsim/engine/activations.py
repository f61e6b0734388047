"""Activation functions and their derivatives, evaluated together.

``evaluate(name, z, slope)`` returns ``(phi(z), phi'(z))``. Both are needed on every forward
pass (the derivative for backprop and the saturation statistic), so computing them together
saves passes over the data. GELU uses the tanh approximation (numpy has no erf), and its
derivative is the exact derivative of that approximation, so finite differences agree.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

SELU_LAMBDA = 1.0507009873554805
SELU_ALPHA = 1.6732632423543772
_GELU_C = float(np.sqrt(2.0 / np.pi))
_GELU_K = 0.044715

Pair = tuple[np.ndarray, np.ndarray]


def _linear(z: np.ndarray, slope: float) -> Pair:
    return z, np.ones_like(z)


def _sigmoid(z: np.ndarray, slope: float) -> Pair:
    # 0.5 * (1 + tanh(z/2)) never overflows, unlike 1 / (1 + exp(-z)).
    s = np.tanh(0.5 * z)
    s += 1.0
    s *= 0.5
    return s, s * (1.0 - s)


def _tanh(z: np.ndarray, slope: float) -> Pair:
    t = np.tanh(z)
    return t, 1.0 - t * t


def _relu(z: np.ndarray, slope: float) -> Pair:
    # np.maximum propagates NaN, so a diverged value is not silently turned into 0.
    return np.maximum(z, 0.0), (z > 0).astype(z.dtype)


def _leaky_relu(z: np.ndarray, slope: float) -> Pair:
    positive = z > 0
    d = np.where(positive, 1.0, slope).astype(z.dtype, copy=False)
    return z * d, d


def _elu_parts(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    positive = z > 0
    # expm1 of a large positive z would overflow; those entries are not used.
    e = np.expm1(np.minimum(z, 0.0))
    return positive, e


def _elu(z: np.ndarray, slope: float) -> Pair:
    positive, e = _elu_parts(z)
    return np.where(positive, z, e), np.where(positive, 1.0, e + 1.0).astype(z.dtype, copy=False)


def _selu(z: np.ndarray, slope: float) -> Pair:
    positive, e = _elu_parts(z)
    h = SELU_LAMBDA * np.where(positive, z, SELU_ALPHA * e)
    d = SELU_LAMBDA * np.where(positive, 1.0, SELU_ALPHA * (e + 1.0))
    return h.astype(z.dtype, copy=False), d.astype(z.dtype, copy=False)


def _gelu(z: np.ndarray, slope: float) -> Pair:
    z2 = z * z
    inner = _GELU_C * (z + _GELU_K * z * z2)
    t = np.tanh(inner)
    h = 0.5 * z * (1.0 + t)
    d = 0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * _GELU_C * (1.0 + 3.0 * _GELU_K * z2)
    # For huge |z|, z * (1 - t^2) is 0 * inf = nan although the limit is 0 or 1.
    d = np.where(np.isfinite(d), d, np.where(z > 0, 1.0, 0.0)).astype(z.dtype, copy=False)
    return h, d


ACTIVATION_FUNCTIONS: dict[str, Callable[[np.ndarray, float], Pair]] = {
    "linear": _linear,
    "sigmoid": _sigmoid,
    "tanh": _tanh,
    "relu": _relu,
    "leaky_relu": _leaky_relu,
    "elu": _elu,
    "selu": _selu,
    "gelu": _gelu,
}


def evaluate(name: str, z: np.ndarray, slope: float = 0.01) -> Pair:
    """Return ``(phi(z), phi'(z))`` for the named activation, in ``z``'s dtype."""
    return ACTIVATION_FUNCTIONS[name](z, slope)
