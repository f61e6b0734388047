"""Weight initialisation schemes.

``init_gain`` multiplies each scheme's standard deviation (for identity: W = gain·I). The
theory module relies on ``weight_std`` giving the entry standard deviation each scheme uses.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from gradsim.engine.config import Config


def weight_std(init: str, gain: float, fan_in: int, fan_out: int) -> float:
    """Standard deviation of one weight entry under a random scheme."""
    if init == "normal":
        return gain
    if init == "uniform":
        return float(gain / np.sqrt(3.0))
    if init in ("xavier_normal", "xavier_uniform"):
        return float(gain * np.sqrt(2.0 / (fan_in + fan_out)))
    if init in ("he_normal", "he_uniform"):
        return float(gain * np.sqrt(2.0 / fan_in))
    if init == "lecun_normal":
        return float(gain * np.sqrt(1.0 / fan_in))
    if init == "orthogonal":
        return float(gain / np.sqrt(max(fan_in, fan_out)))
    raise ValueError(f"{init!r} is not a random scheme")


def init_weight(
    config: Config, fan_in: int, fan_out: int, rng: np.random.Generator
) -> NDArray[np.float64]:
    """One (fan_out, fan_in) weight matrix in float64 (cast by the caller)."""
    init, gain = config.init, config.init_gain
    shape = (fan_out, fan_in)
    if init == "identity":
        return gain * np.eye(fan_out, fan_in)
    if init == "orthogonal":
        return gain * _orthogonal(fan_out, fan_in, rng)
    std = weight_std(init, gain, fan_in, fan_out)
    if init in ("uniform", "xavier_uniform", "he_uniform"):
        bound = std * np.sqrt(3.0)
        return rng.uniform(-bound, bound, shape)
    return rng.normal(0.0, std, shape)


def _orthogonal(rows: int, cols: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """A (semi-)orthogonal matrix drawn uniformly (QR with the sign correction)."""
    big, small = max(rows, cols), min(rows, cols)
    q, r = np.linalg.qr(rng.standard_normal((big, small)))
    q *= np.sign(np.diag(r))
    return q if rows >= cols else q.T
