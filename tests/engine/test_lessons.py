"""Lesson files: strict validation, and that every scene of the bundled lesson shows its point.

The behaviour tests enter each scene the way the app does (run ``scene.steps`` steps of every
run, recorded) and check the caption's claim on what the audience then sees, so a change to the
engine, a preset or the lesson file that breaks the story fails here, not in a lecture hall.
"""

from __future__ import annotations

import math
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest

from gradsim.engine import tomlio
from gradsim.engine.config import Config
from gradsim.engine.lessons import (
    SHARED_FIELDS,
    ComparedRun,
    Lesson,
    LessonError,
    Scene,
    UnknownLessonError,
    lesson_from_dict,
    lesson_ids,
    lessons_dir,
    list_lessons,
    load_lesson,
    load_lesson_file,
)
from gradsim.engine.presets import get_preset, preset_ids
from gradsim.engine.recording import Recorder
from gradsim.engine.simulation import Simulation
from gradsim.engine.stats import SATURATION_THRESHOLD, STAT_NAMES

LESSON_ID = "vanishing-exploding"
GRAD = "backprop_grad_rms"

# Compare scenes: their labels and the only config fields in which their runs may differ.
COMPARISONS = {
    3: (("W = 0.5I", "W = I", "W = 2I"), {"init_gain"}),
    6: (("sigmoid", "ReLU"), {"activation"}),
    7: (("sigmoid, Xavier", "ReLU, He"), {"activation", "init"}),
    10: (("Xavier", "He"), {"init"}),
    11: (("BN off", "BN on"), {"batchnorm"}),
    13: (("plain", "residual"), {"residual"}),
    14: (("no clipping", "clipped"), {"grad_clip"}),
    15: (("SGD", "Adam"), {"optimizer", "learning_rate"}),
}


# ------------------------------------------------------------------------ the bundled lesson
def _lesson() -> Lesson:
    return load_lesson(LESSON_ID)


def _scene(number: int, preset_id: str) -> Scene:
    """Scene ``number`` (1-based), checked to be the one the test means if scenes move."""
    scene = _lesson().scenes[number - 1]
    assert scene.preset_id == preset_id, f"scene {number} is now {scene.title!r}"
    if number in COMPARISONS:
        assert tuple(run.label for run in scene.compare) == COMPARISONS[number][0]
    return scene


def _record(config: Config, steps: int) -> Recorder:
    sim = Simulation(config, record=True)
    sim.run(steps)
    assert sim.recorder is not None
    return sim.recorder


def _enter(scene: Scene) -> list[Recorder]:
    """What entering the scene produces: every run trained ``scene.steps`` steps."""
    configs = [run.config for run in scene.compare] or [scene.config]
    return [_record(config, scene.steps) for config in configs]


def _shown(recorder: Recorder, metric: str) -> np.ndarray:
    """The profile the app draws: the newest step with any finite value (after an overflow
    the newest row is inf/nan)."""
    values = recorder.stat(metric)
    return values[np.flatnonzero(np.isfinite(values).any(axis=1))[-1]]


def _final_loss(recorder: Recorder, last: int = 20) -> float:
    return float(np.mean(recorder.loss[-last:]))


def _per_layer_factor(values: np.ndarray) -> float:
    """Geometric-mean change per hidden layer (the first and the output layer differ in width)."""
    hidden = values[1:-1]
    return float((hidden[-1] / hidden[0]) ** (1.0 / (len(hidden) - 1)))


def test_bundled_lesson_is_listed_and_loads() -> None:
    assert (lessons_dir() / f"{LESSON_ID}.toml").is_file()
    assert LESSON_ID in lesson_ids()
    assert lesson_ids() == sorted(lesson_ids()) == [lesson.id for lesson in list_lessons()]
    lesson = _lesson()
    assert lesson.title == "Vanishing and exploding gradients"
    assert lesson.path == lessons_dir() / f"{LESSON_ID}.toml"
    assert 12 <= len(lesson.scenes) <= 16
    assert load_lesson(LESSON_ID) is lesson  # cached: the app may ask on every menu open


def test_every_bundled_file_loads_with_id_matching_name() -> None:
    for path in sorted(lessons_dir().glob("*.toml")):
        assert load_lesson_file(path).id == path.stem


def test_scenes_are_readable_and_show_something_on_entry() -> None:
    for number, scene in enumerate(_lesson().scenes, 1):
        assert scene.metric in STAT_NAMES
        assert scene.steps >= 1, f"scene {number} would open on an empty plot"
        assert "\n" not in scene.caption  # reflowed; the app wraps it
        sentences = re.findall(r"[.!?](?:\s|$)", scene.caption)
        assert 1 <= len(sentences) <= 3 and len(scene.caption) <= 300, scene.title
    titles = [scene.title for scene in _lesson().scenes]
    assert len(set(titles)) == len(titles)


def test_compared_runs_share_data_and_differ_only_in_the_point() -> None:
    scenes = _lesson().scenes
    found = {n for n, scene in enumerate(scenes, 1) if scene.compare}
    assert found == set(COMPARISONS)
    for number, (labels, point) in COMPARISONS.items():
        scene = scenes[number - 1]
        assert 2 <= len(scene.compare) <= 4
        assert tuple(run.label for run in scene.compare) == labels
        assert scene.config == scene.compare[0].config
        first = scene.compare[0].config.to_dict()
        for run in scene.compare[1:]:
            other = run.config.to_dict()
            differ = {key for key in first if first[key] != other[key]}
            assert differ and differ <= point, (scene.title, run.label, differ)
            assert not differ & set(SHARED_FIELDS)


def test_scene_1_doubling_layers_explode() -> None:
    scene = _scene(1, "seed-exploding")
    (rec,) = _enter(scene)
    depth = scene.config.depth
    act = _shown(rec, scene.metric)
    assert scene.metric == "activation_rms"
    assert act[-1] / act[0] == pytest.approx(2.0 ** (depth - 1), rel=1e-12)  # 2^L·x overall
    grad = rec.stat(GRAD)[0]
    assert grad[0] / grad[-1] == pytest.approx(2.0 ** (depth - 1), rel=1e-9)
    # "Press Step once": the next step overflows.
    sim = Simulation(scene.config, record=False)
    sim.run(scene.steps + 1)
    assert sim.diverged and sim.last is not None
    assert "overflow" in (sim.last.divergence_reason or "")


def test_scene_2_halving_layers_vanish_and_never_learn() -> None:
    scene = _scene(2, "seed-vanishing")
    (rec,) = _enter(scene)
    act = _shown(rec, scene.metric)
    assert act[-1] / act[0] == pytest.approx(0.5 ** (scene.config.depth - 1), rel=1e-12)
    assert scene.play  # the point is watching the loss not fall
    played = _record(scene.config, 150).loss
    frozen = _record(scene.config.replace(learning_rate=0.0), 150).loss
    assert np.max(np.abs(played - frozen) / frozen) < 0.02  # training changes nothing


def test_scene_3_one_factor_per_layer() -> None:
    scene = _scene(3, "seed-vanishing")
    assert [run.config.init_gain for run in scene.compare] == [0.5, 1.0, 2.0]
    depth = scene.config.depth
    ratios = []
    for rec in _enter(scene):
        assert len(rec) == scene.steps and rec.diverged_at is None
        grad = _shown(rec, scene.metric)
        ratios.append(grad[0] / grad[-1])
    assert ratios[0] == pytest.approx(0.5 ** (depth - 1), rel=1e-9)
    assert ratios[1] == pytest.approx(1.0, rel=1e-12)
    assert ratios[2] == pytest.approx(2.0 ** (depth - 1), rel=1e-9)


def test_scene_4_sigmoid_saturates() -> None:
    scene = _scene(4, "sigmoid-naive")
    (rec,) = _enter(scene)
    saturated = _shown(rec, "saturation")[:-1]  # the output layer is linear
    assert np.mean(saturated >= 1 / 3) > 0.5  # "in most layers a third or more"
    grad = _shown(rec, GRAD)
    assert grad[0] / grad[-2] < 1e-3


def test_scene_5_most_sigmoid_inputs_sit_where_the_slope_is_almost_zero() -> None:
    from gradsim.engine.activations import evaluate
    from gradsim.engine.distributions import measure

    scene = _scene(5, "sigmoid-naive")
    assert scene.panel == "distributions" and scene.metric == "preactivation_rms"
    sim = Simulation(scene.config, record=False)
    sim.run(scene.steps)
    z = measure(sim.network, scene.config.activation, scene.steps - 1).histograms["preactivation"]
    hidden = range(z.depth - 1)  # the output layer has no sigmoid
    centres = (z.edges[:-1] + z.edges[1:]) / 2
    flat = evaluate("sigmoid", centres)[1] < SATURATION_THRESHOLD
    # Beyond the ±8 window σ′ < 0.001: the values below and above it are flat too.
    shares = [(z.counts[l][flat].sum() + z.below[l] + z.above[l]) / z.totals()[l] for l in hidden]
    assert np.mean(np.array(shares) >= 1 / 3) > 0.5  # "in most layers a third or more"


def test_scene_7_the_vanishing_net_does_not_learn_the_spiral_and_the_healthy_one_does() -> None:
    scene = _scene(7, "spiral-sigmoid")
    assert scene.panel == "function" and scene.config.dataset == "spirals"
    sigmoid, relu = _enter(scene)
    grad = _shown(sigmoid, GRAD)
    assert 1e-9 < grad[0] / grad[-2] < 1e-7  # "about 10⁻⁸ of the gradient"
    assert abs(np.mean(sigmoid.accuracy[-50:]) - 0.5) < 0.05  # "near 50 % right"
    assert np.mean(relu.accuracy[-50:]) > 0.9  # "curls its regions around the spirals"


def test_scene_9_training_evens_the_gradient_out_since_step_0() -> None:
    scene = _scene(9, "tanh-xavier")
    assert scene.first_step and scene.steps == 301  # step 300 shown beside step 0
    (rec,) = _enter(scene)
    first, shown = rec.stat(GRAD)[0], _shown(rec, GRAD)
    assert int(rec.steps[-1]) == 300
    # "at step 0 it holds": the mean-field line at step 0 (checked in test_theory); here:
    # "evened out": layer 1 now gets a larger share of the top hidden layer's gradient.
    assert shown[0] / shown[-2] > 2 * (first[0] / first[-2])


def test_scene_6_relu_passes_the_gradient() -> None:
    scene = _scene(6, "sigmoid-naive")
    sigmoid, relu = (_shown(rec, scene.metric) for rec in _enter(scene))
    assert np.all(np.diff(sigmoid[:-1]) > 0)  # shrinks at every layer going back
    assert sigmoid[0] / sigmoid[-1] < 1e-10
    assert 0.1 < relu[0] / relu[-1] < 1  # "within a few-fold"
    assert relu[0] / sigmoid[0] > 1e10


def test_scene_8_xavier_keeps_tanh_healthy() -> None:
    scene = _scene(8, "tanh-xavier")
    (rec,) = _enter(scene)
    for grad in (rec.stat(GRAD)[0], _shown(rec, GRAD)):
        assert 0.1 < grad[0] / grad[-2] < 1  # "only a few times weaker"
    assert _final_loss(rec) < 0.3 * rec.loss[0]


def test_scene_10_he_keeps_relu_level_where_xavier_halves() -> None:
    scene = _scene(10, "relu-xavier")
    xavier, he = _enter(scene)
    first = [rec.stat(scene.metric)[0] for rec in (xavier, he)]
    # Variance halves per layer: the rms shrinks by 1/√2.
    assert _per_layer_factor(first[0]) == pytest.approx(1 / math.sqrt(2), abs=0.05)
    assert _per_layer_factor(first[1]) == pytest.approx(1.0, abs=0.05)
    # Still so after the scene's training steps, when the audience sees it.
    assert _per_layer_factor(_shown(xavier, scene.metric)) < 0.85
    assert _per_layer_factor(_shown(he, scene.metric)) == pytest.approx(1.0, abs=0.05)
    assert _final_loss(he) < _final_loss(xavier)


def test_scene_11_batchnorm_reaches_layer_1() -> None:
    scene = _scene(11, "batchnorm-rescue")
    off, on = _enter(scene)
    for grad_off, grad_on in (
        (r.stat(GRAD)[0] for r in (off, on)),
        (_shown(off, GRAD), _shown(on, GRAD)),
    ):
        assert grad_on[0] / grad_off[0] > 1e3  # orders of magnitude more at layer 1
        assert grad_on[0] / grad_on[-1] > 0.05
        assert grad_off[0] / grad_off[-1] < 1e-4
    assert _final_loss(on) < 0.5 * _final_loss(off)
    assert _final_loss(on) < np.mean(on.loss[20:40])  # still falling


def test_scene_12_orthogonal_keeps_gradient_exactly() -> None:
    scene = _scene(12, "orthogonal")
    (rec,) = _enter(scene)
    assert scene.steps == 1  # opens on step 0, where "exactly the same size" holds
    hidden = _shown(rec, GRAD)[:-1]
    np.testing.assert_allclose(hidden, hidden[0], rtol=1e-9)
    # "Press Space: ... trains, and its gradient stays within a factor of 2 from layer 1 to 99"
    played = _record(scene.config, 500)
    hidden = played.stat(GRAD)[:, :-1]
    assert np.all(hidden.max(axis=1) / hidden.min(axis=1) < 2)
    assert _final_loss(played) < 0.1 * played.loss[0]


def test_scene_13_residual_carries_the_gradient() -> None:
    scene = _scene(13, "residual")
    plain, residual = _enter(scene)
    for grad in (residual.stat(GRAD)[0], _shown(residual, GRAD)):
        assert grad.max() / grad.min() < 20  # "within a small factor"
    grad = _shown(plain, GRAD)
    assert grad[0] / grad[-1] < 1e-20
    assert _final_loss(residual) < 0.2 * _final_loss(plain)


def test_scene_14_clipping_tames_the_explosion() -> None:
    scene = _scene(14, "clipping-rescue")
    unclipped, clipped = _enter(scene)
    assert unclipped.diverged_at is not None and unclipped.diverged_at <= 5
    assert clipped.diverged_at is None and len(clipped) == scene.steps
    # "even though the gradients are just as large": clipping acts after backprop.
    np.testing.assert_array_equal(unclipped.stat(GRAD)[0], clipped.stat(GRAD)[0])
    assert _shown(unclipped, scene.metric).max() > 10  # a step many times the weights
    assert _shown(clipped, scene.metric).max() < 0.1
    assert _final_loss(clipped) < 1e-4 * clipped.loss[0]


def test_scene_15_adam_moves_every_layer() -> None:
    scene = _scene(15, "adam-vanishing")
    sgd, adam = _enter(scene)
    for grad in (adam.stat(GRAD)[0], _shown(sgd, GRAD)):
        assert grad[0] / grad[-2] < 1e-2  # the gradient fades towards layer 1
    update_adam, update_sgd = _shown(adam, scene.metric), _shown(sgd, scene.metric)
    assert update_adam.max() / update_adam.min() < 10  # "similar rates"
    assert update_sgd[-1] / update_sgd[0] > 1e3  # "thousands of times more slowly"
    assert _final_loss(adam) < 0.8 * _final_loss(sgd)


# ------------------------------------------------------------------------------- the format
HEAD = 'title = "A test lesson"\n'
FIRST = '[[scenes]]\ntitle = "First"\ncaption = "Fine."\npreset = "seed-exploding"\n'
BROKEN = '[[scenes]]\ntitle = "Broken"\ncaption = "Look here."\n'
RUN_A = '[[scenes.compare]]\nlabel = "a"\npreset = "relu-he"\n'
RUN_B = '[[scenes.compare]]\nlabel = "b"\npreset = "relu-xavier"\n'


def _write(tmp_path: Path, text: str, name: str = "lesson.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_file_and_defaults(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        HEAD
        + FIRST
        + '[[scenes]]\ntitle = "Inline"\ncaption = """\nOne\nline.\n\n  Two.\n"""\n'
        + "steps = 3\nplay = true\n[scenes.config]\ndepth = 3\n[scenes.set]\nwidth = 5\n"
        + '[[scenes]]\ntitle = "Pair"\ncaption = "c"\n'
        + RUN_A
        + RUN_B
        + "set = { depth = 10 }\n",
    )
    lesson = load_lesson_file(path)
    assert lesson.id == "lesson" and lesson.title == "A test lesson" and lesson.path == path
    first, inline, pair = lesson.scenes
    preset = get_preset("seed-exploding")
    assert first == Scene("First", "Fine.", preset.config, preset.metric, preset_id=preset.id)
    assert (first.steps, first.play, first.compare) == (0, False, ())
    assert inline.caption == "One line.\n\nTwo."
    assert inline.config == Config(depth=3, width=5)
    assert (inline.metric, inline.steps, inline.play) == ("backprop_grad_rms", 3, True)
    assert inline.preset_id is None
    he, xavier = get_preset("relu-he"), get_preset("relu-xavier")
    assert pair.compare == (
        ComparedRun("a", he.config),
        ComparedRun("b", xavier.config.replace(depth=10)),
    )
    assert (pair.config, pair.preset_id, pair.metric) == (he.config, "relu-he", he.metric)
    assert lesson_from_dict(tomlio.loads(path.read_text(encoding="utf-8")), path) == lesson


SCENE_CASES = [
    # (case, second scene's text after its title and caption, field, words in the message)
    (
        "unknown key",
        'preset = "relu-he"\nmetrc = "saturation"\n',
        "metrc",
        ["unknown key", "did you mean 'metric'", "allowed keys", "caption", "compare"],
    ),
    ("both", 'preset = "relu-he"\nconfig = { depth = 3 }\n', "preset", ["exactly one", "both"]),
    ("neither", "steps = 1\n", "preset", ["exactly one", "neither", "compare"]),
    (
        "unknown preset",
        'preset = "relu-hee"\n',
        "preset",
        ["unknown preset 'relu-hee'", "did you mean 'relu-he'", *preset_ids()],
    ),
    ("preset type", "preset = 5\n", "preset", ["non-empty string", "5"]),
    ("config type", "config = 3\n", "config", ["must be a table"]),
    (
        "config value",
        '[scenes.config]\nactivation = "swish"\n',
        "config",
        ["activation = 'swish'", "expected one of", "relu"],
    ),
    ("config key", "[scenes.config]\nlayers = 3\n", "config", ["unknown config key 'layers'"]),
    (
        "set value",
        'preset = "relu-he"\nset = { depth = 0 }\n',
        "set",
        ["depth = 0 is out of range", "from 1 to 2000"],
    ),
    ("set type", 'preset = "relu-he"\nset = "depth=3"\n', "set", ["must be a table"]),
    (
        "unknown metric",
        'preset = "relu-he"\nmetric = "loss"\n',
        "metric",
        ["'loss' is not a statistic", *STAT_NAMES],
    ),
    ("metric type", 'preset = "relu-he"\nmetric = 3\n', "metric", ["not a statistic"]),
    ("negative steps", 'preset = "relu-he"\nsteps = -1\n', "steps", ["from 0", "-1"]),
    ("steps type", 'preset = "relu-he"\nsteps = "10"\n', "steps", ["integer", "'10'"]),
    ("steps float", 'preset = "relu-he"\nsteps = 2.5\n', "steps", ["integer", "2.5"]),
    ("play type", 'preset = "relu-he"\nplay = "yes"\n', "play", ["true or false", "'yes'"]),
    ("compare one", RUN_A, "compare", ["2 to 4 runs", "got 1"]),
    (
        "compare five",
        RUN_A + RUN_B + "".join(RUN_A.replace('"a"', f'"{c}"') for c in "cde"),
        "compare",
        ["2 to 4 runs", "got 5"],
    ),
    ("compare type", 'compare = "a, b"\n', "compare", ["array of tables"]),
    (
        "compare and preset",
        'preset = "relu-he"\n' + RUN_A + RUN_B,
        "preset",
        ["cannot be combined with compare"],
    ),
    ("no label", RUN_A + RUN_B.replace('label = "b"\n', ""), "compare[2].label", ["required"]),
    ("label type", RUN_A + RUN_B.replace('"b"', "2"), "compare[2].label", ["non-empty string"]),
    (
        "duplicate labels",
        RUN_A + RUN_B.replace('"b"', '"a"'),
        "compare[2].label",
        ["'a' is used twice"],
    ),
    (
        "run key",
        RUN_A + RUN_B + "steps = 3\n",
        "compare[2].steps",
        ["unknown key", "allowed keys: label, preset, config, set"],
    ),
    (
        "run neither",
        RUN_A + '[[scenes.compare]]\nlabel = "b"\n',
        "compare[2].preset",
        ["exactly one", "neither"],
    ),
    (
        "run set",
        RUN_A + RUN_B + 'set = { init = "he" }\n',
        "compare[2].set",
        ["init = 'he' is not allowed"],
    ),
    (
        "different seed",
        RUN_A + RUN_B + "set = { seed = 1 }\n",
        "compare[2].seed",
        ["'b' has seed = 1 but 'a' has 0", "must share", *SHARED_FIELDS],
    ),
    (
        "different data",
        RUN_A + RUN_B + 'set = { dataset = "spirals" }\n',
        "compare[2].dataset",
        ["'b' has dataset = 'spirals' but 'a' has 'teacher'"],
    ),
    (
        "different batch",
        RUN_A + "set = { batch_size = 8 }\n" + RUN_B,
        "compare[2].batch_size",
        ["'b' has batch_size = 64 but 'a' has 8"],
    ),
]


@pytest.mark.parametrize(
    ("body", "field", "words"), [case[1:] for case in SCENE_CASES], ids=[c[0] for c in SCENE_CASES]
)
def test_bad_scene_names_file_scene_and_field(
    tmp_path: Path, body: str, field: str, words: list[str]
) -> None:
    path = _write(tmp_path, HEAD + FIRST + BROKEN + body)
    with pytest.raises(LessonError) as info:
        load_lesson_file(path)
    message = str(info.value)
    assert message.startswith(f'lesson file {path}: scene 2 ("Broken"): {field}: ')
    for word in words:
        assert word in message
    assert (info.value.path, info.value.scene, info.value.field) == (path, 2, field)


@pytest.mark.parametrize(
    ("scene", "field", "words"),
    [
        ('caption = "c"\npreset = "relu-he"\n', "title", ["required but missing"]),
        ('title = "  "\ncaption = "c"\npreset = "relu-he"\n', "title", ["non-empty string"]),
        ('title = 7\ncaption = "c"\npreset = "relu-he"\n', "title", ["non-empty string", "7"]),
    ],
)
def test_scene_without_usable_title_is_named_by_number(
    tmp_path: Path, scene: str, field: str, words: list[str]
) -> None:
    path = _write(tmp_path, HEAD + FIRST + "[[scenes]]\n" + scene)
    with pytest.raises(LessonError) as info:
        load_lesson_file(path)
    assert str(info.value).startswith(f"lesson file {path}: scene 2: {field}: ")
    assert all(word in str(info.value) for word in words)


def test_missing_caption_names_scene_title(tmp_path: Path) -> None:
    path = _write(tmp_path, HEAD + FIRST + '[[scenes]]\ntitle = "Quiet"\npreset = "relu-he"\n')
    with pytest.raises(LessonError, match=r'scene 2 \("Quiet"\): caption: is required'):
        load_lesson_file(path)


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        (HEAD, "scenes", ["at least one scene", "[[scenes]]"]),
        (HEAD + "scenes = []\n", "scenes", ["at least one scene"]),
        (HEAD + 'scenes = ["a", "b"]\n', "scenes", ["at least one scene"]),
        ('titel = "x"\n' + FIRST, "titel", ["did you mean 'title'", "allowed keys: id, title"]),
        (FIRST, "title", ["required but missing"]),
        ('id = "Not An Id"\n' + HEAD + FIRST, "id", ["'Not An Id'", "lower-case"]),
    ],
    ids=["no scenes", "empty scenes", "scenes not tables", "unknown key", "no title", "bad id"],
)
def test_bad_lesson_names_file_and_field(
    tmp_path: Path, text: str, field: str, words: list[str]
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(LessonError) as info:
        load_lesson_file(path)
    assert str(info.value).startswith(f"lesson file {path}: {field}: ")
    assert all(word in str(info.value) for word in words)
    assert info.value.scene is None and info.value.field == field


def test_toml_syntax_error_gives_line(tmp_path: Path) -> None:
    path = _write(tmp_path, HEAD + '[[scenes]]\ntitle = "unterminated\n')
    with pytest.raises(LessonError, match=r"lesson\.toml: not valid TOML: .*line 3"):
        load_lesson_file(path)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(LessonError, match=r"absent\.toml: cannot read"):
        load_lesson_file(tmp_path / "absent.toml")


def test_explicit_id_is_kept(tmp_path: Path) -> None:
    path = _write(tmp_path, 'id = "my-talk"\n' + HEAD + FIRST, name="Talk 3.toml")
    assert load_lesson_file(path).id == "my-talk"
    assert load_lesson_file(_write(tmp_path, HEAD + FIRST, name="Talk 4.toml")).id == "Talk 4"


def test_format_example_in_module_docstring_loads() -> None:
    from gradsim.engine import lessons

    doc = lessons.__doc__ or ""
    example = textwrap.dedent(doc.split("File format::\n", 1)[1].split("\nCompared runs", 1)[0])
    lesson = lesson_from_dict(tomlio.loads(example), "example.toml")
    assert lesson.id == "vanishing-exploding" and len(lesson.scenes) == 2
    assert [run.label for run in lesson.scenes[1].compare] == ["sigmoid", "ReLU"]


# ------------------------------------------------------------------------------ load_lesson
def test_load_lesson_by_id_or_path(tmp_path: Path) -> None:
    bundled = load_lesson(LESSON_ID)
    assert bundled.id == LESSON_ID
    assert load_lesson(bundled.path) == bundled
    assert load_lesson(str(bundled.path)) == bundled
    path = _write(tmp_path, HEAD + FIRST, name="mine.toml")
    assert load_lesson(path).id == load_lesson(str(path)).id == "mine"


def test_unknown_lesson_lists_known_ids() -> None:
    with pytest.raises(UnknownLessonError) as info:
        load_lesson("vanishing-exploding-2")
    assert isinstance(info.value, KeyError)
    message = str(info.value)
    assert message.startswith("unknown lesson 'vanishing-exploding-2'")  # not repr()-quoted
    assert "did you mean 'vanishing-exploding'" in message
    assert ".toml" in message
    for lesson_id in lesson_ids():
        assert lesson_id in message


def test_missing_path_is_a_lesson_error_not_an_unknown_id(tmp_path: Path) -> None:
    with pytest.raises(LessonError, match="cannot read"):
        load_lesson(str(tmp_path / "nope.toml"))
