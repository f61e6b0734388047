"""The red banner over the plots that says a run diverged (or failed), and what to do."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from gradsim.app.model.worker import Snapshot
from gradsim.engine.recording import Recorder


class DivergenceBanner(QLabel):
    """Hidden while the run is fine; one sentence when it diverged or could not run."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setWordWrap(True)
        self.setStyleSheet(
            "QLabel#banner { background: #b3261e; color: white; font-weight: bold;"
            " padding: 8px; border-radius: 4px; }"
        )
        self.hide()

    def show_for(self, snapshot: Snapshot, history: Recorder) -> None:
        if snapshot.error:
            self.setText(snapshot.error)
            self.show()
        elif snapshot.state == "diverged" and history.diverged_at is not None:
            self.setText(
                f"Diverged at step {history.diverged_at}: {history.divergence_reason}."
                " Training stopped; press R to start again."
            )
            self.show()
        else:
            self.hide()
