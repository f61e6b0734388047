"""The Python API (``import gradsim``): configs, runs as numpy arrays, export, heatmap, README."""

from __future__ import annotations

import re
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import gradsim
from gradsim.engine.config import ConfigError
from gradsim.engine.simulation import Simulation

README = Path(__file__).resolve().parents[1] / "README.md"


def test_import_is_light_and_never_loads_qt() -> None:
    code = (
        "import sys, gradsim; light = 'numpy' not in sys.modules; "
        "run = gradsim.run(gradsim.config('seed-vanishing', depth=5), steps=2); "
        "print(light, any(m.startswith(('PySide6', 'pyqtgraph')) for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "False"]


def test_config_from_preset_keywords_and_file(tmp_path) -> None:
    assert gradsim.config("relu-he", depth=7).depth == 7
    assert gradsim.config("relu-he", depth=7).activation == "relu"
    assert gradsim.config(width=3) == gradsim.Config(width=3)
    path = tmp_path / "mine.toml"
    gradsim.config("tanh-xavier").save(path)
    assert gradsim.config(file=path, seed=5) == gradsim.config("tanh-xavier", seed=5)
    with pytest.raises(ConfigError, match="depth"):
        gradsim.config(depth=0)
    with pytest.raises(ValueError, match="not both"):
        gradsim.config("relu-he", file=path)
    assert gradsim.presets()["seed-exploding"].startswith("100 linear layers")


def test_run_gives_the_engines_numbers_as_arrays() -> None:
    cfg = gradsim.config("tanh-xavier", depth=6, width=16)
    run = gradsim.run(cfg, steps=12)
    sim = Simulation(cfg)
    sim.run(12)
    assert run.stats["backprop_grad_rms"].shape == (12, 6)
    assert set(run.stats) == set(gradsim.STAT_NAMES)
    for name in gradsim.STAT_NAMES:
        np.testing.assert_array_equal(run.stats[name], sim.recorder.stat(name))
    np.testing.assert_array_equal(run.loss, sim.recorder.loss)
    assert list(run.steps) == list(range(12)) and run.diverged_at is None
    assert run.theory().available


def test_a_diverging_run_stops_and_says_why() -> None:
    run = gradsim.run("seed-exploding", steps=10)
    assert run.diverged_at == 1 and "overflowed" in run.divergence_reason
    assert len(run.steps) == 2 and not np.isfinite(run.stats["activation_rms"][-1]).all()


@pytest.mark.parametrize("suffix", [".csv", ".npz", ".json"])
def test_export_and_load_round_trip(tmp_path, suffix) -> None:
    run = gradsim.run("seed-exploding", steps=3)
    back = gradsim.load(run.export(tmp_path / f"run{suffix}"))
    assert back.config == run.config and back.diverged_at == 1
    for name in gradsim.STAT_NAMES:  # inf/nan included
        np.testing.assert_array_equal(back.stats[name], run.stats[name])


def test_run_records_histograms_on_a_cadence(tmp_path) -> None:
    from gradsim.engine.distribution_export import read_histograms

    cfg = gradsim.config("tanh-xavier", depth=6, width=16)
    run = gradsim.run(cfg, steps=25)
    np.testing.assert_array_equal(run.histograms.steps, [0, 10, 20])
    z = run.histograms.at(24).histograms["preactivation"]  # the newest at or before step 24
    assert run.histograms.at(24).step == 20 and z.counts.shape[0] == 6
    assert (z.totals()[:-1] == cfg.batch_size * cfg.width).all()
    assert gradsim.run(cfg, steps=5, histograms_every=2).histograms.steps.tolist() == [0, 2, 4]
    off = gradsim.run(cfg, steps=3, histograms_every=None)
    assert off.histograms is None
    grads = run.stats["backprop_grad_rms"]
    np.testing.assert_array_equal(off.stats["backprop_grad_rms"], grads[:3])  # same training
    with pytest.raises(ValueError, match="no histograms"):
        off.export_histograms(tmp_path / "none.npz")
    with pytest.raises(ValueError, match="histograms_every"):
        gradsim.run(cfg, steps=2, histograms_every=0)
    back = read_histograms(run.export_histograms(tmp_path / "h.json"))
    np.testing.assert_array_equal(back.history.steps, run.histograms.steps)
    # Run files hold the statistics only: a loaded run has no histograms.
    assert gradsim.load(run.export(tmp_path / "run.npz")).histograms is None


def _fake_matplotlib(monkeypatch) -> dict:
    """A stand-in for matplotlib.pyplot that records what would be drawn."""
    calls: dict = {}

    class Axes:
        figure = types.SimpleNamespace(colorbar=lambda image, ax, label: calls.update(bar=label))

        def imshow(self, data, **kwargs):
            calls.update(data=data, **kwargs)
            return "image"

        def set_xlabel(self, text):
            calls["xlabel"] = text

        def set_ylabel(self, text):
            calls["ylabel"] = text

        def set_title(self, text):
            calls["title"] = text

    pyplot = types.ModuleType("matplotlib.pyplot")
    pyplot.subplots = lambda **kwargs: (None, Axes())
    package = types.ModuleType("matplotlib")
    package.pyplot = pyplot
    monkeypatch.setitem(sys.modules, "matplotlib", package)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", pyplot)
    return calls


def test_heatmap_draws_log10_layers_by_steps(monkeypatch) -> None:
    calls = _fake_matplotlib(monkeypatch)
    run = gradsim.run(gradsim.config("seed-vanishing", depth=10), steps=4)
    figure = run.heatmap("activation_rms")
    assert figure is sys.modules["matplotlib.pyplot"].subplots()[1].figure  # for savefig
    values = run.stats["activation_rms"]
    np.testing.assert_allclose(calls["data"], np.log10(values).T)  # layers up, steps across
    assert calls["origin"] == "lower" and calls["extent"] == (-0.5, 3.5, 0.5, 10.5)
    assert calls["ylabel"] == "layer (1 = input)" and "activation_rms" in calls["bar"]
    with pytest.raises(KeyError, match="unknown statistic"):
        run.heatmap("nope")


def test_heatmap_without_matplotlib_says_what_to_install(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    run = gradsim.run(gradsim.config("seed-vanishing", depth=5), steps=2)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        run.heatmap()


def test_readme_example_runs_with_the_notebook_extra(monkeypatch, tmp_path) -> None:
    """The README's Python block, with the real matplotlib (the notebook extra, which the
    test command installs): it ends by saving the heatmap, as a script would."""
    import matplotlib

    matplotlib.use("Agg")  # a script's default elsewhere; no window in a test
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Python API") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["grads"].shape[1] == 50
    assert namespace["bands"].shape == (20, 3)  # every 10th of 200 steps, three percentiles
    assert (tmp_path / "relu-xavier.npz").stat().st_size > 0
    png = tmp_path / "relu-xavier.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_run_takes_a_dict_and_numpy_steps_and_refuses_bad_steps() -> None:
    run = gradsim.run({"depth": 3, "width": 4}, steps=np.int64(2))
    assert run.config.depth == 3 and len(run.steps) == 2
    for steps in (float("inf"), float("nan"), "10", None, 2.5, True):
        with pytest.raises(TypeError, match="whole number"):
            gradsim.run("seed-vanishing", steps=steps)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=">= 1"):
        gradsim.run("seed-vanishing", steps=0)
    with pytest.raises(TypeError, match="a dict of config keys"):
        gradsim.run(42)  # type: ignore[arg-type]
