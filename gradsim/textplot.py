"""Plain-text pictures of a run for the terminal (the headless demo)."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from gradsim.engine.config import Config

_DEMO_BAR_WIDTH = 40
_DEMO_MIN_DECADES = 3.0


def describe(config: Config) -> str:
    """Short description of a config, e.g. ``depth 100, linear, identity x2``."""
    init = config.init if config.init_gain == 1.0 else f"{config.init} x{config.init_gain:g}"
    parts = [f"depth {config.depth}", config.activation, init]
    parts += [name for name in ("batchnorm", "residual") if getattr(config, name)]
    if not config.bias:
        parts.append("no bias")
    return ", ".join(parts)


def demo_layers(depth: int) -> list[int]:
    """Layers the demo shows: all of a shallow net, else 1, every ~tenth, and the last."""
    if depth <= 12:
        return list(range(1, depth + 1))
    every = max(1, round(depth / 10))
    return sorted({1, depth, *range(every, depth + 1, every)})


def gradient_table(layers: list[int], values: NDArray[np.floating]) -> list[str]:
    """Rows ``layer  value  ####`` with bar lengths proportional to log10(value)."""
    values = np.asarray(values, dtype=np.float64)
    shown = values[np.isfinite(values) & (values > 0)]
    logs = np.log10(shown) if shown.size else np.zeros(0)
    low, high = (float(logs.min()), float(logs.max())) if logs.size else (0.0, 0.0)
    # At least a few decades: a healthy net's small layer-to-layer wobble should look flat,
    # not fill the whole width the way an exploding net's 30 decades do.
    span = max(high - low, _DEMO_MIN_DECADES)
    low = (low + high - span) / 2
    rows = [f"  {'layer':>5}  {'grad RMS':>9}"]
    for layer, value in zip(layers, values.tolist(), strict=True):
        if math.isnan(value):
            bar = "(not a number: the values overflowed)"
        elif math.isinf(value):
            bar = "(overflow: beyond the largest float)"
        elif value <= 0:
            bar = "(exactly zero: vanished)"
        else:
            bar = "#" * (1 + round((math.log10(value) - low) / span * (_DEMO_BAR_WIDTH - 1)))
        rows.append(f"  {layer:>5}  {value:>9.2e}  {bar}")
    if logs.size:
        factor = 10 ** (span / (_DEMO_BAR_WIDTH - 1))
        rows.append(f"  (log scale: each # is a factor of {factor:.3g})")
    return rows
