"""What training is doing, in words: the status bar (step, speed, loss), the transport line
of the caption bar (kept in presentation mode), and the red banner when something stopped it
(a run diverged or failed, or the worker process is gone)."""

from __future__ import annotations

import math

from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from gradsim.app.model.session import RunSession
from gradsim.engine.protocol import RunState
from gradsim.engine.recording import Recorder


def run_state(session: RunSession) -> str:
    """One word for every run together: running, paused, diverged or stopped."""
    states = session.states
    if session.worker_error is not None:
        return "stopped"
    if session.playing or session.opening is not None:
        return "running"
    if states and all(state.stopped for state in states):
        return "diverged" if RunState.DIVERGED in states else "stopped"
    return "paused"


def transport_text(session: RunSession, shown_step: int | None = None) -> str:
    """What training is doing, for the room: playing, paused, or building the scene; and
    which step the views show when one is replayed."""
    text = _training_text(session)
    return text if shown_step is None else f"{text} · replaying step {shown_step:,} (End: live)"


def _training_text(session: RunSession) -> str:
    opening = session.opening
    if opening is not None:
        done = max((s.step_count for s in session.snapshots), default=0)
        then = "then plays" if opening.then_play else "then pauses"
        return f"▶▶ preparing: {done:,} / {opening.steps:,} steps, {then} (Space toggles)"
    state = run_state(session)
    return {
        "running": "▶ playing (Space pauses)",
        "paused": "❚❚ paused (Space plays, → steps)",
        "diverged": "■ stopped: diverged (R starts again)",
        "stopped": "■ stopped (R starts again)",
    }[state]


def accuracy_text(history: Recorder) -> str:
    """"accuracy 87 %" for a classification run's newest step, "" for regression (or none yet).

    One row copied (``latest(1)``), so the views can ask every frame."""
    accuracy = history.latest(1)["accuracy"]
    if not accuracy.size or not math.isfinite(float(accuracy[-1])):
        return ""
    return f"accuracy {100 * float(accuracy[-1]):.0f} %"


class StatusPanel:
    """Permanent labels in the window's status bar (what training is doing is said in the
    caption bar, where presentation mode keeps it)."""

    def __init__(self, bar: QStatusBar) -> None:
        self.step = QLabel("no steps yet")
        self.rate = QLabel("")
        self.loss = QLabel("")
        self.accuracy = QLabel("")
        for label in (self.step, self.rate, self.loss, self.accuracy):
            label.setMinimumWidth(110)
            bar.addPermanentWidget(label)

    def show(self, session: RunSession) -> None:
        """The newest recorded step (as in the heatmap's last column), the speed while
        training, and a single run's loss and (classification) accuracy."""
        steps = [step for i in range(session.count) if (step := session.newest_step(i)) is not None]
        self.step.setText(f"step {max(steps):,}" if steps else "no steps yet")
        rate = session.snapshots[0].steps_per_second if session.snapshots else 0.0
        self.rate.setText(f"{rate:,.0f} steps/s" if session.playing and rate else "")
        single = session.histories[0] if session.count == 1 and session.histories else None
        losses = single.latest(1)["loss"] if single is not None else None
        loss = float(losses[-1]) if losses is not None and losses.size else None
        if loss is None:
            self.loss.setText("")
        else:
            self.loss.setText(f"loss {loss:.4g}" if math.isfinite(loss) else f"loss {loss}")
        self.accuracy.setText(accuracy_text(single) if single is not None else "")


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


BANNER_PT = 11.0  # the caption's size: ~26 px in presentation mode at 1080 lines


class DivergenceBanner(QLabel):
    """Hidden while all is well; one sentence when something stopped the training."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setWordWrap(True)
        self.set_font_scale(1.0)
        self.hide()

    def set_font_scale(self, scale: float) -> None:
        """Text as large as the caption's (presentation mode: readable from the back)."""
        pixels = round(BANNER_PT * scale * 96 / 72)
        self.setStyleSheet(
            "QLabel#banner { background: #b3261e; color: white; font-weight: bold;"
            f" padding: 8px; border-radius: 4px; font-size: {pixels}px; }}"
        )

    def show_message(self, text: str | None) -> None:
        if text:
            self.setText(text)
        self.setVisible(bool(text))
