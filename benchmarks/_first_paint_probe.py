"""Child process of bench_app.py: open a window offscreen, report its first painted frame, exit.

    QT_QPA_PLATFORM=offscreen python benchmarks/_first_paint_probe.py app|bare

``app`` runs ``python -m gradsim --preset seed-exploding`` unchanged, except that the main
window is watched once it is shown; ``bare`` opens a QMainWindow holding one pyqtgraph
PlotWidget at the app's default size. When the window's first paint event arrives, a
zero-timeout timer fires after that paint pass has finished; the probe then prints one line,
``first_paint <wall time of the paint event> <wall time the pass ended>`` (``time.time()``,
the clock the parent shares), and closes the window, which ends the event loop (and, in the
app, stops its training thread) so the process exits normally.
"""

from __future__ import annotations

import time

T_START = time.time()  # before any heavy import: the interpreter's own start-up is before this

import runpy  # noqa: E402 - after the clock on purpose
import sys  # noqa: E402

WINDOW_SIZE = (1600, 900)  # MainWindow's default size without saved settings


def watch(window) -> None:
    """On the first paint of the window or any widget in it, print the times and close it.

    A top-level window fully covered by its children gets no paint event of its own (the bare
    window), so every widget in it is watched; call this when the window is about to be shown.
    """
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QWidget

    class FirstPaint(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.seen = False

        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if not self.seen and event.type() == QEvent.Type.Paint:
                self.seen = True
                painted = time.time()
                # Runs once the whole paint pass (every child widget) is done.
                QTimer.singleShot(0, lambda: finish(painted))
            return False

    def finish(painted: float) -> None:
        for widget in widgets:
            widget.removeEventFilter(watcher)
        print(f"first_paint {painted!r} {time.time()!r} start {T_START!r}", flush=True)
        window.close()

    watcher = FirstPaint()
    widgets = [window, *window.findChildren(QWidget)]
    for widget in widgets:
        widget.installEventFilter(watcher)
    window._first_paint_watcher = watcher  # keep it alive as long as the window


def run_app() -> None:
    """``python -m gradsim --preset seed-exploding``, with the main window watched."""
    from gradsim.app import launch

    original = launch.application

    def application(offscreen: bool = False):
        app = original(offscreen)
        from gradsim.app.main_window import MainWindow

        show = MainWindow.show

        def show_and_watch(self) -> None:
            watch(self)
            show(self)

        MainWindow.show = show_and_watch
        return app

    launch.application = application  # run_app looks it up in the module at call time
    sys.argv = ["gradsim", "--preset", "seed-exploding"]
    runpy.run_module("gradsim", run_name="__main__", alter_sys=True)  # exits via sys.exit


def run_bare() -> None:
    """A QMainWindow holding one pyqtgraph PlotWidget, nothing else."""
    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication(["bare"])
    window = QMainWindow()
    window.setCentralWidget(pg.PlotWidget())
    window.resize(*WINDOW_SIZE)
    watch(window)
    window.show()
    sys.exit(app.exec())


if __name__ == "__main__":
    if sys.argv[1:] == ["app"]:
        run_app()
    elif sys.argv[1:] == ["bare"]:
        run_bare()
    else:
        sys.exit("usage: _first_paint_probe.py app|bare")
