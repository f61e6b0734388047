"""Replay: a step slider and a Live button under the plots.

Dragging the slider (or clicking a heatmap column, or Home / Ctrl+← / Ctrl+→) shows that
recorded step in every view; Live (or End) follows the newest step again. The bar only writes
the view state's ``shown_step``; the views read it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QWidget

from gradsim.app.model.session import RunSession
from gradsim.app.model.view_state import ViewState

BASE_PT = 11.0  # the caption's size at font scale 1 (presentation mode multiplies it)


class ReplayBar(QWidget):
    """Slider over the recorded steps, the step shown, and a Live toggle."""

    def __init__(self, state: ViewState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._state = state
        self._range = (0, 0)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip(
            "Replay a recorded step in every view (Home: step 0, Ctrl+← / Ctrl+→: one step;"
            " or click a heatmap column)"
        )
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # arrows stay training keys
        self.label = QLabel()
        self.label.setMinimumWidth(180)
        self.live = QPushButton("● Live")
        self.live.setCheckable(True)
        self.live.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.live.setToolTip("Follow the newest step again (End)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        title = QLabel("Replay")
        layout.addWidget(title)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.label)
        layout.addWidget(self.live)
        self._texts = [title, self.label, self.live]
        self.slider.valueChanged.connect(self._on_slider)
        self.live.clicked.connect(lambda: state.show_step(None))
        self.set_font_scale(1.0)

    def _on_slider(self, value: int) -> None:
        if not self.slider.signalsBlocked():
            self._state.show_step(value)

    def show_session(self, session: RunSession) -> None:
        """Fit the slider to the recorded steps (cheap: called every frame)."""
        histories = [h for h in session.histories if len(h)]
        first = min((h.steps_at(0) for h in histories), default=0)
        newest = max((h.steps_at(-1) for h in histories), default=0)
        shown = self._state.view.shown_step
        self.slider.blockSignals(True)
        if (first, newest) != self._range:
            self._range = (first, newest)
            self.slider.setRange(first, newest)
        self.slider.setValue(newest if shown is None else min(max(shown, first), newest))
        self.slider.blockSignals(False)
        self.slider.setEnabled(newest > first)
        live = shown is None
        self.live.setChecked(live)
        self.label.setText(
            f"step {newest:,} (live)" if live else f"step {shown:,} of {newest:,}"
        )

    def set_colors(self, text: str, background: str) -> None:
        """The window's text colours (presentation mode paints the window black or white)."""
        for widget in self._texts[:2]:
            widget.setStyleSheet(f"QLabel {{ color: {text}; background: {background}; }}")

    def set_font_scale(self, scale: float) -> None:
        size = BASE_PT * scale
        for widget in self._texts:
            font = widget.font()
            font.setPointSizeF(size)
            widget.setFont(font)
        self.label.setMinimumWidth(round(180 * scale))


def replay_by(session: RunSession, state: ViewState, delta: int) -> None:
    """Show the recorded step ``delta`` rows before (negative) or after the one shown; past
    the newest, follow the newest again. Steps, not rows, would stick in thinned history."""
    histories = [h for h in session.histories if len(h)]
    if not histories:
        return
    history = max(histories, key=lambda h: h.steps_at(-1))
    shown = state.view.shown_step
    index = len(history) - 1 if shown is None else (history.index_at(shown) or 0)
    target = index + delta
    if target > len(history) - 1:
        state.show_step(None)
    else:
        state.show_step(history.steps_at(max(0, target)))


def replay_first(session: RunSession, state: ViewState) -> None:
    """Show the first recorded step (step 0: where the theory holds)."""
    histories = [h for h in session.histories if len(h)]
    if histories:
        state.show_step(min(h.steps_at(0) for h in histories))
