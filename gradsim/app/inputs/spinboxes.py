"""Spin boxes that never change what was typed behind the user's back.

Qt's stock spin boxes refuse keystrokes they cannot use ("−" in a field whose minimum is 0
turns "−0.1" into 0.1), clamp out-of-range numbers to the nearest bound (1e9 becomes 1e6) and
silently put the old value back when the text is not a number. A lecturer then trains with a
value they did not choose. Here every text can be typed; when editing finishes (Return, focus
out, the window hidden or deactivated) a text that is not a number in range is *rejected*:
it stays as typed, the box's ``invalid`` property turns on (a stylesheet draws it red), the
reason is in ``rejection()`` and ``rejectionChanged``, and the value does not change.

A learning rate lives anywhere from 1e-5 to 10: a fixed number of decimals either hides it
(``0.00``) or pads it (``0.010000``), and a constant step is useless at one end of the range
or the other. ``FloatSpinBox`` shows compact ``%g`` text, accepts scientific notation and can
step along a 1-2-5 ladder. ``WideIntSpinBox`` holds integers beyond QSpinBox's 32-bit limit
(the seed goes up to 2**32 - 1); ``IntSpinBox`` is the 32-bit one.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QCoreApplication, QEvent, Qt, Signal
from PySide6.QtGui import QFocusEvent, QHideEvent, QKeyEvent, QValidator
from PySide6.QtWidgets import QAbstractSpinBox, QDoubleSpinBox, QSpinBox, QWidget

# Enough decimals that QDoubleSpinBox's rounding never changes a double (Qt's maximum).
_ALL_DECIMALS = 323
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_LADDER = (1, 2, 5)
_EPS = 1e-9  # relative tolerance for "already on the ladder"
_EXACT_INTEGERS = 2**53  # doubles hold every integer up to here
# Minus signs that arrive from slides, PDFs and word processors read as "-".
_DASHES = str.maketrans({"\u2212": "-", "\u2012": "-", "\u2013": "-", "\ufe63": "-"})
# The dynamic property a stylesheet selects on: QAbstractSpinBox[invalid="true"].
INVALID_PROPERTY = "invalid"

if TYPE_CHECKING:
    _SpinBoxBase = QAbstractSpinBox
else:
    _SpinBoxBase = object


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


def read_number(
    text: str, low: float, high: float, *, whole: bool = False, comma_decimal: bool = True
) -> tuple[float | None, str]:
    """``(value, '')`` for text that is a number in [low, high], else ``(None, reason)``.

    The reason quotes the text as typed, so the user sees which of their characters is meant.
    A Unicode minus reads as "-" (so "−0.1" is a negative number, not "0.1"); with
    ``comma_decimal`` a comma is the decimal point.
    """
    typed = text.strip()
    cleaned = typed.translate(_DASHES)
    if comma_decimal:
        cleaned = cleaned.replace(",", ".")
    if not cleaned:
        return None, "nothing typed"
    if not _NUMBER.fullmatch(cleaned):
        return None, f"“{typed}” is not a number"
    value = float(cleaned)
    if whole and not (value.is_integer() and abs(value) <= _EXACT_INTEGERS):
        return None, f"{typed} is not a whole number"
    if value < low:
        return None, f"{typed} is below the minimum {low:g}"
    if value > high:
        return None, f"{typed} is above the maximum {high:g}"
    return value, ""


class HoldsRejectedText(_SpinBoxBase):
    """Mixin for a spin box: typed text is kept and marked when it cannot become the value.

    Qt reinterprets pending text (and, when it is not acceptable, writes the old value back
    over it) on Return, focus out, hide and window deactivation; each is intercepted here.
    Subclasses may refine ``read`` (what a text means, or why it cannot be applied), set
    ``_WHOLE`` for integers, and must define ``rejectionChanged`` and call ``_watch_text``.
    """

    _rejection = ""
    _WHOLE = False  # integers only (and a comma is then no decimal point)

    def read(self, text: str) -> tuple[float | None, str]:
        """``(value, '')`` for text this box can apply, else ``(None, reason)``."""
        box = cast("QSpinBox | QDoubleSpinBox", self)  # the mixin is only used with these
        low, high = box.minimum(), box.maximum()
        return read_number(text, low, high, whole=self._WHOLE, comma_decimal=not self._WHOLE)

    def problem(self, text: str) -> str:
        """Why ``text`` cannot become the value ('' when it can)."""
        return self.read(text)[1]

    def rejection(self) -> str:
        """Why the shown text was not applied ('' when the box shows its value)."""
        return self._rejection

    def recheck(self) -> None:
        """Drop the mark if the text is fine now: call after writing a value (setValue,
        setRange), because Qt then rewrites the text with the line edit's signals blocked."""
        if self._rejection:
            self._set_rejection(self.problem(self.text()))

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        """Acceptable for a number in range; anything else is Intermediate, never Invalid,
        so every keystroke lands and the user sees exactly what they typed."""
        state = QValidator.State.Intermediate if self.problem(text) else QValidator.State.Acceptable
        return state, text, pos

    def fixup(self, text: str) -> str:
        """Unchanged: a clamped or replaced number would be a value the user did not type."""
        return text

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Return/Enter applies the typed value, or keeps a rejected text where it is."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self._reject_typed():
            event.ignore()  # as Qt does after Return: a dialog's default button may act
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        """Leaving the field applies it, unless the text is rejected: then it stays."""
        if self._reject_typed():
            QCoreApplication.sendEvent(self.lineEdit(), event)  # caret off, as Qt does
            QWidget.focusOutEvent(self, event)
            return
        super().focusOutEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        """Hiding the panel must not overwrite a rejected text with the old value."""
        if self._reject_typed():
            QWidget.hideEvent(self, event)
            return
        super().hideEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        """Window deactivation, like focus out, keeps a rejected text."""
        deactivated = event.type() == QEvent.Type.ActivationChange and not self.isActiveWindow()
        if deactivated and self._reject_typed():
            QWidget.changeEvent(self, event)
            return
        super().changeEvent(event)

    def stepBy(self, steps: int) -> None:
        """Step from the applied value when the text is rejected (Qt would only put the old
        value back and not step)."""
        if self.problem(self.text()):
            self.interpretText()  # the applied value's text, which Qt then steps from
        super().stepBy(steps)
        self.recheck()

    def _watch_text(self) -> None:
        """Call once from ``__init__``: a rejected mark follows the text as it changes."""
        self.lineEdit().textChanged.connect(self._on_text_changed)

    def _on_text_changed(self, text: str) -> None:
        # Once rejected, the mark tracks what the user types: fixed → unmarked (applied at the
        # next commit); still wrong → the reason follows what is shown. (Text Qt writes back
        # arrives with signals blocked: ``recheck`` covers that.)
        if self._rejection:
            self._set_rejection(self.problem(text))

    def _reject_typed(self) -> bool:
        """At a commit: mark the shown text if it cannot be applied; True when rejected."""
        self._set_rejection(self.problem(self.text()))
        return bool(self._rejection)

    def _set_rejection(self, reason: str) -> None:
        if reason == self._rejection:
            return
        self._rejection = reason
        self.setProperty(INVALID_PROPERTY, bool(reason))
        self.style().unpolish(self)  # re-read the stylesheet for the new property value
        self.style().polish(self)
        self.update()
        self.rejectionChanged.emit(reason)

    if TYPE_CHECKING:  # each concrete spin box defines its own
        rejectionChanged = Signal(str)


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


class FloatSpinBox(HoldsRejectedText, QDoubleSpinBox):
    """A double spin box with ``%g`` text, typed scientific notation and log or linear steps.

    With ``log_floor`` set, arrows move along the 1-2-5 ladder (0.01 → 0.02 → 0.05 → 0.1),
    stepping up from below the floor lands on the floor and stepping down from the floor goes
    to the minimum (0, or the special value text such as "off"). Otherwise each arrow adds
    ``step``, rounded to 12 significant digits so 0.1 + 0.2 shows and stores as 0.3.
    """

    rejectionChanged = Signal(str)

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
        self._watch_text()

    @property
    def log_floor(self) -> float | None:
        """Smallest ladder value for log stepping; None means linear steps of singleStep."""
        return self._log_floor

    def read(self, text: str) -> tuple[float | None, str]:
        """A number in range (a comma is the decimal point), or the special value text."""
        special = self.specialValueText()
        if special and text.strip() == special:
            return self.minimum(), ""
        return super().read(text)

    def textFromValue(self, value: float) -> str:
        """Compact ``%g``-style text."""
        return format_number(value)

    def valueFromText(self, text: str) -> float:
        """Parse typed text; Qt only asks for text ``problem`` found nothing wrong with."""
        value = self.read(text)[0]
        return self.value() if value is None else value

    def stepBy(self, steps: int) -> None:
        """Step from the typed text if it is valid (as Qt does), else from the value."""
        base = self.value()
        if not self.problem(self.text()):
            base = self.valueFromText(self.text())
        value = base
        for _ in range(abs(steps)):
            value = self.stepped(value, up=steps > 0)
        self.setValue(value)
        self.selectAll()
        self.recheck()

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


class IntSpinBox(HoldsRejectedText, QSpinBox):
    """A 32-bit integer spin box that keeps (and marks) a typed value it cannot apply.

    QSpinBox would refuse the third digit of "3000" when the maximum is 2000 (leaving "300")
    and put the old value back over a "0" below the minimum.
    """

    rejectionChanged = Signal(str)
    _WHOLE = True  # "2e3" counts; "1,000" is not read as 1.0

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setKeyboardTracking(False)
        self._watch_text()

    def textFromValue(self, value: int) -> str:
        """Plain digits, the form ``problem`` reads back."""
        return str(value)

    def valueFromText(self, text: str) -> int:
        """Parse typed text; Qt only asks for text ``problem`` found nothing wrong with."""
        value = self.read(text)[0]
        return self.value() if value is None else int(value)


class WideIntSpinBox(HoldsRejectedText, QDoubleSpinBox):
    """An integer spin box for ranges beyond 32 bits (doubles hold integers exactly to 2**53)."""

    rejectionChanged = Signal(str)
    _WHOLE = True

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(0)
        self.setSingleStep(1)
        self.setKeyboardTracking(False)
        self._watch_text()

    def int_value(self) -> int:
        """The value as a Python int."""
        return round(self.value())

    def textFromValue(self, value: float) -> str:
        """Plain digits: no group separators, so the text can be copied into a config file."""
        return str(round(value))

    def valueFromText(self, text: str) -> float:
        """Parse typed text; Qt only asks for text ``problem`` found nothing wrong with."""
        value = self.read(text)[0]
        return self.value() if value is None else value
