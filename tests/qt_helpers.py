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
    qtbot.waitUntil(lambda: window.latest_snapshot is not None, timeout=5000)
    return window


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
