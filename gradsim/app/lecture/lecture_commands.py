"""The main window's lecture commands: lessons scene by scene, and side-by-side comparisons.

A mixin of ``MainWindow`` (kept apart so each file has one job): it relies on the window's
``driver``, ``lessons``, ``compare``, ``caption_bar`` and view-state helpers.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from gradsim.engine.config import Config, ConfigError
from gradsim.engine.lessons import Lesson, LessonError, Scene, list_lessons, load_lesson_file

if TYPE_CHECKING:
    from gradsim.app.inputs.compare_dialog import CompareDialog


def bundled_lessons() -> list[Lesson]:
    """The lessons for the menu; a broken bundled file must not stop the app from opening."""
    try:
        return list_lessons()
    except (LessonError, OSError):
        return []


def _data_summary(config: Config) -> str:
    from gradsim.engine.csv_data import read_csv_table

    try:
        table = read_csv_table(config.data_path, config.target_column, config.task)
    except (ConfigError, OSError) as exc:  # shown in full where it matters; a hint here
        return f"The file cannot be used: {exc}"
    return f"{table.summary()}. Press Space to train."


class LectureCommands:
    """Lessons and comparisons (mixed into MainWindow)."""

    error_box: QMessageBox | None = None
    compare_dialog: CompareDialog | None = None

    # -- lessons -------------------------------------------------------------------------------
    def start_lesson(self, lesson: Lesson, scene: int = 0) -> None:
        """Enter lesson mode at ``scene`` (0-based): PageDown/PageUp (or N/P) move on."""
        self.lessons.start(lesson, scene)

    def open_lesson_file(self, path: str | Path) -> bool:
        """Start the lesson in ``path``; a bad file is explained in a message box."""
        try:
            lesson = load_lesson_file(path)
        except (LessonError, OSError) as exc:
            text = str(exc) if isinstance(exc, LessonError) else f"{path}: {exc.strerror or exc}"
            self.show_error("This lesson cannot be opened", text)
            return False
        self.start_lesson(lesson)
        return True

    def leave_lesson(self) -> None:
        """Keep the current run (or comparison), without the lesson's captions and keys."""
        self.lessons.stop()
        self._apply_preset_view()

    def _choose_lesson_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open lesson", "", "Lesson files (*.toml);;All files (*)"
        )
        if path:
            self.open_lesson_file(path)

    def _show_scene(self, index: int) -> None:
        scene = self.lessons.scene
        assert scene is not None
        if scene.compare:
            self._compare([(run.label, run.config) for run in scene.compare], scene.metric)
        else:
            self._show_run(scene.config, None, scene.metric)
        self._enter(scene)

    def _enter(self, scene: Scene) -> None:
        """Run the scene's opening steps at full speed, then pause or play as it says."""
        target = self.compare if self.compare.active else self.driver
        if scene.steps > 0:
            target.run_until(scene.steps, then_play=scene.play)
        elif scene.play:
            target.play()

    # -- comparisons ---------------------------------------------------------------------------
    def start_comparison(
        self, runs: Sequence[tuple[str, Config]], metric: str | None = None
    ) -> None:
        """Show 2-4 (label, config) runs side by side, in lockstep, paused at step 0."""
        self.lessons.stop()
        self._compare(list(runs), metric or self._metric)

    def stop_comparison(self) -> None:
        """Back to the single run (the lesson, if any, is left too)."""
        if self.compare.active:
            self.lessons.stop()
            self.compare.leave()
            self._after_mode_change()

    def _compare(self, runs: list[tuple[str, Config]], metric: str) -> None:
        self.driver.pause()
        self._metric = metric
        self.compare.start(
            runs,
            metric,
            speed=self._speed,
            window=self._window_span,
            theme=self.theme,
            font_scale=self._font_scale,
        )
        self._compare_labels = [label for label, _ in runs]
        self._after_mode_change()

    def _choose_comparison(self) -> None:
        from gradsim.app.inputs.compare_dialog import CompareDialog

        dialog = CompareDialog(self._config, self._presets, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.start_comparison(dialog.runs()))
        self.compare_dialog = dialog  # tests reach it
        dialog.open()

    def _caption(self) -> tuple[str, str]:
        """Title and caption over the plots (and the scene counter): the scene's in a lesson,
        else the comparison's, the preset's or the custom configuration's."""
        scene, lesson = self.lessons.scene, self.lessons.lesson
        if scene is not None and lesson is not None:
            self.caption_bar.set_counter(self.lessons.index, len(lesson.scenes))
            edited = not scene.compare and scene.config != self._config
            return scene.title + (" (settings changed)" if edited else ""), scene.caption
        self.caption_bar.set_counter(None, 0)
        if self.compare.active:
            return "Comparison: " + " vs ".join(self._compare_labels), (
                "Same data and seed, one step at a time for every run, and one colour"
                " scale: a colour means the same size in every heatmap. Press Space."
            )
        if self._preset is not None and self._preset.config == self._config:
            return self._preset.title, self._preset.description
        if self._config.dataset == "csv":
            return f"Your data: {Path(self._config.data_path).name}", _data_summary(self._config)
        return "Custom configuration", "Your own settings: press Space to train."

    # -- messages ------------------------------------------------------------------------------
    def show_error(self, title: str, text: str) -> None:
        """A message box that does not block the event loop (training and drawing go on)."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok)
        box.setParent(self, box.windowFlags())
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.error_box = box
        box.open()
