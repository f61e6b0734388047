"""Messages to the user that never stop the show: a box that does not block the event loop."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget


def show_error(parent: QWidget, title: str, text: str) -> QMessageBox:
    """A warning box over ``parent`` that leaves training and drawing running (it is modal to
    the window, not to the event loop); returned so that callers and tests can read it."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok)
    box.setParent(parent, box.windowFlags())
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setObjectName("gradsim-error")
    box.open()
    return box
