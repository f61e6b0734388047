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
    ) -> None:
        """Show these runs from step 0, paused (and leave the lesson, unless told not to)."""

    def single_config(self) -> Config:
        """The single run's config (kept in the controls while a comparison is shown)."""

    def export_widget(self, target: str) -> QWidget:
        """The widget pictured for an export target ("window", "heatmap", ...)."""

    def look(self) -> Theme:
        """The theme in use (its projector variant in presentation mode)."""

    def dialog_parent(self) -> QWidget:
        """The widget dialogs and messages belong to."""

    def show_status(self, text: str) -> None:
        """A short note in the status bar."""

    def update_caption(self) -> None:
        """Rewrite the caption (its source changed: a lesson left, a config edited)."""
