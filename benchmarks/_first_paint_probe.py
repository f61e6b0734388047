"""Child process of bench_app.py: open a window offscreen, report its first painted frame, exit.

    QT_QPA_PLATFORM=offscreen python benchmarks/_first_paint_probe.py app|bare

``app`` runs ``python -m gradsim --preset seed-exploding`` unchanged, with
GRADSIM_REPORT_FIRST_PAINT=1; ``bare`` opens a QMainWindow holding one pyqtgraph PlotWidget at
the app's default size, watched by the same reporter (gradsim.app.launch.report_first_paint).
After the first paint pass, one line is printed, ``first_paint <wall time of the paint event>
<wall time the pass ended>`` (``time.time()``, the clock the parent shares), and the window
closes, which ends the event loop (and, in the app, stops its worker) so the process exits.
"""

from __future__ import annotations

import os
import runpy
import sys

WINDOW_SIZE = (1600, 900)  # MainWindow's default size without saved settings


def run_app() -> None:
    """``python -m gradsim --preset seed-exploding``, unchanged: the app itself reports its
    first paint when GRADSIM_REPORT_FIRST_PAINT is set (gradsim.app.launch)."""
    os.environ["GRADSIM_REPORT_FIRST_PAINT"] = "1"
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
    from gradsim.app.launch import report_first_paint  # the app's own reporter (~1 ms)

    report_first_paint(window)
    window.show()
    sys.exit(app.exec())


if __name__ == "__main__":
    if sys.argv[1:] == ["app"]:
        run_app()
    elif sys.argv[1:] == ["bare"]:
        run_bare()
    else:
        sys.exit("usage: _first_paint_probe.py app|bare")
