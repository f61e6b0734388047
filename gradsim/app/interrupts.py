"""Ctrl+C and SIGTERM in a Qt program: handled at once, on the UI thread.

While Qt's event loop waits, no Python code runs, so a plain signal handler would wait for
the next event, and an exception raised in it would be swallowed by Qt. Instead the C-level
handler writes the signal number to a socket (``signal.set_wakeup_fd``) that a
``QSocketNotifier`` watches, and ``received`` is emitted. The window connects it to
``close()``: Ctrl+C and ``kill`` save the settings and stop the worker as the close button
does.
"""

from __future__ import annotations

import contextlib
import signal
import socket
from collections.abc import Iterable
from types import FrameType

from PySide6.QtCore import QObject, QSocketNotifier, Signal

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _noted(signum: int, frame: FrameType | None) -> None:
    """The Python-level handler: nothing to do, the wakeup byte carries the news."""


class SignalRelay(QObject):
    """Re-emits SIGINT/SIGTERM (or the given signals) as ``received(signum)``."""

    received = Signal(int)

    def __init__(
        self, parent: QObject | None = None, signals: Iterable[int] = STOP_SIGNALS
    ) -> None:
        super().__init__(parent)
        self._read, self._write = socket.socketpair()
        for end in (self._read, self._write):
            end.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._write.fileno(), warn_on_full_buffer=False)
        self._previous = {number: signal.signal(number, _noted) for number in signals}
        self._notifier = QSocketNotifier(self._read.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._drain)

    def _drain(self) -> None:
        try:
            data = self._read.recv(64)
        except OSError:
            return
        for number in data:
            if number in self._previous:
                self.received.emit(number)

    def close(self) -> None:
        """Put the earlier handlers back (the program is about to end)."""
        self._notifier.setEnabled(False)
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        signal.set_wakeup_fd(self._previous_fd)
        for end in (self._read, self._write):
            with contextlib.suppress(OSError):
                end.close()
