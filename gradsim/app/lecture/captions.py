"""What the caption bar says: the lesson scene's words, the comparison's, the preset's, or the
plain truth about a configuration of one's own."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from gradsim.app.lecture.lesson_player import LessonPlayer
from gradsim.app.model.session import RunSession
from gradsim.engine.config import FIELDS, Config, ConfigError
from gradsim.engine.presets import Preset

COMPARISON_RULES = "The runs train in lockstep; one colour means one size in every heatmap."
LONG_TITLE = 70  # characters: a longer comparison title would take two or three lines
LISTED_DIFFERENCES = 3  # more would not fit on the caption's lines; the rest are counted


def comparison_text(configs: Sequence[Config]) -> str:
    """What the runs of a comparison differ in, read off their configurations (never
    assumed), then how the comparison is shown."""
    differing = [name for name in FIELDS if len({getattr(c, name) for c in configs}) > 1]
    if not differing:
        return f"The runs have identical settings. {COMPARISON_RULES} Press Space."

    def values(name: str) -> str:
        return " / ".join(_setting(getattr(c, name)) for c in configs)

    listed = [f"{name.replace('_', ' ')} ({values(name)})" for name in differing]
    if len(listed) > LISTED_DIFFERENCES:
        rest = len(listed) - LISTED_DIFFERENCES
        listed = [*listed[:LISTED_DIFFERENCES], f"{rest} more setting{'s' * (rest > 1)}"]
    what = listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " and " + listed[-1]
    verb = "differs" if len(differing) == 1 else "differ"
    only = "Only " if len(differing) <= LISTED_DIFFERENCES else ""
    return f"{only}{what} {verb}; all else is the same. {COMPARISON_RULES} Press Space."


def _setting(value: object) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return Path(value).name if isinstance(value, str) and "/" in value else str(value)


def caption(
    session: RunSession, lessons: LessonPlayer, presets: Mapping[str, Preset]
) -> tuple[str, str]:
    """Title and caption over the plots: the scene's in a lesson, else the comparison's, the
    preset's (while its settings are unchanged) or the custom configuration's."""
    scene = lessons.scene
    if scene is not None:
        edited = not scene.compare and session.configs[:1] != [scene.config]
        return scene.title + (" (settings changed)" if edited else ""), scene.caption
    if session.count > 1:
        title = "Comparison: " + " vs ".join(session.labels)
        if len(title) > LONG_TITLE:  # long labels: the headings name the runs already
            title = f"Comparison of {session.count} runs"
        return title, comparison_text(session.configs)
    spec = session.specs[0]
    preset = presets.get(spec.preset_id) if spec.preset_id else None
    if preset is not None and preset.config == spec.config:
        return preset.title, preset.description
    if spec.config.dataset == "csv":
        return f"Your data: {Path(spec.config.data_path).name}", _data_summary(spec.config)
    return "Custom configuration", "Your own settings: press Space to train."


def _data_summary(config: Config) -> str:
    from gradsim.engine.csv_data import read_csv_table

    try:
        table = read_csv_table(config.data_path, config.target_column, config.task)
    except (ConfigError, OSError) as exc:  # shown in full where it matters; a hint here
        return f"The file cannot be used: {exc}"
    return f"{table.summary()}. Press Space to train."
