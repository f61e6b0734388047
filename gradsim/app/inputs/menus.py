"""The menu bar: View (presentation mode, settings panel, theme), Lesson (scenes), Compare.

Menus only hold actions; what they do lives in the window. Every action with a key also sits
on the window itself, so the keys keep working in presentation mode with the menu bar hidden.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

from gradsim.app.views.themes import THEMES
from gradsim.engine.lessons import Lesson


@dataclass
class Menus:
    """The actions the window and the tests reach."""

    view: QMenu
    lesson: QMenu
    compare: QMenu
    theme_actions: dict[str, QAction]
    show_map: QAction
    lesson_actions: dict[str, QAction]
    open_lesson: QAction
    leave_lesson: QAction
    compare_with: QAction
    stop_comparing: QAction


def _action(
    window: QMainWindow, menu: QMenu, text: str, slot: Callable[[], object], key: str = "", tip=""
) -> QAction:
    action = menu.addAction(text)
    if key:
        action.setShortcut(QKeySequence(key))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        window.addAction(action)
    if tip:
        action.setToolTip(tip)
        action.setStatusTip(tip)
    action.triggered.connect(lambda _=False: slot())
    return action


def build_menus(
    window: QMainWindow,
    *,
    presentation: QAction,
    settings_panel: QAction,
    next_scene: QAction,
    previous_scene: QAction,
    lessons: list[Lesson],
    on_theme: Callable[[str], None],
    on_map: Callable[[bool], None],
    on_lesson: Callable[[Lesson], None],
    on_open_lesson: Callable[[], None],
    on_leave_lesson: Callable[[], None],
    on_compare: Callable[[], None],
    on_stop_comparing: Callable[[], None],
) -> Menus:
    bar = window.menuBar()
    view = bar.addMenu("&View")
    view.setToolTipsVisible(True)
    view.addAction(presentation)
    settings_panel.setText("Settings panel")
    settings_panel.setToolTip("Show or hide the settings of the run (a single run's)")
    view.addAction(settings_panel)
    show_map = view.addAction("Order-to-chaos map")
    show_map.setCheckable(True)
    show_map.setShortcut(QKeySequence("Ctrl+M"))
    show_map.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    show_map.setToolTip(
        "Where your network sits between vanishing (order) and exploding (chaos) gradients"
    )
    show_map.toggled.connect(on_map)
    window.addAction(show_map)
    themes = view.addMenu("Theme")
    group = QActionGroup(window)
    theme_actions: dict[str, QAction] = {}
    for name in THEMES:
        action = themes.addAction(f"{name.capitalize()}")
        action.setCheckable(True)
        action.setToolTip(
            "Dark: for dim lecture halls (the default)" if name == "dark" else "Light: for print"
        )
        group.addAction(action)
        action.triggered.connect(lambda _=False, n=name: on_theme(n))
        theme_actions[name] = action

    lesson = bar.addMenu("&Lesson")
    lesson.setToolTipsVisible(True)
    lesson_actions: dict[str, QAction] = {}
    for item in lessons:
        action = lesson.addAction(f"Start “{item.title}” ({len(item.scenes)} scenes)")
        action.setToolTip("Step through the lesson scene by scene with Page Down / Page Up")
        action.triggered.connect(lambda _=False, lsn=item: on_lesson(lsn))
        lesson_actions[item.id] = action
    open_lesson = _action(
        window, lesson, "Open lesson file…", on_open_lesson, "Ctrl+L", "A lesson of your own (TOML)"
    )
    lesson.addSeparator()
    lesson.addAction(next_scene)
    lesson.addAction(previous_scene)
    leave_lesson = _action(window, lesson, "Leave lesson", on_leave_lesson)

    compare = bar.addMenu("&Compare")
    compare.setToolTipsVisible(True)
    compare_with = _action(
        window,
        compare,
        "Compare with…",
        on_compare,
        "Ctrl+K",
        "Run 2-4 configurations side by side, in lockstep, on one colour scale",
    )
    stop_comparing = _action(
        window, compare, "Back to a single run", on_stop_comparing, "", "Leave the comparison"
    )
    return Menus(
        view=view,
        lesson=lesson,
        compare=compare,
        theme_actions=theme_actions,
        show_map=show_map,
        lesson_actions=lesson_actions,
        open_lesson=open_lesson,
        leave_lesson=leave_lesson,
        compare_with=compare_with,
        stop_comparing=stop_comparing,
    )
