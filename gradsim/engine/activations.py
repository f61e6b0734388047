"""Activation functions and their derivatives, evaluated together into given buffers.

``evaluate_into(name, z, h, d, slope)`` writes phi(z) into ``h`` and phi'(z) into ``d``. Both are
needed on every forward pass (the derivative for backprop and the saturation statistic), and
writing into the network's preallocated buffers avoids temporaries on the hot path. GELU uses
the tanh approximation (numpy has no erf); its derivative is the exact derivative of that
approximation, so finite differences agree. ``z`` and ``h`` may be the same array.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

SELU_LAMBDA = 1.0507009873554805
SELU_ALPHA = 1.6732632423543772
_GELU_C = float(np.sqrt(2.0 / np.pi))
_GELU_K = 0.044715

# The network's buffers: float32 or float64, as the config's dtype says.
Floats = NDArray[np.floating]
Kernel = Callable[[Floats, Floats, Floats, float], None]


def _linear(z: Floats, h: Floats, d: Floats, slope: float) -> None:
    if h is not z:
        h[...] = z
    d.fill(1.0)


def _sigmoid(z: Floats, h: Floats, d: Floats, slope: float) -> None:
    # 0.5 * (1 + tanh(z/2)) never overflows, unlike 1 / (1 + exp(-z)).
    np.multiply(z, 0.5, out=h)
    np.tanh(h, out=h)
    h += 1.0
    h *= 0.5
    np.subtract(1.0, h, out=d)
    d *= h


def _tanh(z: Floats, h: Floats, d: Floats, slope: float) -> None:
    np.tanh(z, out=h)
    np.multiply(h, h, out=d)
    np.subtract(1.0, d, out=d)


def _relu(z: Floats, h: Floats, d: Floats, slope: float) -> None:
    np.greater(z, 0.0, out=d)
    # np.maximum propagates NaN, so a diverged value is not silently turned into 0.
    np.maximum(z, 0.0, out=h)


def _leaky_relu(z: Floats, h: Floats, d: Floats, slope: float) -> None:
    np.greater(z, 0.0, out=d)
    d *= 1.0 - slope
    d += slope
    np.multiply(z, d, out=h)


def _elu_like(z: Floats, h: Floats, d: Floats, scale: float, alpha: float) -> None:
    positive = z > 0
    # expm1 of a large positive z would overflow; those entries are not used.
    e = np.expm1(np.minimum(z, 0.0))
    np.multiply(e, alpha * scale, out=d)
    d += alpha * scale  # phi'(z) = scale * alpha * exp(z) for z <= 0
    np.copyto(d, scale, where=positive)
    np.multiply(e, alpha * scale, out=e)
    np.copyto(e, z * scale, where=positive)
    h[...] = e


def _elu(z: Floats, h: Floats, d: Floats, slope: float) -> None:
    _elu_like(z, h, d, 1.0, 1.0)


def _selu(z: Floats, h: Floats, d: Floats, slope: float) -> None:
    _elu_like(z, h, d, SELU_LAMBDA, SELU_ALPHA)


def _gelu(z: Floats, h: Floats, d: Floats, slope: float) -> None:
    z2 = z * z
    t = np.tanh(_GELU_C * (z + _GELU_K * z * z2))
    deriv = 0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * _GELU_C * (1.0 + 3.0 * _GELU_K * z2)
    # For huge |z|, z * (1 - t^2) is 0 * inf = nan although the limit is 0 or 1.
    d[...] = np.where(np.isfinite(deriv), deriv, np.where(z > 0, 1.0, 0.0))
    np.multiply(0.5 * z, 1.0 + t, out=h)


ACTIVATION_KERNELS: dict[str, Kernel] = {
    "linear": _linear,
    "sigmoid": _sigmoid,
    "tanh": _tanh,
    "relu": _relu,
    "leaky_relu": _leaky_relu,
    "elu": _elu,
    "selu": _selu,
    "gelu": _gelu,
}


def evaluate_into(name: str, z: Floats, h: Floats, d: Floats, slope: float) -> None:
    """Write phi(z) into ``h`` and phi'(z) into ``d`` for the named activation."""
    ACTIVATION_KERNELS[name](z, h, d, slope)


def evaluate(name: str, z: Floats, slope: float = 0.01) -> tuple[Floats, Floats]:
    """Return ``(phi(z), phi'(z))`` as new arrays (for tests and the theory module)."""
    h, d = np.empty_like(z), np.empty_like(z)
    evaluate_into(name, z, h, d, slope)
    return h, d
