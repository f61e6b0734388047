"""The theory readout: one sentence on the per-layer gradient factor and what it compounds to.

Kept apart from the order-to-chaos map so that the window can show it without loading the
theory at start-up: it only formats a ``GradientSummary`` computed elsewhere.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtGui, QtWidgets

from gradsim.app.views.plot_parts import BASE_TICK_PT
from gradsim.app.views.themes import DEFAULT_THEME, Theme

if TYPE_CHECKING:
    from gradsim.engine.theory_summary import GradientSummary

_VERDICT_COLORS = {  # readout text on the window colour, matching the map's blue and red
    "dark": {"vanishing": "#6fb3e8", "exploding": "#f4866b"},
    "light": {"vanishing": "#2166ac", "exploding": "#b2182b"},
}


def font_of(points: float) -> QtGui.QFont:
    font = QtGui.QFont()
    font.setPointSizeF(points)
    return font


class TheoryReadout(QtWidgets.QLabel):
    """The summary sentence, verdict in colour and bold; the details in the tooltip."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.setWordWrap(True)
        policy = QtWidgets.QSizePolicy.Policy
        self.setSizePolicy(policy.Preferred, policy.Minimum)
        self._theme, self._scale = DEFAULT_THEME, 1.0
        self._summary: GradientSummary | None = None
        self._measured = ""  # the measured counterpart at the step shown, a second line
        self._restyle()

    @property
    def summary(self) -> GradientSummary | None:
        """What the readout shows (None before a config)."""
        return self._summary

    def set_summary(self, summary: GradientSummary) -> None:
        self._summary = summary
        self.setToolTip(summary.note)
        self._render()

    def set_measured(self, text: str) -> None:
        """The measured line under the prediction ("" for none); redrawn only on change."""
        if text != self._measured:
            self._measured = text
            self._render()

    @property
    def measured(self) -> str:
        return self._measured

    def set_font_scale(self, scale: float) -> None:
        self._scale = float(scale)
        self._restyle()

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self._restyle()

    def _restyle(self) -> None:
        self.setFont(font_of(BASE_TICK_PT * 1.1 * self._scale))
        theme = self._theme
        self.setStyleSheet(
            f"QLabel {{ color: {theme.window_text}; background: {theme.window};"
            f" padding: {round(6 * self._scale)}px; }}"
        )
        self._render()

    def _render(self) -> None:
        summary = self._summary
        if summary is None:
            self.setText("")
            return
        text, verdict = summary.text, summary.verdict
        color = _VERDICT_COLORS["dark" if self._theme.is_dark else "light"].get(verdict)
        if summary.available and text.endswith(verdict):  # the verdict closes the sentence
            head = html.escape(text[: -len(verdict)])
            color = color or self._theme.window_text
            body = f'{head}<b><span style="color:{color}">{verdict}</span></b>'
        else:
            body = html.escape(text)
        if self._measured:
            body += "<br>" + html.escape(self._measured)
        self.setText(body)
