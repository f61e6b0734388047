"""Helpers shared by the Qt widget tests."""

from __future__ import annotations


def paints_caused_by(qtbot, widget, update, expected: int) -> int:
    """Paint events of ``widget``'s viewport that ``update()`` leads to.

    Counting starts once earlier paints have stopped, and goes on for several frames after
    the ``expected`` paints arrived: long enough for the second paint pyqtgraph used to queue
    from inside the first one (about a frame later).
    """
    from PySide6.QtCore import QEvent, QObject

    class Counter(QObject):
        count = 0

        def eventFilter(self, obj, event) -> bool:
            if event.type() == QEvent.Type.Paint:
                self.count += 1
            return False

    counter = Counter()
    widget.viewport().installEventFilter(counter)
    try:
        for _ in range(20):  # until 150 ms pass without a paint
            before = counter.count
            qtbot.wait(150)
            if counter.count == before:
                break
        counter.count = 0
        update()
        if expected:
            qtbot.waitUntil(lambda: counter.count >= expected, timeout=5000)
        qtbot.wait(150)
    finally:
        widget.viewport().removeEventFilter(counter)
    return counter.count


def open_window(qtbot, **kwargs):
    """A shown MainWindow (settings not remembered unless asked) whose worker has reported
    once. The tests' settings live in a private folder (conftest)."""
    from gradsim.app.main_window import MainWindow

    kwargs.setdefault("remember", False)
    window = MainWindow(**kwargs)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitUntil(lambda: (window.draw(), bool(window.session.snapshots))[1], timeout=5000)
    return window


def history(window):
    """The Recorder of the window's first run."""
    return window.session.histories[0]


def config_of(window):
    """The config of the window's first run."""
    return window.session.configs[0]


def latest(window):
    """The newest snapshot of the window's first run (None before the worker reported)."""
    snapshots = window.session.snapshots
    return snapshots[0] if snapshots else None


def state(window) -> str:
    """What the window's runs are doing, in the status bar's word."""
    from gradsim.app.views.status import run_state

    return run_state(window.session)


def error_box(window):
    """The newest error message box shown over ``window`` (None if none)."""
    from PySide6.QtWidgets import QMessageBox

    boxes = [
        box
        for box in window.findChildren(QMessageBox)
        if box.objectName() == "gradsim-error" and box.isVisible()
    ]
    return boxes[-1] if boxes else None


def error_text(window) -> str:
    """The text of the newest error message box over ``window`` ("" if none)."""
    box = error_box(window)
    return box.text() if box is not None else ""


def run_gradsim(*args: str):
    """``python -m gradsim ARGS`` offscreen in a fresh process (stdout/stderr captured)."""
    import os
    import subprocess
    import sys

    env = {"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"}
    env.update({k: v for k, v in os.environ.items() if k.startswith(("HOME", "XDG", "GRADSIM"))})
    return subprocess.run(
        [sys.executable, "-m", "gradsim", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
    )
