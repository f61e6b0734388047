"""Lecture commands: lessons scene by scene, and side-by-side comparisons.

A plain object given the window (``Host``), the run session, the view state and the lesson
player: a scene or a comparison is a set of runs for the session, started through the window
so that the view, the controls and the caption follow.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from gradsim.app.host import Host
from gradsim.app.lecture.lesson_player import LessonPlayer
from gradsim.app.messages import show_error
from gradsim.app.model.session import RunSession, RunSpec
from gradsim.app.model.view_state import PANEL_NAMES, ViewState
from gradsim.engine.config import Config
from gradsim.engine.lessons import Lesson, LessonError, list_lessons, load_lesson_file
from gradsim.engine.presets import Preset

if TYPE_CHECKING:  # the dialog loads on first use: most sessions never compare
    from gradsim.app.inputs.compare_dialog import CompareDialog


def bundled_lessons() -> list[Lesson]:
    """The lessons for the menu; a broken bundled file must not stop the app from opening."""
    try:
        return list_lessons()
    except (LessonError, OSError):
        return []


class LectureCommands:
    """Start, move through and leave lessons; start and leave comparisons."""

    def __init__(
        self,
        host: Host,
        session: RunSession,
        lessons: LessonPlayer,
        presets: Sequence[Preset],
        state: ViewState,
    ) -> None:
        self._host = host
        self._session = session
        self._state = state
        self._lessons = lessons
        self._presets = list(presets)
        self.compare_dialog: CompareDialog | None = None  # tests reach it
        lessons.sceneChanged.connect(self._show_scene)

    # -- lessons -------------------------------------------------------------------------------
    def start_lesson(self, lesson: Lesson, scene: int = 0) -> None:
        """Enter lesson mode at ``scene`` (0-based): PageDown/PageUp (or N/P) move on."""
        self._lessons.start(lesson, scene)

    def open_lesson_file(self, path: str | Path) -> bool:
        """Start the lesson in ``path``; a bad file is explained in a message box."""
        try:
            lesson = load_lesson_file(path)
        except (LessonError, OSError) as exc:
            text = str(exc) if isinstance(exc, LessonError) else f"{path}: {exc.strerror or exc}"
            show_error(self._host.dialog_parent(), "This lesson cannot be opened", text)
            return False
        self.start_lesson(lesson)
        return True

    def leave_lesson(self) -> None:
        """Keep the current runs, without the lesson's captions and keys."""
        self._lessons.stop()
        self._host.update_caption()

    def choose_lesson_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self._host.dialog_parent(), "Open lesson", "", "Lesson files (*.toml);;All files (*)"
        )
        if path:
            self.open_lesson_file(path)

    def _show_scene(self, index: int) -> None:
        """Show the scene's runs, then train its opening steps (at full speed) and pause or
        play as it says."""
        scene = self._lessons.scene
        assert scene is not None
        if scene.compare:
            specs = [RunSpec(run.label, run.config) for run in scene.compare]
        else:
            specs = [RunSpec(scene.title, scene.config, scene.preset_id)]
        self._host.show_runs(specs, scene.metric, leave_lesson=False)
        # The scene's panel, where this app has it (a newer lesson file may name others).
        self._state.set_panel(scene.panel if scene.panel in PANEL_NAMES else "profile")
        self._state.set_first_step(scene.first_step)
        if scene.steps > 0:
            self._session.run_until(scene.steps, then_play=scene.play)
        elif scene.play:
            self._session.play()

    # -- comparisons ---------------------------------------------------------------------------
    def start_comparison(
        self, runs: Sequence[tuple[str, Config]], metric: str | None = None
    ) -> None:
        """Show 2-4 (label, config) runs side by side, in lockstep, paused at step 0."""
        self._host.show_runs([RunSpec(label, config) for label, config in runs], metric)

    def stop_comparison(self) -> None:
        """Back to the single run (the lesson, if any, is left too)."""
        if self._session.count > 1:
            config = self._host.single_config()
            preset = next((p for p in self._presets if p.config == config), None)
            label = preset.title if preset is not None else "Custom configuration"
            self._host.show_runs([RunSpec(label, config, preset.id if preset else None)])

    def choose_comparison(self) -> None:
        from gradsim.app.inputs.compare_dialog import CompareDialog

        parent = self._host.dialog_parent()
        dialog = CompareDialog(self._host.single_config(), self._presets, parent)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.start_comparison(dialog.runs()))
        self.compare_dialog = dialog
        dialog.open()
