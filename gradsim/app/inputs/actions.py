"""Window-wide actions: keys that work wherever the focus is, with every panel hidden.

Each action with keys also sits on the window itself, so Space, F5, Page Down and the rest
keep working in presentation mode, where the menu bar and toolbar are gone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget


def window_action(
    window: QWidget,
    text: str,
    slot: Callable[[], object] | None = None,
    keys: Sequence[str] = (),
    tip: str = "",
    menu: QMenu | None = None,
) -> QAction:
    """A QAction of ``window`` (in ``menu`` if given) that calls ``slot`` when triggered."""
    action = menu.addAction(text) if menu is not None else QAction(text, window)
    if keys:
        action.setShortcuts([QKeySequence(key) for key in keys])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        window.addAction(action)
    if tip:
        action.setToolTip(tip)
        action.setStatusTip(tip)
    if slot is not None:
        action.triggered.connect(lambda _=False: slot())
    return action
