"""Data → Load CSV off the UI thread: parse in a background thread, show the bytes read in a
progress dialog with Cancel, and keep the window responsive.

The window parses the file once (``resolve_data`` in a thread; the table stays in the
engine's cache, so the controls' and captions' later look-ups are instant), and the worker
process parses it once more when it builds its ``Simulation``: each process peaks at about
twice the float64 table, which is under 3x a typical file's size. The parse holds the GIL
only in short stretches (csv rows, a numpy chunk at a time), so the UI thread gets it back
within Python's switch interval.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtWidgets import QProgressDialog, QWidget

from gradsim.engine.config import Config, ConfigError
from gradsim.engine.csv_data import CsvLoadCancelled, resolve_data

POLL_MS = 30  # how often the UI thread looks at the parse
STEPS = 1000  # the progress bar's resolution
DIALOG_NAME = "csvLoadProgress"  # tests find the dialog by this object name


@dataclass(frozen=True)
class LoadOutcome:
    """What became of a load: the resolved config, or an error text, or a cancel."""

    config: Config | None = None
    error: str = ""
    cancelled: bool = False


class CsvLoad:
    """One background parse of ``config``'s file; ``poll`` from the UI thread."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self._cancel = threading.Event()
        self.done = 0
        self.total = 0
        self._outcome: LoadOutcome | None = None
        self._failure: BaseException | None = None  # a bug: raised again on the UI thread
        self._thread = threading.Thread(target=self._run, name="gradsim-csv-load", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def cancel(self) -> None:
        """Stop at the next chunk of rows; the outcome is a cancel whatever happens."""
        self._cancel.set()

    @property
    def finished(self) -> bool:
        return not self._thread.is_alive()

    def outcome(self) -> LoadOutcome:
        """Once ``finished``: the result (a bug in the parse is raised here)."""
        if self._cancel.is_set():
            return LoadOutcome(cancelled=True)
        if self._failure is not None:
            raise self._failure
        assert self._outcome is not None
        return self._outcome

    def _progress(self, done: int, total: int) -> bool:
        self.done, self.total = done, total
        return not self._cancel.is_set()

    def _run(self) -> None:
        try:
            self._outcome = LoadOutcome(config=resolve_data(self._config, self._progress))
        except CsvLoadCancelled:
            self._outcome = LoadOutcome(cancelled=True)
        except (ConfigError, OSError, ValueError) as exc:
            self._outcome = LoadOutcome(error=str(exc))
        except BaseException as exc:  # noqa: BLE001 - handed to the UI thread
            self._failure = exc


def load_with_progress(parent: QWidget, config: Config) -> LoadOutcome:
    """Resolve ``config`` (dataset = "csv") in a thread behind a window-modal progress dialog
    (shown after 300 ms), running the event loop meanwhile; Cancel returns at once."""
    load = CsvLoad(config)
    dialog = QProgressDialog(f"Reading {Path(config.data_path).name}…", "Cancel", 0, STEPS, parent)
    dialog.setObjectName(DIALOG_NAME)
    dialog.setWindowTitle("Load CSV data")
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(300)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(POLL_MS)

    def poll() -> None:
        if dialog.wasCanceled():  # cancel() called directly emits no signal
            cancel()
            return
        if load.total:
            dialog.setValue(min(STEPS - 1, load.done * STEPS // load.total))
        if load.finished:
            loop.quit()

    def cancel() -> None:
        load.cancel()
        loop.quit()

    timer.timeout.connect(poll)
    dialog.canceled.connect(cancel)
    load.start()
    timer.start()
    dialog.setValue(0)  # starts the minimum-duration clock
    try:
        if not load.finished:
            loop.exec()
    finally:
        timer.stop()
        if not load.finished:  # cancelled, or the application is quitting
            load.cancel()
        dialog.canceled.disconnect(cancel)
        dialog.close()
        dialog.deleteLater()
    return load.outcome() if load.finished else LoadOutcome(cancelled=True)
