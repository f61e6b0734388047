"""Visible dividers between side-by-side plots: without one, the colour bar's title of one
plot and the axis title of the next read as two labels of the same plot."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QSplitter, QSplitterHandle, QWidget

from gradsim.app.views.themes import DEFAULT_THEME, Theme


class DividedSplitter(QSplitter):
    """A splitter whose handles side by side draw a line down their middle (above and
    below: a plain gap), in the theme's colours. Painted by the handles themselves: a style
    sheet on the splitter would restyle, and re-polish, every widget inside it."""

    def __init__(self, orientation: Qt.Orientation, parent: QWidget | None = None) -> None:
        super().__init__(orientation, parent)
        self.line, self.back = QColor(DEFAULT_THEME.foreground), QColor(DEFAULT_THEME.background)

    def set_divider(self, theme: Theme, pixels: int) -> None:
        """The theme's colours; ``pixels`` wide side by side, half that above and below."""
        self.line, self.back = QColor(theme.foreground), QColor(theme.background)
        horizontal = self.orientation() == Qt.Orientation.Horizontal
        self.setHandleWidth(pixels if horizontal else max(4, pixels // 2))
        for i in range(1, self.count()):
            self.handle(i).update()

    def createHandle(self) -> QSplitterHandle:
        return _LineHandle(self.orientation(), self)


class _LineHandle(QSplitterHandle):
    def paintEvent(self, event: QPaintEvent) -> None:
        splitter = self.splitter()
        if not isinstance(splitter, DividedSplitter):
            return
        painter = QPainter(self)
        painter.fillRect(self.rect(), splitter.back)
        if self.orientation() == Qt.Orientation.Horizontal:
            width = max(1, round(self.width() / 10))
            middle = QRect((self.width() - width) // 2, 0, width, self.height())
            painter.fillRect(middle, splitter.line)
        painter.end()
