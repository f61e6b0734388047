"""What the File and Lecture commands need of the main window, which passes itself.

The commands are plain objects given the window (through this protocol), the run session and
the view state: no mixins reading the window's private fields, and no import of the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from PySide6.QtWidgets import QWidget

from gradsim.app.model.session import RunSpec
from gradsim.app.views.themes import Theme
from gradsim.engine.config import Config


class Host(Protocol):
    def show_runs(
        self, specs: Sequence[RunSpec], metric: str | None = None, leave_lesson: bool = True
    ) -> None: ...  # these runs from step 0, paused (leaving the lesson unless told not to)

    def single_config(self) -> Config: ...  # the controls keep it while comparing

    def export_widget(self, target: str) -> QWidget: ...  # "window", "heatmap", ...

    def look(self) -> Theme: ...  # the theme in use (projector variant when presenting)

    def dialog_parent(self) -> QWidget: ...

    def show_status(self, text: str) -> None: ...

    def update_caption(self) -> None: ...  # its source changed: a lesson left
