"""Ready-made lessons: a config plus a title, a caption and the metric worth watching.

Each preset is one TOML file in ``resources/presets/`` named after its id. The files are data,
not code, so a lecturer can add or tweak a lesson without touching Python; that is also why
loading them is strict: a typo in a key or value should name the file and the field instead
of silently falling back to a default and teaching the wrong thing.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gradsim.engine import tomlio
from gradsim.engine.config import Config, ConfigError
from gradsim.engine.stats import STAT_NAMES

DEFAULT_PRESET_ID = "seed-exploding"
DEFAULT_METRIC = "backprop_grad_rms"
DEFAULT_STEPS = 200
MAX_STEPS = 1_000_000

REQUIRED_KEYS = ("id", "title", "description", "config")
OPTIONAL_KEYS = ("order", "metric", "steps")
_ID_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")


class PresetError(ValueError):
    """A preset file is unreadable or invalid; the message names the file and the field."""

    def __init__(self, path: str | Path, message: str, field: str | None = None) -> None:
        self.path = Path(path)
        self.field = field
        where = f"{self.path}: {field}" if field else str(self.path)
        super().__init__(f"preset file {where}: {message}")


class UnknownPresetError(KeyError):
    """No preset has the requested id (a KeyError, since ids are lookup keys)."""

    def __init__(self, preset_id: str, known: list[str]) -> None:
        self.preset_id = preset_id
        close = difflib.get_close_matches(preset_id, known, n=3, cutoff=0.5)
        hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
        self.message = f"unknown preset {preset_id!r}{hint}; known presets: {', '.join(known)}"
        super().__init__(self.message)

    def __str__(self) -> str:
        # KeyError.__str__ would repr() the message, wrapping it in quotes.
        return self.message


@dataclass(frozen=True)
class Preset:
    """One lesson. ``steps`` is the suggested run length; ``order`` its place in the menu."""

    id: str
    title: str
    description: str
    config: Config
    metric: str = DEFAULT_METRIC
    steps: int = DEFAULT_STEPS
    order: int = 0


def presets_dir() -> Path:
    """Directory of the built-in preset files (wherever gradsim is installed)."""
    from gradsim.resources import resource_path

    return resource_path("presets")


def list_presets() -> list[Preset]:
    """All built-in presets in teaching order (``order``, then id). Files are read once."""
    return list(_builtin_presets())


def get_preset(preset_id: str) -> Preset:
    """The built-in preset with this id; ``UnknownPresetError`` lists the valid ones."""
    for preset in _builtin_presets():
        if preset.id == preset_id:
            return preset
    raise UnknownPresetError(preset_id, [p.id for p in _builtin_presets()])


def preset_ids() -> list[str]:
    """Ids of the built-in presets, in teaching order."""
    return [p.id for p in _builtin_presets()]


def clear_cache() -> None:
    """Forget the loaded presets (for tests, or after editing the files while running)."""
    _builtin_presets.cache_clear()


@functools.lru_cache(maxsize=1)
def _builtin_presets() -> tuple[Preset, ...]:
    return tuple(load_preset_dir(presets_dir()))


def load_preset_dir(directory: str | Path) -> list[Preset]:
    """Load every ``*.toml`` in a directory, sorted; duplicate ids are an error."""
    presets = [load_preset_file(path) for path in sorted(Path(directory).glob("*.toml"))]
    seen: dict[str, Preset] = {}
    for preset in presets:
        if preset.id in seen:
            raise PresetError(directory, f"preset id {preset.id!r} is used twice", "id")
        seen[preset.id] = preset
    return sorted(presets, key=lambda p: (p.order, p.id))


def load_preset_file(path: str | Path) -> Preset:
    """Read and validate one preset file; any problem raises ``PresetError``."""
    path = Path(path)
    return preset_from_dict(tomlio.load_file(path, PresetError), path)


def preset_from_dict(data: Mapping[str, Any], path: str | Path) -> Preset:
    """Validate a parsed preset document; ``path`` is named in errors and fixes the id."""
    path = Path(path)
    _check_keys(data, path)
    preset_id = _string(data, "id", path)
    if not _ID_PATTERN.match(preset_id):
        raise PresetError(
            path, f"{preset_id!r} is not a valid id: use lower-case letters, digits and '-'", "id"
        )
    if preset_id != path.stem:
        raise PresetError(
            path, f"id {preset_id!r} must match the file name ({path.stem!r}.toml)", "id"
        )
    metric = data.get("metric", DEFAULT_METRIC)
    if metric not in STAT_NAMES:
        raise PresetError(
            path,
            f"{metric!r} is not a statistic; expected one of {', '.join(STAT_NAMES)}",
            "metric",
        )
    config_table = data["config"]
    if not isinstance(config_table, Mapping):
        raise PresetError(path, "must be a table ([config] section)", "config")
    try:
        config = Config.from_dict(config_table)
    except ConfigError as exc:
        raise PresetError(path, str(exc), "config") from exc
    return Preset(
        id=preset_id,
        title=_string(data, "title", path),
        description=_reflow(_string(data, "description", path)),
        config=config,
        metric=metric,
        steps=_integer(data, "steps", path, DEFAULT_STEPS, low=1, high=MAX_STEPS),
        order=_integer(data, "order", path, 0, low=-MAX_STEPS, high=MAX_STEPS),
    )


def _check_keys(data: Mapping[str, Any], path: Path) -> None:
    known = REQUIRED_KEYS + OPTIONAL_KEYS
    for key in data:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise PresetError(
                path, f"unknown key{hint}; allowed keys: {', '.join(known)}", str(key)
            )
    for key in REQUIRED_KEYS:
        if key not in data:
            raise PresetError(path, "is required but missing", key)


def _string(data: Mapping[str, Any], key: str, path: Path) -> str:
    value = data[key]
    if not isinstance(value, str) or not value.strip():
        raise PresetError(path, f"must be a non-empty string, got {value!r}", key)
    return value.strip()


def _integer(
    data: Mapping[str, Any], key: str, path: Path, default: int, low: int, high: int
) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise PresetError(path, f"must be an integer from {low} to {high}, got {value!r}", key)
    return value


def _reflow(text: str) -> str:
    """Join hard-wrapped lines; keep blank-line paragraph breaks (the GUI wraps the text)."""
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)
