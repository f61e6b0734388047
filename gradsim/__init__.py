"""gradsim: a simulator that makes vanishing and exploding gradients visible.

From Python (see ``gradsim.api``)::

    import gradsim
    run = gradsim.run(gradsim.config("seed-vanishing"), steps=50)
    run.stats["backprop_grad_rms"]   # numpy array, steps x layers
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Loaded on first use, so `gradsim --version` and the GUI's start-up do not pay for numpy here.
_API = ("config", "presets", "run", "load", "Run")
_ENGINE = {"Config": "gradsim.engine.config", "ConfigError": "gradsim.engine.config"}
__all__ = [  # noqa: RUF022 - grouped as above, not sorted
    "config",
    "presets",
    "run",
    "load",
    "Run",
    "Config",
    "ConfigError",
    "STAT_NAMES",
    "__version__",
]

if TYPE_CHECKING:
    from gradsim.api import Run, config, load, presets, run
    from gradsim.engine.config import Config, ConfigError
    from gradsim.engine.stats import STAT_NAMES


def __getattr__(name: str) -> Any:
    import importlib

    if name in _API:
        return getattr(importlib.import_module("gradsim.api"), name)
    if name in _ENGINE:
        return getattr(importlib.import_module(_ENGINE[name]), name)
    if name == "STAT_NAMES":
        return importlib.import_module("gradsim.engine.stats").STAT_NAMES
    raise AttributeError(f"module 'gradsim' has no attribute {name!r}")
