"""gradsim from Python (notebooks, scripts): build a config, run it, get numpy arrays back.

    import gradsim
    run = gradsim.run(gradsim.config("relu-xavier", depth=50), steps=200)
    run.stats["backprop_grad_rms"]        # (steps, layers)
    run.heatmap()                         # matplotlib, if installed
    run.export("relu-xavier.npz")         # the same files as `gradsim run`
    run.histograms.at(0)                  # per-layer histograms (every 10th step by default)

No Qt is imported: this works wherever numpy does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from gradsim.engine.config import Config
from gradsim.engine.distributions import HISTOGRAMS_EVERY  # re-exported: the API's default
from gradsim.engine.recording import Recorder
from gradsim.engine.stats import STAT_NAMES

if TYPE_CHECKING:
    from gradsim.engine.distributions import DistributionHistory
    from gradsim.engine.theory import TheoryProfile



def config(preset: str | None = None, *, file: str | Path | None = None, **fields: Any) -> Config:
    """A validated configuration: a preset's (by id), a TOML file's, or the defaults, with
    ``fields`` changed. Bad values raise ``ConfigError`` naming the field.

    >>> config("seed-exploding", depth=20).depth
    20
    """
    if preset is not None and file is not None:
        raise ValueError("give a preset or a file, not both")
    if preset is not None:
        from gradsim.engine.presets import get_preset

        base = get_preset(preset).config
    elif file is not None:
        base = Config.load(file)
    else:
        base = Config()
    result = base.replace(**fields) if fields else base
    return _with_data(result)


def presets() -> dict[str, str]:
    """Bundled preset ids and their titles."""
    from gradsim.engine.presets import list_presets

    return {p.id: p.title for p in list_presets()}


@dataclass(frozen=True)
class Run:
    """A finished run: every recorded step's statistics as numpy arrays.

    ``histograms``: the per-layer distributions of h, z, ∂loss/∂z and ∂loss/∂W on the measured
    steps (``DistributionHistory``: ``at(step)``, ``over_time(kind, layer, qs)``); None when
    the run was made with ``histograms_every=None`` or loaded from a file (run files hold the
    statistics only; ``export_histograms`` writes the histograms).
    """

    config: Config
    recorder: Recorder
    histograms: DistributionHistory | None = None

    @property
    def steps(self) -> NDArray[np.int64]:
        """Step numbers, shape (n,)."""
        return self.recorder.steps

    @property
    def loss(self) -> NDArray[np.float64]:
        """Training loss per step, shape (n,)."""
        return self.recorder.loss

    @property
    def stats(self) -> dict[str, NDArray[np.float64]]:
        """Each statistic (``gradsim.STAT_NAMES``) as an array of shape (steps, layers)."""
        return {name: self.recorder.stat(name) for name in STAT_NAMES}

    @property
    def diverged_at(self) -> int | None:
        """The step whose numbers overflowed (the run stopped there), or None."""
        return self.recorder.diverged_at

    @property
    def divergence_reason(self) -> str | None:
        return self.recorder.divergence_reason

    def theory(self) -> TheoryProfile:
        """The mean-field (or exact) prediction for this config at initialisation."""
        from gradsim.engine.theory import predict

        return predict(self.config)

    def export(self, path: str | Path) -> Path:
        """Write the run as .csv, .npz or .json (the formats of ``gradsim run``); returns
        ``path``. A .csv is a plain table (``pandas.read_csv(path)``); its config goes to
        the NAME.meta.json beside it, which ``gradsim.load`` needs too."""
        from gradsim.engine.export import write_run

        write_run(path, self.config, self.recorder)
        return Path(path)

    def export_histograms(self, path: str | Path) -> Path:
        """Write the histograms as .npz or .json (``gradsim.engine.distribution_export``)."""
        if self.histograms is None:
            raise ValueError("this run has no histograms (made with histograms_every=None?)")
        from gradsim.engine.distribution_export import write_histograms

        write_histograms(self.histograms, path, self.config)
        return Path(path)

    def heatmap(self, metric: str = "backprop_grad_rms", ax: Any = None) -> Any:
        """Plot ``metric`` per layer and step (log10 colours) with matplotlib, on ``ax`` or a
        new figure; returns the figure: a notebook shows it, a script saves it
        (``run.heatmap().savefig("grads.png")``) or calls ``matplotlib.pyplot.show()``.

        matplotlib is optional (``pip install "gradsim[notebook]"``): without it this raises
        ImportError saying so.
        """
        if metric not in STAT_NAMES:
            raise KeyError(f"unknown statistic {metric!r}; known: {', '.join(STAT_NAMES)}")
        try:
            # matplotlib is optional and may be missing where mypy runs (it ships its own types
            # when installed, hence unused-ignore).
            import matplotlib.pyplot as plt  # type: ignore[import-not-found, unused-ignore]
        except ImportError as exc:
            raise ImportError(
                "Run.heatmap needs matplotlib (pip install matplotlib, or gradsim[notebook]); "
                "the numbers are in Run.stats without it"
            ) from exc
        values = self.recorder.stat(metric)
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.log10(np.where(np.isfinite(values) & (values > 0), values, np.nan))
        if ax is None:
            _, ax = plt.subplots(figsize=(8, 4.5))
        steps = self.steps
        extent = (
            (steps[0] - 0.5, steps[-1] + 0.5, 0.5, values.shape[1] + 0.5) if len(steps) else None
        )
        image = ax.imshow(logs.T, origin="lower", aspect="auto", cmap="viridis", extent=extent)
        ax.figure.colorbar(image, ax=ax, label=f"log10 {metric}")
        ax.set_xlabel("training step")
        ax.set_ylabel("layer (1 = input)")
        ax.set_title(metric)
        return ax.figure


def run(
    config_or_preset: Config | str | Mapping[str, Any],
    steps: int = 100,
    progress: Callable[[int, int], object] | None = None,
    *,
    histograms_every: int | None = HISTOGRAMS_EVERY,
) -> Run:
    """Train ``steps`` steps (fewer if the run diverges) and return everything recorded.

    Per-layer histograms are measured on step 0, every ``histograms_every``-th step and the
    step that diverges; None measures none (``Run.histograms`` is then None).
    """
    from gradsim.engine.simulation import Simulation

    if isinstance(config_or_preset, str):
        cfg = config(config_or_preset)
    elif isinstance(config_or_preset, Mapping):  # the keys of a config, as a plain dict
        cfg = config(**config_or_preset)
    elif isinstance(config_or_preset, Config):
        cfg = config_or_preset
    else:
        raise TypeError(
            f"gradsim.run takes a Config, a preset id or a dict of config keys, "
            f"not {type(config_or_preset).__name__}"
        )
    steps = _whole_steps(steps)
    if histograms_every is not None and (
        isinstance(histograms_every, bool)
        or not isinstance(histograms_every, int)
        or histograms_every < 1
    ):
        raise ValueError(f"histograms_every must be None or >= 1, got {histograms_every!r}")
    sim = Simulation(_with_data(cfg), record=True, distributions=histograms_every)
    sim.run(steps, progress)
    assert sim.recorder is not None
    return Run(sim.config, sim.recorder, sim.distribution_history)


def _whole_steps(steps: object) -> int:
    """``steps`` as a positive int: numpy integers are taken, and anything else (inf, nan,
    "10", None, 2.5, True) is refused now rather than hanging or failing later."""
    if isinstance(steps, np.integer):
        steps = int(steps)
    if isinstance(steps, bool) or not isinstance(steps, int):
        raise TypeError(f"steps must be a whole number >= 1, got {steps!r}")
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    return steps


def load(path: str | Path) -> Run:
    """Read a run written by ``Run.export`` or ``gradsim run`` (a .csv with its NAME.meta.json)."""
    from gradsim.engine.export import read_run

    data = read_run(path)
    return Run(data.config, data.recorder)


def _with_data(cfg: Config) -> Config:
    """For dataset = "csv": input/output sizes and loss come from the file."""
    from gradsim.engine.csv_data import resolve_data

    return resolve_data(cfg)
