"""Moving through a lesson's scenes with a presentation clicker or the keyboard.

Clickers send Page Down / Page Up; N and P do the same from a keyboard. The player only keeps
the position and says which scene to show: the window shows it (config, metric, caption).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from gradsim.app.inputs.actions import window_action
from gradsim.engine.lessons import Lesson, Scene


class LessonPlayer(QObject):
    """The current lesson and scene; ``sceneChanged`` asks the window to show a scene."""

    sceneChanged = Signal(int)  # index of the scene to show

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._lesson: Lesson | None = None
        self._index = 0
        self.next_action = window_action(
            window, "Next scene", self.next, ["PgDown", "N"], "Next scene (Page Down or N)"
        )
        self.previous_action = window_action(
            window, "Previous scene", self.previous, ["PgUp", "P"], "Previous scene (Page Up or P)"
        )
        self._update_actions()

    # -- state -------------------------------------------------------------------------------
    @property
    def lesson(self) -> Lesson | None:
        return self._lesson

    @property
    def index(self) -> int:
        return self._index

    @property
    def scene(self) -> Scene | None:
        return self._lesson.scenes[self._index] if self._lesson is not None else None

    @property
    def active(self) -> bool:
        return self._lesson is not None

    # -- navigation --------------------------------------------------------------------------
    def start(self, lesson: Lesson, index: int = 0) -> None:
        """Enter ``lesson`` at scene ``index`` (0-based)."""
        self._lesson = lesson
        self.go(index)

    def stop(self) -> None:
        """Leave lesson mode (e.g. the user picked a preset or edited the config)."""
        self._lesson = None
        self._index = 0
        self._update_actions()

    def go(self, index: int) -> None:
        if self._lesson is None:
            return
        self._index = max(0, min(index, len(self._lesson.scenes) - 1))
        self._update_actions()
        self.sceneChanged.emit(self._index)

    def next(self) -> None:
        if self._lesson is not None and self._index < len(self._lesson.scenes) - 1:
            self.go(self._index + 1)

    def previous(self) -> None:
        if self._lesson is not None and self._index > 0:
            self.go(self._index - 1)

    def _update_actions(self) -> None:
        count = len(self._lesson.scenes) if self._lesson is not None else 0
        self.next_action.setEnabled(self._index < count - 1)
        self.previous_action.setEnabled(self._lesson is not None and self._index > 0)
