"""Starting the GUI, and its headless uses: screenshots and the self-test.

Imported only when a window is needed, so the rest of the command line works without Qt.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QEvent,
    QEventLoop,
    QMessageLogContext,
    QObject,
    QTimer,
    QtMsgType,
    qInstallMessageHandler,
)
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QWidget

from gradsim import __version__

if TYPE_CHECKING:
    from gradsim.app.main_window import MainWindow
    from gradsim.engine.config import Config
    from gradsim.engine.lessons import Lesson
    from gradsim.engine.presets import Preset

APP_NAME = "gradsim"


class LaunchError(Exception):
    """The GUI cannot do what was asked (no display, unwritable file...): one clear line."""


def application(offscreen: bool = False) -> QApplication:
    """The process's QApplication (made once), offscreen for headless work."""
    app = QApplication.instance()
    if app is None:
        qInstallMessageHandler(_quiet_platform_notes)
        if offscreen:
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
        app = QApplication([APP_NAME])
        app.setApplicationName(APP_NAME)
        app.setOrganizationName(APP_NAME)
        app.setApplicationVersion(__version__)
        # Matches the launcher entry (packaging/linux/gradsim.desktop): on Wayland the
        # window is then grouped under that entry's icon, whatever runs Python.
        app.setDesktopFileName(APP_NAME)
        app.setWindowIcon(app_icon())
    return app  # type: ignore[return-value]


def app_icon() -> QIcon:
    """The window and task-bar icon, from the sizes packaging/make_icons.py renders."""
    from gradsim.resources import resource_path

    icon = QIcon()
    try:
        for size in (16, 24, 32, 48, 64, 128, 256):
            icon.addFile(str(resource_path("icons", f"gradsim-{size}.png")))
    except FileNotFoundError:  # an incomplete install still runs, with the default icon
        pass
    return icon


_HARMLESS = ("does not support propagateSizeHints",)


def _quiet_platform_notes(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
    """Qt's messages go to stderr as usual, except known-harmless platform notes."""
    if any(note in message for note in _HARMLESS):
        return
    sys.stderr.write(message + "\n")


def run_app(
    config: Config | None = None,
    preset: Preset | None = None,
    lesson: Lesson | None = None,
    scene: int = 0,
    present: bool = False,
    theme: str | None = None,
) -> int:
    """Open the main window and run until it is closed; returns the exit status.

    ``lesson`` starts in lesson mode at ``scene`` (0-based); ``present`` in presentation mode.
    (The command line has checked for a display first: ``gradsim.cli.display``.)
    """
    app = application()
    from gradsim.app.interrupts import SignalRelay
    from gradsim.app.main_window import MainWindow

    window = MainWindow(config=config, preset=preset)
    if theme is not None:
        window.view_state.set_theme(theme)
    if os.environ.get(FIRST_PAINT_ENV):
        report_first_paint(window)
    window.show()
    if lesson is not None:
        window.lecture.start_lesson(lesson, scene)
    if present:
        window.presentation.set_active(True)
    # Ctrl+C in the terminal, or SIGTERM, closes the window as its close button would.
    relay = SignalRelay(app)
    relay.received.connect(lambda _signum: window.close())
    try:
        return app.exec()
    finally:
        relay.close()


FIRST_PAINT_ENV = "GRADSIM_REPORT_FIRST_PAINT"


def report_first_paint(window: QWidget) -> None:
    """Print ``first_paint <paint event> <end of that paint pass>`` (``time.time()``) when
    the window first paints, then close it.

    For start-up benchmarks that measure the app as it is shipped, frozen or not (no injected
    code): they set ``GRADSIM_REPORT_FIRST_PAINT=1`` (``benchmarks/bench_frozen.py``,
    ``benchmarks/_first_paint_probe.py``). A window fully covered by its children gets no
    paint event of its own, so every widget in it is watched.
    """

    class FirstPaint(QObject):
        seen = False

        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if not self.seen and event.type() == QEvent.Type.Paint:
                self.seen = True
                painted = time.time()
                # After the whole paint pass: every child widget has drawn too.
                QTimer.singleShot(0, lambda: finish(painted))
            return False

    def finish(painted: float) -> None:
        sys.stdout.write(f"first_paint {painted!r} {time.time()!r}\n")
        sys.stdout.flush()
        window.close()

    watcher = FirstPaint(window)
    for widget in (window, *window.findChildren(QWidget)):
        widget.installEventFilter(watcher)


def wait_until(condition: Callable[[], bool], timeout_s: float) -> bool:
    """Run the event loop until ``condition()`` holds or the time is up (no busy loop).

    Ctrl+C (or SIGTERM) ends the wait at once with KeyboardInterrupt: raised here, after the
    loop has returned, not inside a Qt callback (where it would be printed and ignored)."""
    loop = QEventLoop()
    deadline = time.monotonic() + timeout_s
    interrupted: list[int] = []

    met: list[bool] = []  # the condition held once: a later change (a scene that plays on
    # after its opening) does not turn the wait into a timeout

    def check() -> None:
        if condition():
            met.append(True)
        if interrupted or met or time.monotonic() > deadline:
            loop.quit()

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(check)
    timer.start()
    previous = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    for number in previous:
        signal.signal(number, lambda signum, _frame: interrupted.append(signum))
    try:
        if condition():
            met.append(True)
        else:
            loop.exec()
    finally:
        timer.stop()
        for number, handler in previous.items():
            signal.signal(number, handler)
    if interrupted:
        raise KeyboardInterrupt
    return bool(met)


def settle(window: MainWindow, timeout_s: float) -> bool:
    """Draw until the window's session has nothing left to do; False if time ran out."""

    def idle() -> bool:
        window.draw()
        return window.session.is_idle()

    done = wait_until(idle, timeout_s)
    window.draw()
    window.refresh_status()
    return done


def self_test() -> int:
    """Check that every part works in this installation; print what failed, if anything."""
    from gradsim.engine.presets import list_presets
    from gradsim.engine.simulation import Simulation

    try:
        presets = list_presets()
        for preset in presets:
            Simulation(preset.config, record=False).run(3)
        application(offscreen=True)
        from gradsim.app.main_window import MainWindow

        window = MainWindow(preset=presets[0], remember=False)
        try:
            window.resize(1280, 720)
            window.show()
            window.session.run_until(2)
            if not settle(window, 60.0):
                raise LaunchError("the worker did not train within 60 s")
            if window.session.worker_error is not None:
                raise LaunchError(window.session.worker_error)
            image = window.grab().toImage()
            if image.isNull() or image.width() < 100:
                raise LaunchError("the main window rendered an empty image")
        finally:
            window.close()
    except Exception as exc:  # noqa: BLE001 - the self-test reports any failure as text
        sys.stderr.write(f"gradsim self-test FAILED: {type(exc).__name__}: {exc}\n")
        return 1
    sys.stdout.write(f"gradsim self-test ok ({len(presets)} presets, gradsim {__version__})\n")
    return 0
