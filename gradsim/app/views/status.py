"""Status bar readouts: step, speed, loss and the run's state."""

from __future__ import annotations

import math

from PySide6.QtWidgets import QLabel, QStatusBar

_STATE_STYLE = {
    "running": "color: #1b7f3b; font-weight: bold;",
    "paused": "color: #555555; font-weight: bold;",
    "diverged": "color: #b3261e; font-weight: bold;",
}


class StatusPanel:
    """Permanent labels in the window's status bar."""

    def __init__(self, bar: QStatusBar) -> None:
        self.step = QLabel("step 0")
        self.rate = QLabel("")
        self.loss = QLabel("")
        self.state = QLabel("paused")
        for label in (self.step, self.rate, self.loss, self.state):
            label.setMinimumWidth(110)
            bar.addPermanentWidget(label)

    def update(self, step: int, steps_per_second: float, loss: float | None, state: str) -> None:
        self.step.setText(f"step {step:,}")
        self.rate.setText(f"{steps_per_second:,.0f} steps/s" if state == "running" else "")
        if loss is None:
            self.loss.setText("")
        elif math.isfinite(loss):
            self.loss.setText(f"loss {loss:.4g}")
        else:
            self.loss.setText(f"loss {loss}")
        self.state.setText(state)
        self.state.setStyleSheet(_STATE_STYLE.get(state, ""))
