"""Lessons: an ordered list of scenes a lecturer steps through, each making one point.

A preset is one run with one explanation; a lesson strings runs together into a story, and a
scene may put 2 to 4 runs side by side so that the one thing that differs is what the audience
sees. Lessons are TOML files (the bundled ones in ``resources/lessons/``) so a lecturer can
write their own. Loading is strict, like presets: a mistake must name the file, the scene and
the field rather than quietly show a different run in front of a hall. File format::

    id = "vanishing-exploding"        # optional: defaults to the file name without .toml
    title = "Vanishing and exploding gradients"

    [[scenes]]                         # one per scene, in order
    title = "Every layer doubles"
    caption = '''For the audience; line breaks are joined, blank lines kept.'''
    preset = "seed-exploding"          # a bundled preset id, or instead a [scenes.config]
                                       # table (keys of Config; missing keys: its defaults)
    metric = "activation_rms"          # optional: default the preset's, else backprop_grad_rms
    steps = 1                          # optional: steps run on entering (default 0: paused
                                       # at step 0, nothing plotted yet)
    play = false                       # optional: keep playing after those steps
    panel = "function"                 # optional: what shows beside the heatmap: "profile"
                                       # (default), "distributions", "function" (in a
                                       # comparison: in place of the heatmaps) or "map"
    first_step = true                  # optional: the layer profile also draws step 0
    [scenes.set]                       # optional: overrides over the preset or config
    depth = 50

    [[scenes]]                         # a comparison: 2 to 4 runs, no preset/config/set
    title = "ReLU: the slope is 0 or 1"
    caption = "Same weights, only the activation differs."
    [[scenes.compare]]                 # metric and preset_id default to the first run's
    label = "sigmoid"
    preset = "sigmoid-naive"           # or [scenes.compare.config]
    set = { init = "he_normal" }       # optional, like [scenes.set]
    [[scenes.compare]]
    label = "ReLU"
    preset = "sigmoid-naive"
    set = { init = "he_normal", activation = "relu" }

Compared runs must share ``SHARED_FIELDS`` (same data, same seed, same loss), so that what
differs between them is only what the scene is about.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from gradsim.engine import tomlio
from gradsim.engine.config import Config, ConfigError
from gradsim.engine.presets import (
    DEFAULT_METRIC,
    MAX_STEPS,
    Preset,
    UnknownPresetError,
    _reflow,
    get_preset,
)
from gradsim.engine.stats import STAT_NAMES

LESSON_KEYS = ("id", "title", "scenes")
SCENE_KEYS = (
    "title", "caption", "preset", "config", "set", "metric", "steps", "play", "panel",
    "first_step", "compare",
)  # fmt: skip
# What a scene can put beside its heatmap (the app's panels, named alike).
PANELS = ("profile", "distributions", "function", "map")
RUN_KEYS = ("label", "preset", "config", "set")
SHARED_FIELDS = (
    "dataset",
    "data_path",
    "target_column",
    "task",
    "seed",
    "input_dim",
    "output_dim",
    "batch_size",
    "loss",
)
MIN_COMPARE, MAX_COMPARE = 2, 4
_ID_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")


class LessonError(ValueError):
    """A lesson file is unreadable or invalid; the message names file, scene and field."""

    def __init__(
        self,
        path: str | Path,
        message: str,
        field: str | None = None,
        scene: int | None = None,
        scene_title: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.scene = scene
        self.field = field
        where = f"lesson file {self.path}"
        if scene is not None:
            where += f': scene {scene} ("{scene_title}")' if scene_title else f": scene {scene}"
        if field:
            where += f": {field}"
        super().__init__(f"{where}: {message}")


class UnknownLessonError(KeyError):
    """No bundled lesson has the requested id (a KeyError, since ids are lookup keys)."""

    def __init__(self, lesson_id: str, known: list[str]) -> None:
        self.lesson_id = lesson_id
        close = difflib.get_close_matches(lesson_id, known, n=3, cutoff=0.5)
        hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
        self.message = (
            f"unknown lesson {lesson_id!r}{hint}; known lessons: {', '.join(known)} "
            "(or give the path of a .toml lesson file)"
        )
        super().__init__(self.message)

    def __str__(self) -> str:
        # KeyError.__str__ would repr() the message, wrapping it in quotes.
        return self.message


@dataclass(frozen=True)
class ComparedRun:
    """One of the runs a comparison scene shows side by side."""

    label: str
    config: Config


@dataclass(frozen=True)
class Scene:
    """One step of a lesson. For a comparison, ``config`` is the first compared run's."""

    title: str
    caption: str
    config: Config
    metric: str
    steps: int = 0
    play: bool = False
    preset_id: str | None = None
    compare: tuple[ComparedRun, ...] = ()
    panel: str = "profile"  # one of PANELS
    first_step: bool = False  # the layer profile also draws the measured step 0


@dataclass(frozen=True)
class Lesson:
    """An ordered list of scenes, read from ``path``."""

    id: str
    title: str
    path: Path
    scenes: tuple[Scene, ...]

    @property
    def ref(self) -> str:
        """What ``load_lesson`` finds it by again: a bundled lesson's id (which moves with
        the installation), another lesson's file path."""
        bundled = self.path.resolve().parent == lessons_dir().resolve()
        return self.id if bundled else str(self.path.resolve())


def lessons_dir() -> Path:
    """Directory of the bundled lesson files (wherever gradsim is installed)."""
    from gradsim.resources import resource_path

    return resource_path("lessons")


def list_lessons() -> list[Lesson]:
    """The bundled lessons, sorted by id. Files are read once (see ``clear_cache``)."""
    return list(_builtin_lessons())


def lesson_ids() -> list[str]:
    """Ids of the bundled lessons, sorted."""
    return [lesson.id for lesson in _builtin_lessons()]


def clear_cache() -> None:
    """Forget the loaded lessons (for tests, or after editing the files while running)."""
    _builtin_lessons.cache_clear()


@functools.lru_cache(maxsize=1)
def _builtin_lessons() -> tuple[Lesson, ...]:
    directory = lessons_dir()
    lessons = sorted(
        (load_lesson_file(path) for path in directory.glob("*.toml")), key=lambda x: x.id
    )
    for first, second in itertools.pairwise(lessons):
        if first.id == second.id:
            raise LessonError(second.path, f"lesson id {first.id!r} is used twice", "id")
    return tuple(lessons)


def load_lesson(name_or_path: str | Path) -> Lesson:
    """A bundled lesson by id, or a lesson file by path.

    A ``Path``, or a string ending in ``.toml`` or containing a path separator, is a file;
    any other string is a bundled id (``UnknownLessonError`` lists the known ones).
    """
    name = name_or_path
    if isinstance(name, str) and not name.endswith(".toml") and not re.search(r"[/\\]", name):
        for lesson in _builtin_lessons():
            if lesson.id == name:
                return lesson
        raise UnknownLessonError(name, lesson_ids())
    return load_lesson_file(name)


def load_lesson_file(path: str | Path) -> Lesson:
    """Read and validate one lesson file; any problem raises ``LessonError``."""
    path = Path(path)
    return lesson_from_dict(tomlio.load_file(path, LessonError), path)


def lesson_from_dict(data: Mapping[str, Any], path: str | Path) -> Lesson:
    """Validate a parsed lesson document; ``path`` is named in errors and gives the default id."""
    where = _Where(Path(path))
    _check_keys(data, LESSON_KEYS, where)
    lesson_id = _text(data, "id", where) if "id" in data else where.path.stem
    if "id" in data and not _ID_PATTERN.match(lesson_id):
        where.fail("id", f"{lesson_id!r} is not valid: use lower-case letters, digits and '-'")
    title = _text(data, "title", where)
    raw = data.get("scenes")
    if not isinstance(raw, list) or not raw or not all(isinstance(s, Mapping) for s in raw):
        where.fail("scenes", "a lesson needs at least one scene: add [[scenes]] tables")
    scenes = tuple(_scene(table, _Where(where.path, n)) for n, table in enumerate(raw, 1))
    return Lesson(id=lesson_id, title=title, path=where.path, scenes=scenes)


@dataclass
class _Where:
    """Where in the file we are (scene, compared run), so that every error can say so."""

    path: Path
    scene: int | None = None
    title: str | None = None
    prefix: str = ""  # "compare[2]." inside a compared run

    def fail(self, field: str, message: str) -> NoReturn:
        raise LessonError(self.path, message, self.prefix + field, self.scene, self.title)


def _scene(data: Mapping[str, Any], where: _Where) -> Scene:
    if isinstance(data.get("title"), str) and data["title"].strip():
        where.title = data["title"].strip()
    _check_keys(data, SCENE_KEYS, where)
    title, caption = _text(data, "title", where), _reflow(_text(data, "caption", where))
    compare: tuple[ComparedRun, ...] = ()
    if "compare" in data:
        for key in ("preset", "config", "set"):
            if key in data:
                where.fail(key, "cannot be combined with compare: give each compared run its own")
        compare, preset = _compare(data["compare"], where)
        config = compare[0].config
    else:
        preset, config = _run_config(data, where, " or [[scenes.compare]] runs")
    metric = data.get("metric", preset.metric if preset else DEFAULT_METRIC)
    if metric not in STAT_NAMES:
        where.fail(
            "metric", f"{metric!r} is not a statistic; expected one of {', '.join(STAT_NAMES)}"
        )
    steps = data.get("steps", 0)
    if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps <= MAX_STEPS:
        where.fail("steps", f"must be an integer from 0 to {MAX_STEPS}, got {steps!r}")
    play = data.get("play", False)
    if not isinstance(play, bool):
        where.fail("play", f"must be true or false, got {play!r}")
    panel = data.get("panel", "profile")
    if panel not in PANELS:
        where.fail("panel", f"{panel!r} is not a panel; expected one of {', '.join(PANELS)}")
    first_step = data.get("first_step", False)
    if not isinstance(first_step, bool):
        where.fail("first_step", f"must be true or false, got {first_step!r}")
    preset_id = preset.id if preset else None
    return Scene(
        title, caption, config, metric, steps, play, preset_id, compare, panel, first_step
    )


def _compare(raw: Any, where: _Where) -> tuple[tuple[ComparedRun, ...], Preset | None]:
    """The compared runs, and the first run's preset (it supplies the default metric)."""
    if not isinstance(raw, list) or not all(isinstance(entry, Mapping) for entry in raw):
        where.fail("compare", "must be an array of tables ([[scenes.compare]] sections)")
    if not MIN_COMPARE <= len(raw) <= MAX_COMPARE:
        where.fail("compare", f"needs {MIN_COMPARE} to {MAX_COMPARE} runs, got {len(raw)}")
    runs: list[ComparedRun] = []
    first_preset = None
    for number, entry in enumerate(raw, 1):
        inner = dataclasses.replace(where, prefix=f"compare[{number}].")
        _check_keys(entry, RUN_KEYS, inner)
        label = _text(entry, "label", inner)
        if any(run.label == label for run in runs):
            inner.fail("label", f"{label!r} is used twice; every run needs its own label")
        preset, config = _run_config(entry, inner)
        first_preset = first_preset if runs else preset
        runs.append(ComparedRun(label, config))
    for number, run in enumerate(runs[1:], 2):
        for name in SHARED_FIELDS:
            ours, theirs = getattr(run.config, name), getattr(runs[0].config, name)
            if ours != theirs:
                where.fail(
                    f"compare[{number}].{name}",
                    f"{run.label!r} has {name} = {ours!r} but {runs[0].label!r} has {theirs!r}; "
                    f"compared runs must share {', '.join(SHARED_FIELDS)}",
                )
    return tuple(runs), first_preset


def _run_config(
    data: Mapping[str, Any], where: _Where, alternative: str = ""
) -> tuple[Preset | None, Config]:
    """A run's preset (if named) and config: the preset's or the inline one, then ``set``."""
    if ("preset" in data) == ("config" in data):
        got = "both" if "preset" in data else "neither"
        where.fail(
            "preset", f"give exactly one of preset = <id> or a config table{alternative}; got {got}"
        )
    preset = None
    if "preset" in data:
        try:
            preset = get_preset(_text(data, "preset", where))
        except UnknownPresetError as exc:
            where.fail("preset", str(exc))
        config = preset.config
    else:
        config = _config(data, "config", where, None)
    if "set" in data:
        config = _config(data, "set", where, config)
    return preset, config


def _config(data: Mapping[str, Any], key: str, where: _Where, base: Config | None) -> Config:
    table = data[key]
    if not isinstance(table, Mapping):
        where.fail(key, f"must be a table of config keys, got {table!r}")
    try:
        return Config.from_dict(table, base)
    except ConfigError as exc:
        where.fail(key, str(exc))


def _check_keys(data: Mapping[str, Any], known: tuple[str, ...], where: _Where) -> None:
    for key in map(str, data):
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            where.fail(key, f"unknown key{hint}; allowed keys: {', '.join(known)}")


def _text(data: Mapping[str, Any], key: str, where: _Where) -> str:
    """A required non-empty string (titles, captions, labels, ids)."""
    if key not in data:
        where.fail(key, "is required but missing")
    value = data[key]
    if not isinstance(value, str) or not value.strip():
        where.fail(key, f"must be a non-empty string, got {value!r}")
    return value.strip()
