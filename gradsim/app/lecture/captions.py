"""What the caption bar says: the lesson scene's words, the comparison's, the preset's, or the
plain truth about a configuration of one's own."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from gradsim.app.lecture.lesson_player import LessonPlayer
from gradsim.app.model.session import RunSession
from gradsim.engine.config import Config, ConfigError
from gradsim.engine.presets import Preset

COMPARISON_TEXT = (
    "Same data and seed, one step at a time for every run, and one colour scale: a colour"
    " means the same size in every heatmap. Press Space."
)


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
        return "Comparison: " + " vs ".join(session.labels), COMPARISON_TEXT
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
