"""Status readouts: step, speed, loss and what the runs are doing, in words.

``transport_text`` is the one description of what training is doing; the status bar and the
caption bar (visible in presentation mode) both show it.
"""

from __future__ import annotations

import math

from PySide6.QtWidgets import QLabel, QStatusBar

from gradsim.app.model.session import RunSession
from gradsim.engine.protocol import RunState

_STATE_STYLE = {
    "running": "color: #1b7f3b; font-weight: bold;",
    "paused": "color: #555555; font-weight: bold;",
    "diverged": "color: #b3261e; font-weight: bold;",
    "stopped": "color: #b3261e; font-weight: bold;",
}


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


def transport_text(session: RunSession) -> str:
    """What training is doing, for the room: playing, paused, or building the scene."""
    opening = session.opening
    if opening is not None:
        done = max((s.step_count for s in session.snapshots), default=0)
        then = "then plays" if opening.then_play else "then pauses"
        return f"⏩ preparing: {done:,} / {opening.steps:,} steps, {then} (Space toggles)"
    state = run_state(session)
    return {
        "running": "▶ playing (Space pauses)",
        "paused": "⏸ paused (Space plays, → steps)",
        "diverged": "■ stopped: diverged (R starts again)",
        "stopped": "■ stopped (R starts again)",
    }[state]


class StatusPanel:
    """Permanent labels in the window's status bar."""

    def __init__(self, bar: QStatusBar) -> None:
        self.step = QLabel("no steps yet")
        self.rate = QLabel("")
        self.loss = QLabel("")
        self.state = QLabel("paused")
        for label in (self.step, self.rate, self.loss, self.state):
            label.setMinimumWidth(110)
            bar.addPermanentWidget(label)

    def show(self, session: RunSession) -> None:
        """The newest recorded step (as in the heatmap's last column), the speed, the first
        run's loss (a single run's) and the state."""
        steps = [step for i in range(session.count) if (step := session.newest_step(i)) is not None]
        self.step.setText(f"step {max(steps):,}" if steps else "no steps yet")
        state = run_state(session)
        rate = session.steps_per_second
        self.rate.setText(f"{rate:,.0f} steps/s" if state == "running" and rate else "")
        loss = session.histories[0].loss[-1:] if session.count == 1 else ()
        if not len(loss):
            self.loss.setText("")
        elif math.isfinite(loss[0]):
            self.loss.setText(f"loss {loss[0]:.4g}")
        else:
            self.loss.setText(f"loss {loss[0]}")
        self.state.setText(state)
        self.state.setStyleSheet(_STATE_STYLE.get(state, ""))
