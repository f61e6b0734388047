"""Presentation mode: full screen, controls hidden, projector fonts and a high-contrast theme.

F5 (what presenters press to start a slide show) or F11 enters or leaves it; Esc leaves. The
transport keys keep working because the window itself carries their actions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QObject, QRect, Signal
from PySide6.QtWidgets import QMainWindow, QWidget

from gradsim.app.inputs.actions import window_action

# Font scale at 1080 screen lines: ticks 12 pt -> 21 pt (28 px), axis labels and captions
# >= 24 px: readable from the back of a lecture hall on a 1920x1080 projector.
PRESENTATION_SCALE = 1.75
REFERENCE_LINES = 1080


def presentation_scale(screen_height: int) -> float:
    """Font scale for a screen ``screen_height`` pixels tall (never below the normal size)."""
    return max(1.0, PRESENTATION_SCALE * screen_height / REFERENCE_LINES)


class PresentationMode(QObject):
    """Switches a main window in and out of presentation mode.

    ``apply_look(projector, scale)`` restyles every view; ``hide`` lists the widgets that get
    out of the way (controls dock, toolbar, status bar), restored to their earlier visibility.
    """

    toggled = Signal(bool)

    def __init__(
        self,
        window: QMainWindow,
        hide: Callable[[], Iterable[QWidget]],
        apply_look: Callable[[bool, float], None],
    ) -> None:
        super().__init__(window)
        self._window = window
        self._hide = hide
        self._apply_look = apply_look
        self._active = False
        self._hidden: list[QWidget] = []
        self._was_maximized = False
        self._fullscreen = False
        self._normal_geometry: QRect | None = None
        tip = (
            "Full screen, controls hidden, large fonts and high contrast for a lecture hall"
            " (F5 or F11; Esc leaves)"
        )
        keys = ["F5", "F11"]
        self.toggle_action = window_action(window, "Presentation mode", self.toggle, keys, tip)
        self.toggle_action.setCheckable(True)
        self.leave_action = window_action(
            window, "Leave presentation mode", lambda: self.set_active(False), ["Esc"]
        )
        self.leave_action.setEnabled(False)  # Esc means nothing outside presentation mode

    @property
    def active(self) -> bool:
        return self._active

    def toggle(self) -> None:
        self.set_active(not self._active)

    def set_active(self, on: bool, fullscreen: bool = True) -> None:
        """Enter (``on``) or leave. ``fullscreen=False`` keeps the window's size: headless
        screenshots of presentation mode at a chosen resolution."""
        if on == self._active:
            self.toggle_action.setChecked(on)
            return
        self._active = on
        self.toggle_action.setChecked(on)
        self.leave_action.setEnabled(on)
        window = self._window
        if on:
            self._was_maximized = window.isMaximized()
            self._hidden = [w for w in self._hide() if w.isVisible()]
            for widget in self._hidden:
                widget.hide()
            if fullscreen:
                self._normal_geometry = window.geometry()
                screen = window.screen()
                if screen is not None:  # without a window manager, full screen is only a hint
                    window.setGeometry(screen.geometry())
                window.showFullScreen()
                lines = screen.geometry().height() if screen is not None else REFERENCE_LINES
            else:
                lines = window.height()
            self._fullscreen = fullscreen
            self._apply_look(True, presentation_scale(lines))
        else:
            for widget in self._hidden:
                widget.show()
            self._hidden = []
            if not self._fullscreen:
                pass
            elif self._was_maximized:
                window.showMaximized()
            else:
                window.showNormal()
                if self._normal_geometry is not None:
                    window.setGeometry(self._normal_geometry)
            self._apply_look(False, 1.0)
        self.toggled.emit(on)
