"""The caption bar over the plots: what the audience should look at, and where the lesson is.

It shows a title and a caption (the preset's or the lesson scene's, in words for the room) and,
in a lesson, the scene counter ("3 / 11") with previous/next buttons for those without a clicker.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal, SignalInstance
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from gradsim.app.views.themes import DEFAULT_THEME, Theme

TITLE_PT = 15.0  # at font scale 1; presentation mode scales it (readable from the back row)
CAPTION_PT = 11.0


class CaptionBar(QFrame):
    """Title + caption on the left; scene counter and ◀ ▶ on the right (lessons only)."""

    previousRequested = Signal()
    nextRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("caption-bar")
        self._theme = DEFAULT_THEME
        self._scale = 1.0
        self._title = QLabel()
        self._title.setObjectName("caption-title")
        self._title.setWordWrap(True)
        self._caption = QLabel()
        self._caption.setObjectName("caption-text")
        self._caption.setWordWrap(True)
        self._caption.setTextFormat(Qt.TextFormat.PlainText)
        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(self._title)
        text.addWidget(self._caption)

        # What training is doing, where the room looks (status bar and toolbar are hidden in
        # presentation mode): playing, paused, or still building a scene.
        self._transport = QLabel()
        self._transport.setObjectName("transport")
        self._transport.setToolTip("Space plays or pauses, → takes one step, R starts again")
        self._previous = self._button("◀", "Previous scene (Page Up or P)", self.previousRequested)
        self._counter = QLabel()
        self._counter.setObjectName("scene-counter")
        self._counter.setToolTip("Scene of the lesson")
        self._next = self._button("▶", "Next scene (Page Down or N)", self.nextRequested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addLayout(text, 1)
        layout.addWidget(self._transport, 0, Qt.AlignmentFlag.AlignVCenter)
        layout.addSpacing(12)
        for widget in (self._previous, self._counter, self._next):
            layout.addWidget(widget, 0, Qt.AlignmentFlag.AlignVCenter)
        self.set_counter(None, 0)
        self._restyle()

    def _button(self, glyph: str, tip: str, signal: SignalInstance) -> QToolButton:
        button = QToolButton(self)
        button.setText(glyph)
        button.setToolTip(tip)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the window's shortcuts
        button.clicked.connect(signal.emit)
        return button

    # -- content -----------------------------------------------------------------------------
    def set_text(self, title: str, caption: str) -> None:
        self._title.setText(escape(title))
        self._caption.setText(caption)

    def set_counter(self, index: int | None, count: int) -> None:
        """Show "index+1 / count" (``index`` is 0-based); None hides the counter (no lesson)."""
        shown = index is not None and count > 0
        for widget in (self._previous, self._counter, self._next):
            widget.setVisible(shown)
        if shown:
            assert index is not None
            self._counter.setText(f"{index + 1} / {count}")
            self._previous.setEnabled(index > 0)
            self._next.setEnabled(index < count - 1)

    def set_transport(self, text: str) -> None:
        """What training is doing ("⏸ paused", ...)."""
        self._transport.setText(text)

    def transport_text(self) -> str:
        return self._transport.text()

    def title_text(self) -> str:
        return self._title.text()

    def caption_text(self) -> str:
        return self._caption.text()

    def counter_text(self) -> str:
        """The counter as shown ("" outside a lesson)."""
        return self._counter.text() if self._counter.isVisibleTo(self) else ""

    # -- look --------------------------------------------------------------------------------
    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self._restyle()

    def set_font_scale(self, scale: float) -> None:
        self._scale = float(scale)
        self._restyle()

    def caption_pixel_size(self) -> int:
        """Caption text height in pixels (presentation mode must reach ~24 px at 1080p)."""
        return self._caption.font().pixelSize()

    def _restyle(self) -> None:
        theme, scale = self._theme, self._scale
        self.setStyleSheet(
            f"QFrame#caption-bar {{ background: {theme.window}; border-radius: 4px; }}"
            f"QLabel {{ color: {theme.window_text}; background: transparent; }}"
            f"QLabel#caption-title {{ color: {theme.accent}; }}"
        )
        # Pixel sizes, not points: what matters on a projector is the share of the screen.
        for label, points, bold in (
            (self._title, TITLE_PT, True),
            (self._caption, CAPTION_PT, False),
            (self._counter, TITLE_PT, True),
            (self._transport, CAPTION_PT, True),
        ):
            font = QFont(label.font())
            font.setPixelSize(round(points * scale * 96 / 72))
            font.setBold(bold)
            label.setFont(font)
        for button in (self._previous, self._next):
            font = QFont(button.font())
            font.setPixelSize(round(TITLE_PT * scale * 96 / 72))
            button.setFont(font)
