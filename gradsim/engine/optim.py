"""Optimizers acting on one flat parameter vector (one numpy call per step, not per layer)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

ADAM_BETA2 = 0.999
ADAM_EPS = 1e-8


class Optimizer:
    """Computes the step ``delta`` so that ``params -= delta``.

    ``scale`` (gradient clipping) multiplies the gradient without touching it in memory.
    """

    def __init__(self, name: str, size: int, dtype: np.dtype[np.floating]) -> None:
        self.name = name
        self._t = 0
        self._m = np.zeros(size, dtype) if name in ("momentum", "adam") else None
        self._v = np.zeros(size, dtype) if name == "adam" else None
        self._delta = np.empty(size, dtype)

    def step(
        self,
        params: NDArray[np.floating],
        grad: NDArray[np.floating],
        lr: float,
        momentum: float,
        scale: float,
    ) -> NDArray[np.floating]:
        """Update ``params`` in place; return the applied step (params_old - params_new).

        Plain SGD has no state and may be given a tail of the parameter vector.
        """
        delta = self._delta[: params.size]
        if self.name == "sgd":
            np.multiply(grad, lr * scale, out=delta)
        elif self.name == "momentum":
            m = self._m
            assert m is not None  # allocated for "momentum" and "adam"
            m *= momentum
            m += grad if scale == 1.0 else grad * scale
            np.multiply(m, lr, out=delta)
        else:
            self._t += 1
            beta1 = momentum
            g = grad if scale == 1.0 else grad * scale
            m, v = self._m, self._v
            assert m is not None and v is not None  # allocated for "adam"
            m *= beta1
            m += (1.0 - beta1) * g
            v *= ADAM_BETA2
            v += (1.0 - ADAM_BETA2) * np.square(g)
            m_hat_scale = lr / (1.0 - beta1**self._t)
            v_hat_scale = 1.0 / (1.0 - ADAM_BETA2**self._t)
            np.sqrt(v * v_hat_scale, out=delta)
            delta += ADAM_EPS
            np.divide(m, delta, out=delta)
            delta *= m_hat_scale
        params -= delta
        return delta
