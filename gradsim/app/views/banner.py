"""The red banner over the plots: a run diverged or failed, or the worker process is gone."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from gradsim.app.model.session import RunSession
from gradsim.engine.protocol import RunState


def banner_text(session: RunSession) -> str | None:
    """What the banner says, or None while all is well. A comparison says it per run, in
    the heatmaps' headings; the banner speaks for a single run, and for the worker."""
    if session.worker_error is not None:
        return session.worker_error
    if session.count != 1:
        return None
    error = session.errors[0]
    if error:
        return error
    history = session.histories[0]
    if session.states[0] is RunState.DIVERGED and history.diverged_at is not None:
        return (
            f"Diverged at step {history.diverged_at}: {history.divergence_reason}."
            " Training stopped; press R to start again."
        )
    return None


class DivergenceBanner(QLabel):
    """Hidden while all is well; one sentence when something stopped the training."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setWordWrap(True)
        self.setStyleSheet(
            "QLabel#banner { background: #b3261e; color: white; font-weight: bold;"
            " padding: 8px; border-radius: 4px; }"
        )
        self.hide()

    def show_message(self, text: str | None) -> None:
        if text:
            self.setText(text)
        self.setVisible(bool(text))
