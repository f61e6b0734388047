"""The menu bar: View (presentation mode, settings panel, replay, theme), Lesson (scenes),
Compare.

Menus only hold actions; what they do lives in the window. Every action with a key also sits
on the window itself, so the keys keep working in presentation mode with the menu bar hidden.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMainWindow, QMenu

from gradsim.app.export.file_commands import FileCommands
from gradsim.app.inputs.actions import window_action
from gradsim.app.lecture.lecture_commands import LectureCommands, bundled_lessons
from gradsim.app.lecture.lesson_player import LessonPlayer
from gradsim.app.model.view_state import ViewState
from gradsim.app.views.themes import THEMES


@dataclass(frozen=True)
class ReplayKeys:
    """What View → Replay's keys do (the window binds them to its session and state)."""

    first: Callable[[], None]
    back: Callable[[], None]
    forward: Callable[[], None]
    live: Callable[[], None]


@dataclass
class Menus:
    """The actions the window and the tests reach."""

    view: QMenu
    theme_actions: dict[str, QAction]
    show_map: QAction
    show_distributions: QAction
    show_function: QAction
    first_step: QAction
    lesson_actions: dict[str, QAction]
    open_lesson: QAction
    compare_with: QAction
    stop_comparing: QAction


def build_menus(
    window: QMainWindow,
    lecture: LectureCommands,
    player: LessonPlayer,
    state: ViewState,
    *,
    presentation: QAction,
    settings_panel: QAction,
    replay_keys: ReplayKeys,
) -> Menus:
    """View, Lesson and Compare menus (after File and Data)."""
    bar = window.menuBar()
    view = bar.addMenu("&View")
    view.setToolTipsVisible(True)
    view.addAction(presentation)
    settings_panel.setText("Settings panel")
    settings_panel.setToolTip("Show or hide the settings of the run (a single run's)")
    view.addAction(settings_panel)
    tip = (
        "Every layer's histogram of the signal, the input of the activation or a gradient at"
        " the step shown, and one layer over time (a single run's)"
    )
    show_distributions = _panel_action(
        window, state, view, "Distributions", "distributions", "Ctrl+D", tip
    )
    tip = "Where your network sits between vanishing (order) and exploding (chaos) gradients"
    show_map = _panel_action(window, state, view, "Order-to-chaos map", "map", "Ctrl+M", tip)
    tip = (
        "What the network computes: decision regions over the input plane (spirals, circles,"
        " blobs) or prediction against target; in a comparison, in place of the heatmaps"
    )
    show_function = _panel_action(
        window, state, view, "Learned function", "function", "Ctrl+F", tip
    )
    tip = "The layer profile also shows the measured step 0: where the theory should hold"
    first_step = window_action(window, "Step 0 in the layer profile", None, ["Ctrl+0"], tip, view)
    first_step.setCheckable(True)
    first_step.setChecked(state.view.first_step)
    first_step.toggled.connect(state.set_first_step)
    state.changed.connect(lambda _name: first_step.setChecked(state.view.first_step))
    tip = "A comparison's layer profile: each run divided by its own last layer (slopes only)"
    relative = window_action(
        window, "Comparison profile relative to the last layer", None, ["Ctrl+Shift+L"], tip, view
    )
    relative.setCheckable(True)
    relative.setChecked(state.view.relative_profile)
    relative.toggled.connect(state.set_relative_profile)
    state.changed.connect(lambda _name: relative.setChecked(state.view.relative_profile))
    replay = view.addMenu("Replay")
    replay.setToolTipsVisible(True)
    for text, keys, tip, slot in (
        ("Step 0", ["Home"], "Show the first recorded step in every view", replay_keys.first),
        ("One step back", ["Ctrl+Left"], "Show the recorded step before", replay_keys.back),
        ("One step forward", ["Ctrl+Right"], "Show the recorded step after", replay_keys.forward),
        ("Live", ["End"], "Follow the newest step again", replay_keys.live),
    ):
        window_action(window, text, slot, keys, tip, replay)
    themes = view.addMenu("Theme")
    group = QActionGroup(window)
    theme_actions: dict[str, QAction] = {}
    for name in THEMES:
        tip = "Dark: for dim lecture halls (the default)" if name == "dark" else "Light: for print"
        action = window_action(window, name.capitalize(), partial(state.set_theme, name), tip=tip)
        action.setCheckable(True)
        themes.addAction(action)
        group.addAction(action)
        theme_actions[name] = action

    lesson = bar.addMenu("&Lesson")
    lesson.setToolTipsVisible(True)
    lesson_actions: dict[str, QAction] = {}
    tip = "Step through the lesson scene by scene with Page Down / Page Up"
    for item in bundled_lessons():
        text = f"Start “{item.title}” ({len(item.scenes)} scenes)"
        lesson_actions[item.id] = window_action(
            window, text, partial(lecture.start_lesson, item), tip=tip, menu=lesson
        )
    tip = "A lesson of your own (TOML)"
    open_lesson = window_action(
        window, "Open lesson file…", lecture.choose_lesson_file, ["Ctrl+L"], tip, lesson
    )
    lesson.addSeparator()
    lesson.addActions([player.next_action, player.previous_action])
    window_action(window, "Leave lesson", lecture.leave_lesson, menu=lesson)

    compare = bar.addMenu("&Compare")
    compare.setToolTipsVisible(True)
    tip = "Run 2-4 configurations side by side, in lockstep, on one colour scale"
    compare_with = window_action(
        window, "Compare with…", lecture.choose_comparison, ["Ctrl+K"], tip, compare
    )
    tip = "Leave the comparison"
    stop = window_action(window, "Back to a single run", lecture.stop_comparison, tip=tip)
    compare.addAction(stop)
    return Menus(
        view,
        theme_actions,
        show_map,
        show_distributions,
        show_function,
        first_step,
        lesson_actions,
        open_lesson,
        compare_with,
        stop,
    )


def _panel_action(
    window: QMainWindow, state: ViewState, menu: QMenu, text: str, panel: str, key: str, tip: str
) -> QAction:
    """A checkable action that brings ``panel`` to the front (unchecked: the layer profile),
    checked whenever the view state shows it, whoever chose it."""
    action = window_action(window, text, None, [key], tip, menu)
    action.setCheckable(True)
    action.toggled.connect(lambda on: state.set_panel(panel if on else "profile"))
    state.changed.connect(lambda _name: action.setChecked(state.view.panel == panel))
    return action


def build_file_menus(window: QMainWindow, files: FileCommands) -> dict[str, QAction]:
    """File and Data menus (first in the menu bar); returns their actions by name."""
    bar = window.menuBar()
    file_menu, data_menu = bar.addMenu("&File"), bar.addMenu("&Data")
    file_menu.setToolTipsVisible(True)
    data_menu.setToolTipsVisible(True)
    entries: list[tuple[QMenu, str, str, Callable[[], object], str, str] | None] = [
        (file_menu, "open", "Open config…", files.choose_open_config, "Ctrl+O",
         "Open a saved configuration (TOML): the same seed gives the same numbers"),
        None,  # Open recent
        (file_menu, "save", "Save config…", files.choose_save_config, "Ctrl+S",
         "Save this configuration as TOML"),
        (file_menu, "export_data", "Export data…", files.choose_export_data, "Ctrl+E",
         "Every recorded step and layer as CSV, NPZ or JSON (like `gradsim run`)"),
        (file_menu, "export_distributions", "Export distributions…",
         files.choose_export_distributions, "",
         "Per-layer histograms of h, z, ∂loss/∂z and ∂loss/∂W as NPZ or JSON"
         " (like `gradsim run --histograms`)"),
        (file_menu, "export_image", "Export image…", files.choose_export_image, "Ctrl+Shift+E",
         "PNG up to 4K, drawn sharp, or SVG for slides: the window or one view"),
        (file_menu, "copy_image", "Copy image", files.copy_image, "Ctrl+Shift+C",
         "The window as an image on the clipboard"),
        (file_menu, "record", "Record animation…", files.choose_record, "",
         "An animated GIF of the heatmap filling in over the run so far"),
        (file_menu, "quit", "Quit", window.close, "Ctrl+Q", ""),
        (data_menu, "load_csv", "Load CSV…", files.choose_csv, "",
         "Train on your own data: a CSV with a header; the last column (or target_column)"
         " is the target"),
    ]  # fmt: skip
    actions: dict[str, QAction] = {"file_menu": file_menu.menuAction()}
    for entry in entries:
        if entry is None:
            recent = file_menu.addMenu("Open recent")
            recent.aboutToShow.connect(lambda menu=recent: files.fill_recent(menu))
            continue
        menu, name, text, slot, key, tip = entry
        if name in ("export_data", "quit"):
            menu.addSeparator()
        actions[name] = window_action(window, text, slot, [key] if key else [], tip, menu)
    return actions
