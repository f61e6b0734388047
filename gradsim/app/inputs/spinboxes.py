"""Spin boxes for values Qt's stock ones handle badly.

A learning rate lives anywhere from 1e-5 to 10: a fixed number of decimals either hides it
(``0.00``) or pads it (``0.010000``), and a constant step is useless at one end of the range
or the other. ``FloatSpinBox`` shows compact ``%g`` text, accepts scientific notation and can
step along a 1-2-5 ladder. ``WideIntSpinBox`` holds integers beyond QSpinBox's 32-bit limit
(the seed goes up to 2**32 - 1).
"""

from __future__ import annotations

import math
import re

from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QDoubleSpinBox, QWidget

# Enough decimals that QDoubleSpinBox's rounding never changes a double (Qt's maximum).
_ALL_DECIMALS = 323
_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# Every prefix of a number, so typing "1e-4" passes through "1", "1e" and "1e-".
_PARTIAL_NUMBER = re.compile(r"[+-]?[0-9]*\.?[0-9]*(?:[eE][+-]?[0-9]*)?")
_LADDER = (1, 2, 5)
_EPS = 1e-9  # relative tolerance for "already on the ladder"


def format_number(value: float, max_digits: int = 10) -> str:
    """The shortest ``%g`` text (at most ``max_digits`` significant digits) for a value.

    Shortest round-trip text keeps 0.003 as ``0.003`` rather than ``0.00300000``; the cap
    keeps float noise such as 0.30000000000000004 from reaching the screen.
    """
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    for digits in range(1, max_digits + 1):
        text = f"{value:.{digits}g}"
        if float(text) == value:
            return text
    return f"{value:.{max_digits}g}"


def _ladder_values(value: float) -> list[float]:
    """1-2-5 ladder values around a positive value, ascending (exact decimal doubles)."""
    exponent = math.floor(math.log10(value))
    return [float(f"{m}e{k}") for k in range(exponent - 1, exponent + 2) for m in _LADDER]


def ladder_above(value: float) -> float:
    """The smallest 1-2-5 value strictly above a positive value."""
    return next(v for v in _ladder_values(value) if v > value * (1 + _EPS))


def ladder_below(value: float) -> float:
    """The largest 1-2-5 value strictly below a positive value."""
    return next(v for v in reversed(_ladder_values(value)) if v < value * (1 - _EPS))


class FloatSpinBox(QDoubleSpinBox):
    """A double spin box with ``%g`` text, typed scientific notation and log or linear steps.

    With ``log_floor`` set, arrows move along the 1-2-5 ladder (0.01 → 0.02 → 0.05 → 0.1),
    stepping up from below the floor lands on the floor and stepping down from the floor goes
    to the minimum (0, or the special value text such as "off"). Otherwise each arrow adds
    ``step``, rounded to 12 significant digits so 0.1 + 0.2 shows and stores as 0.3.
    """

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        step: float = 0.1,
        log_floor: float | None = None,
    ) -> None:
        super().__init__(parent)
        self.setDecimals(_ALL_DECIMALS)
        self.setSingleStep(step)
        self.setKeyboardTracking(False)
        self._log_floor = log_floor

    @property
    def log_floor(self) -> float | None:
        """Smallest ladder value for log stepping; None means linear steps of singleStep."""
        return self._log_floor

    def textFromValue(self, value: float) -> str:
        """Compact ``%g``-style text."""
        return format_number(value)

    def valueFromText(self, text: str) -> float:
        """Parse typed text; only called on text ``validate`` accepted (or fixed up)."""
        cleaned = text.strip().replace(",", ".")
        if self.specialValueText() and cleaned == self.specialValueText():
            return self.minimum()
        try:
            value = float(cleaned)
        except ValueError:
            return self.value()
        return min(max(value, self.minimum()), self.maximum())

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        """Invalid for anything that cannot become a number in range, so garbage never types.

        A comma is taken as the decimal point. Numbers out of range are Intermediate
        ("2" may become "2e-3"); ``fixup`` clamps them when editing finishes.
        """
        text = text.replace(",", ".")
        cleaned = text.strip()
        special = self.specialValueText()
        if special and cleaned == special:
            return QValidator.State.Acceptable, text, pos
        if not cleaned or (special and special.startswith(cleaned)):
            return QValidator.State.Intermediate, text, pos
        if cleaned.startswith("-") and self.minimum() >= 0:
            return QValidator.State.Invalid, text, pos
        if _NUMBER.fullmatch(cleaned):
            value = float(cleaned)
            if self.minimum() <= value <= self.maximum():
                return QValidator.State.Acceptable, text, pos
            return QValidator.State.Intermediate, text, pos
        if _PARTIAL_NUMBER.fullmatch(cleaned):
            return QValidator.State.Intermediate, text, pos
        return QValidator.State.Invalid, text, pos

    def fixup(self, text: str) -> str:
        """Clamp a complete but out-of-range number to the nearest bound."""
        cleaned = text.strip().replace(",", ".")
        if not _NUMBER.fullmatch(cleaned):
            return text
        value = min(max(float(cleaned), self.minimum()), self.maximum())
        return self.textFromValue(value)

    def stepBy(self, steps: int) -> None:
        """Step from the typed text if it is valid (as Qt does), else from the value."""
        base = self.value()
        if self.validate(self.text(), 0)[0] is QValidator.State.Acceptable:
            base = self.valueFromText(self.text())
        value = base
        for _ in range(abs(steps)):
            value = self.stepped(value, up=steps > 0)
        self.setValue(value)
        self.selectAll()

    def stepped(self, value: float, *, up: bool) -> float:
        """The value one arrow press away (clamped to the range)."""
        low, high = self.minimum(), self.maximum()
        floor = self._log_floor
        if floor is None:
            moved = value + (self.singleStep() if up else -self.singleStep())
            moved = float(f"{moved:.12g}")
        elif up:
            moved = floor if value < floor * (1 - _EPS) else ladder_above(value)
        elif value <= floor * (1 + _EPS):
            moved = low
        else:
            moved = max(ladder_below(value), floor)
        return min(max(moved, low), high)


class WideIntSpinBox(QDoubleSpinBox):
    """An integer spin box for ranges beyond 32 bits (doubles hold integers exactly to 2**53)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(0)
        self.setSingleStep(1)
        self.setKeyboardTracking(False)

    def int_value(self) -> int:
        """The value as a Python int."""
        return round(self.value())

    def textFromValue(self, value: float) -> str:
        """Plain digits: no group separators, so the text can be copied into a config file."""
        return str(round(value))

    def valueFromText(self, text: str) -> float:
        """Parse digits; anything else keeps the current value."""
        cleaned = text.strip()
        return float(int(cleaned)) if _INTEGER.fullmatch(cleaned) else self.value()

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        """Digits only; a number above the maximum can only grow, so it is Invalid."""
        cleaned = text.strip()
        negative_allowed = self.minimum() < 0
        if not cleaned or cleaned == "+" or (cleaned == "-" and negative_allowed):
            return QValidator.State.Intermediate, text, pos
        if not _INTEGER.fullmatch(cleaned):
            return QValidator.State.Invalid, text, pos
        value = int(cleaned)
        if value > self.maximum() or (value < 0 and not negative_allowed):
            return QValidator.State.Invalid, text, pos
        if value < self.minimum():
            return QValidator.State.Intermediate, text, pos
        return QValidator.State.Acceptable, text, pos
