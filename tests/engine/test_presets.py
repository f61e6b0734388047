"""Preset files: format validation, and that every lesson really shows what it says.

The behaviour tests run the real engine on each preset (and on the one-change variant its
caption tells the lecturer to try), so a change to the engine or to a preset file that breaks
a lesson fails here rather than in front of an audience.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from gradsim.engine.config import FIELDS, Config
from gradsim.engine.presets import (
    DEFAULT_PRESET_ID,
    Preset,
    PresetError,
    UnknownPresetError,
    get_preset,
    list_presets,
    load_preset_dir,
    load_preset_file,
    presets_dir,
)
from gradsim.engine.stats import STAT_NAMES, StepStats

REQUIRED_IDS = (
    "seed-exploding",
    "seed-vanishing",
    "sigmoid-naive",
    "tanh-xavier",
    "relu-xavier",
    "relu-he",
    "batchnorm-rescue",
    "clipping-rescue",
    "residual",
)

GOOD = """\
id = "{id}"
order = 5
title = "A test preset"
metric = "activation_rms"
steps = 30
description = \"\"\"
First line
wrapped here.

Second paragraph.
\"\"\"

[config]
depth = 3
width = 4
"""


def _write(directory: Path, preset_id: str, text: str) -> Path:
    path = directory / f"{preset_id}.toml"
    path.write_text(text.format(id=preset_id), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------ the files
def test_every_file_loads_with_id_matching_name() -> None:
    paths = sorted(presets_dir().glob("*.toml"))
    assert len(paths) >= len(REQUIRED_IDS)
    for path in paths:
        preset = load_preset_file(path)
        assert preset.id == path.stem
        assert preset.metric in STAT_NAMES


def test_list_is_complete_unique_and_in_teaching_order() -> None:
    presets = list_presets()
    ids = [p.id for p in presets]
    assert len(ids) == len(set(ids))
    assert set(REQUIRED_IDS) <= set(ids)
    assert ids[:2] == ["seed-exploding", "seed-vanishing"]
    orders = [p.order for p in presets]
    assert orders == sorted(orders)
    assert len(set(orders)) == len(orders), "two presets share an order value"
    assert len({p.title for p in presets}) == len(presets)


def test_default_exists() -> None:
    assert get_preset(DEFAULT_PRESET_ID).id == DEFAULT_PRESET_ID
    assert list_presets()[0].id == DEFAULT_PRESET_ID


def test_list_is_a_copy() -> None:
    first = list_presets()
    first.clear()
    assert list_presets()


def test_builtin_files_spell_out_every_config_field() -> None:
    """A lesson must not silently change when a Config default does."""
    from gradsim.engine import tomlio

    for path in presets_dir().glob("*.toml"):
        table = tomlio.loads(path.read_text(encoding="utf-8"))["config"]
        missing = [name for name in FIELDS if name not in table]
        assert not missing, f"{path.name} leaves {missing} to the defaults"


@pytest.mark.parametrize("preset", list_presets(), ids=lambda p: p.id)
def test_preset_is_cheap_and_captioned(preset: Preset) -> None:
    cfg = preset.config
    assert cfg.width <= 128 and cfg.batch_size <= 128 and cfg.depth <= 100
    assert 1 <= preset.steps <= 1000
    # The caption is for an audience: a few sentences, reflowed (no hard line breaks).
    assert 150 <= len(preset.description) <= 900
    assert "\n" not in preset.description
    assert 2 <= preset.description.count(". ") + 1 <= 7


# -------------------------------------------------------------------------- validation
def test_good_file_parses(tmp_path: Path) -> None:
    preset = load_preset_file(_write(tmp_path, "my-lesson", GOOD))
    assert preset == Preset(
        id="my-lesson",
        title="A test preset",
        description="First line wrapped here.\n\nSecond paragraph.",
        config=Config(depth=3, width=4),
        metric="activation_rms",
        steps=30,
        order=5,
    )


def test_optional_keys_default(tmp_path: Path) -> None:
    text = "\n".join(
        line for line in GOOD.splitlines() if not line.startswith(("metric", "steps", "order"))
    )
    preset = load_preset_file(_write(tmp_path, "bare", text))
    assert (preset.metric, preset.steps, preset.order) == ("backprop_grad_rms", 200, 0)


BAD_CASES = {
    "missing-title": (lambda t: t.replace('title = "A test preset"\n', ""), "title", "missing"),
    "unknown-key": (lambda t: t.replace("order = 5", "ordr = 5"), "ordr", "did you mean 'order'"),
    "bad-config-value": (lambda t: t.replace("depth = 3", "depth = 0"), "config", "depth"),
    "unknown-config-key": (lambda t: t.replace("width = 4", "widht = 4"), "config", "widht"),
    "bad-metric": (lambda t: t.replace('"activation_rms"', '"loss"'), "metric", "loss"),
    "steps-not-int": (lambda t: t.replace("steps = 30", "steps = true"), "steps", "integer"),
    "steps-zero": (lambda t: t.replace("steps = 30", "steps = 0"), "steps", "integer"),
    "empty-title": (lambda t: t.replace('"A test preset"', '"  "'), "title", "non-empty"),
    "config-not-table": (
        lambda t: t.split("[config]")[0].replace("order = 5", "config = 3\norder = 5"),
        "config",
        "table",
    ),
    "id-mismatch": (lambda t: t.replace('id = "{id}"', 'id = "other"'), "id", "file name"),
    "id-bad-chars": (lambda t: t.replace('id = "{id}"', 'id = "Bad Id"'), "id", "valid id"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_file_names_file_and_field(tmp_path: Path, case: str) -> None:
    mutate, field, detail = BAD_CASES[case]
    path = _write(tmp_path, case, mutate(GOOD))
    with pytest.raises(PresetError) as info:
        load_preset_file(path)
    message = str(info.value)
    assert path.name in message
    assert field in message
    assert detail in message
    assert info.value.field == field


def test_invalid_toml_names_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('id = "broken\n', encoding="utf-8")
    with pytest.raises(PresetError, match=r"broken\.toml.*not valid TOML"):
        load_preset_file(path)


def test_unreadable_file_names_file(tmp_path: Path) -> None:
    with pytest.raises(PresetError, match=r"absent\.toml.*cannot read"):
        load_preset_file(tmp_path / "absent.toml")


def test_directory_sorted_by_order_then_id(tmp_path: Path) -> None:
    _write(tmp_path, "b-lesson", GOOD)
    _write(tmp_path, "a-lesson", GOOD)
    _write(tmp_path, "first", GOOD.replace("order = 5", "order = 1"))
    assert [p.id for p in load_preset_dir(tmp_path)] == ["first", "a-lesson", "b-lesson"]


# ---------------------------------------------------------------------------- get_preset
def test_unknown_id_suggests_close_match_and_lists_all() -> None:
    with pytest.raises(UnknownPresetError) as info:
        get_preset("seed-exploding-2")
    assert isinstance(info.value, KeyError)
    message = str(info.value)
    assert message.startswith("unknown preset 'seed-exploding-2'")  # not repr()-quoted
    assert "did you mean 'seed-exploding'" in message
    for preset in list_presets():
        assert preset.id in message


def test_unknown_id_without_close_match() -> None:
    with pytest.raises(KeyError, match="known presets") as info:
        get_preset("zzzzzz")
    assert "did you mean" not in str(info.value)


# ------------------------------------------------------------------- the lessons, for real
def _engine():
    return pytest.importorskip("gradsim.engine.simulation")


def _train(config: Config, steps: int) -> list[StepStats]:
    sim = _engine().Simulation(config, record=False)
    out = []
    while sim.step_count < steps and not sim.diverged:
        out.append(sim.step())
    return out


def _final_loss(history: list[StepStats], last: int = 20) -> float:
    return float(np.mean([s.loss for s in history[-last:]]))


def _per_layer_factor(values: np.ndarray) -> float:
    """Geometric-mean change per hidden layer (the first and the output layer differ in width)."""
    hidden = values[1:-1]
    return float((hidden[-1] / hidden[0]) ** (1.0 / (len(hidden) - 1)))


def test_seed_exploding() -> None:
    preset = get_preset("seed-exploding")
    assert not preset.config.bias  # 100 matrices multiplied together, nothing added
    history = _train(preset.config, preset.steps)
    first = history[0]
    assert not first.diverged and math.isfinite(first.loss)
    act = first.layers["activation_rms"]
    assert np.all(np.isfinite(act))
    x_rms = act[0] / 2.0  # layer 1 computes 2·X exactly
    assert 0.5 < x_rms < 1.5
    assert act[-1] == pytest.approx(2.0**100 * x_rms, rel=1e-12)
    grad = first.layers["backprop_grad_rms"]
    assert grad[0] / grad[-1] == pytest.approx(2.0**99, rel=1e-9)
    assert len(history) == 2 and history[1].diverged
    assert (history[1].divergence_reason or "").startswith("activations overflowed at layer ")


def test_seed_vanishing() -> None:
    preset = get_preset("seed-vanishing")
    assert not preset.config.bias
    history = _train(preset.config, preset.steps)
    assert len(history) == preset.steps and not any(s.diverged for s in history)
    grad = history[0].layers["backprop_grad_rms"]
    assert grad[0] / grad[-1] == pytest.approx(0.5**99, rel=1e-9)
    # "A straight line on the log scale", at every step: no bias trains and bends it.
    for stats in history:
        grad = stats.layers["backprop_grad_rms"]
        np.testing.assert_allclose(grad[:-1] / grad[1:], 0.5, rtol=1e-12)
    assert max(s.layers["update_ratio"][0] for s in history) < 1e-25
    # Learning changes (almost) nothing: the same run with no updates at all has nearly the
    # same loss at every step (the batches are identical).
    frozen = _train(preset.config.replace(learning_rate=0.0), preset.steps)
    trained = np.array([s.loss for s in history])
    untrained = np.array([s.loss for s in frozen])
    assert np.max(np.abs(trained - untrained) / untrained) < 0.02


def test_sigmoid_naive_vanishes_with_saturation() -> None:
    (first,) = _train(get_preset("sigmoid-naive").config, 1)
    grad = first.layers["backprop_grad_rms"]
    assert grad[0] / grad[-1] < 1e-3
    assert grad[0] / grad[-2] < 1e-3
    assert first.layers["saturation"][:-1].mean() > 0.25


def test_tanh_xavier_is_healthy() -> None:
    preset = get_preset("tanh-xavier")
    history = _train(preset.config, preset.steps)
    grad = history[0].layers["backprop_grad_rms"]
    assert grad[0] / grad[-2] > 0.05
    assert _final_loss(history) < 0.3 * history[0].loss


def test_relu_xavier_halves_variance_per_layer() -> None:
    (first,) = _train(get_preset("relu-xavier").config, 1)
    factor = _per_layer_factor(first.layers["preactivation_rms"])
    assert factor == pytest.approx(1 / math.sqrt(2), abs=0.05)
    grad = first.layers["backprop_grad_rms"]
    assert grad[0] / grad[-2] < 1e-3


def test_relu_he_keeps_variance() -> None:
    (first,) = _train(get_preset("relu-he").config, 1)
    assert _per_layer_factor(first.layers["preactivation_rms"]) == pytest.approx(1.0, abs=0.05)
    grad = first.layers["backprop_grad_rms"]
    assert 0.1 < grad[0] / grad[-2] < 10


def test_batchnorm_rescue() -> None:
    preset = get_preset("batchnorm-rescue")
    assert preset.config.replace(batchnorm=False) == get_preset("sigmoid-naive").config
    steps = 150
    rescued = _train(preset.config, steps)
    plain = _train(preset.config.replace(batchnorm=False), steps)
    ratio = rescued[0].layers["backprop_grad_rms"]
    assert ratio[0] / ratio[-2] > 0.1
    plain_grad = plain[0].layers["backprop_grad_rms"]
    assert plain_grad[0] / plain_grad[-2] < 1e-3
    assert _final_loss(rescued) < 0.2 * rescued[0].loss
    assert _final_loss(rescued) < 0.6 * _final_loss(plain)


def test_clipping_rescue() -> None:
    preset = get_preset("clipping-rescue")
    assert preset.config.grad_clip > 0
    unclipped = _train(preset.config.replace(grad_clip=0.0), preset.steps)
    assert unclipped[-1].diverged and len(unclipped) <= 5
    clipped = _train(preset.config, 150)
    assert not any(s.diverged for s in clipped)
    assert _final_loss(clipped) < 1e-4 * clipped[0].loss
    assert _final_loss(clipped) < 0.1


def test_residual_trains_where_plain_starves() -> None:
    preset = get_preset("residual")
    assert preset.config.residual
    steps = 150
    residual = _train(preset.config, steps)
    plain = _train(preset.config.replace(residual=False), steps)
    grad = residual[0].layers["backprop_grad_rms"]
    assert 0.1 < grad[0] / grad[-2] < 10
    plain_grad = plain[0].layers["backprop_grad_rms"]
    assert plain_grad[0] / plain_grad[-2] < 1e-10
    assert _final_loss(residual) < 0.2 * residual[0].loss
    assert _final_loss(residual) < 0.3 * _final_loss(plain)


def test_orthogonal_preserves_gradients_exactly() -> None:
    preset = get_preset("orthogonal")
    history = _train(preset.config, preset.steps)
    grad = history[0].layers["backprop_grad_rms"]
    hidden = grad[:-1]
    np.testing.assert_allclose(hidden, hidden[0], rtol=1e-9)
    gaussian = _train(preset.config.replace(init="xavier_normal"), preset.steps)
    gaussian_grad = gaussian[0].layers["backprop_grad_rms"]
    assert gaussian_grad[0] / gaussian_grad[-2] < 0.5
    assert _final_loss(history) < 0.5 * _final_loss(gaussian)


def test_adam_moves_every_layer() -> None:
    preset = get_preset("adam-vanishing")
    adam = _train(preset.config, preset.steps)
    sgd = _train(preset.config.replace(optimizer="sgd", learning_rate=0.1), preset.steps)
    grad = adam[0].layers["backprop_grad_rms"]
    assert grad[0] / grad[-2] < 1e-2  # the gradient still vanishes ...
    adam_update = adam[10].layers["update_ratio"]
    sgd_update = sgd[10].layers["update_ratio"]
    assert 0.1 < adam_update[0] / adam_update[-2] < 10  # ... but every layer moves
    assert sgd_update[0] / sgd_update[-2] < 1e-2
    assert _final_loss(adam) < 0.6 * _final_loss(sgd)
