"""The settings panel's controls: which widget edits which kind of field, and small helpers.

Kept apart from ``controls`` (which decides what an edit does) so that each file does one
job: here, a ``FieldSpec`` becomes a configured widget, and a widget's value is read and
written the same way for every kind of control.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from gradsim.app.inputs.panel_rules import CHOICE_TEXT, field_tooltip, label
from gradsim.app.inputs.spinboxes import (
    INVALID_PROPERTY,
    FloatSpinBox,
    HoldsRejectedText,
    IntSpinBox,
    WideIntSpinBox,
)
from gradsim.engine.config import FieldSpec

# Rates and thresholds span decades: their arrows walk a 1-2-5 ladder down to this floor.
LOG_FLOORS: dict[str, float] = {"learning_rate": 1e-5, "grad_clip": 0.1}
# The other float fields step linearly.
LINEAR_STEPS: dict[str, float] = {
    "init_gain": 0.1,
    "bias_init": 0.1,
    "momentum": 0.01,
    "leaky_slope": 0.01,
}
SPECIAL_TEXT: dict[str, str] = {"grad_clip": "off"}
NO_FILE_TEXT = "none: Data → Load CSV…"
_INT32_MAX = 2**31 - 1

# A rejected field is framed red (INVALID_PROPERTY); the label of a field the panel changed
# turns amber for a moment. Translucent fills read on light and dark palettes alike.
ERROR_COLOR = "#c62828"
AUTO_SET_PROPERTY = "autoSet"
PANEL_STYLE = (
    f'QAbstractSpinBox[{INVALID_PROPERTY}="true"] {{ border: 2px solid {ERROR_COLOR}; '
    "border-radius: 3px; background-color: rgba(198, 40, 40, 45); }"
    f'QLabel[{AUTO_SET_PROPERTY}="true"] {{ background-color: rgba(255, 179, 0, 110); '
    "border-radius: 3px; }"
)


def make_control(spec: FieldSpec) -> QWidget:
    """The control for one field, with its limits from ``FIELDS``."""
    widget: QWidget
    if spec.choices is not None:
        combo = QComboBox()
        for choice in spec.choices:
            combo.addItem(CHOICE_TEXT.get(choice, choice), choice)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(6)
        widget = combo
    elif spec.kind is bool:
        widget = QCheckBox(label(spec.name))
    elif spec.name == "data_path":
        widget = PathField()
    elif spec.kind is str:
        edit = QLineEdit()
        edit.setClearButtonEnabled(True)
        edit.setPlaceholderText("last column")
        widget = edit
    elif spec.kind is int:
        assert spec.low is not None and spec.high is not None
        box: IntSpinBox | WideIntSpinBox
        if spec.high <= _INT32_MAX:
            box = IntSpinBox()
            box.setRange(int(spec.low), int(spec.high))
        else:
            box = WideIntSpinBox()
            box.setRange(spec.low, spec.high)
        box.setAccelerated(True)
        widget = box
    else:
        assert spec.low is not None and spec.high is not None
        floats = FloatSpinBox(
            step=LINEAR_STEPS.get(spec.name, 0.1), log_floor=LOG_FLOORS.get(spec.name)
        )
        floats.setRange(spec.low, spec.high)
        floats.setSpecialValueText(SPECIAL_TEXT.get(spec.name, ""))
        widget = floats
    if isinstance(widget, QAbstractSpinBox):
        widget.setKeyboardTracking(False)  # typing "100" must not emit 1, 10, 100
    if isinstance(widget, (QAbstractSpinBox, QComboBox)):
        widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # no value change by a passing wheel
    return widget


def read_control(widget: QWidget) -> Any:
    """The value a control shows (a spin box's applied value, not rejected text)."""
    if isinstance(widget, QComboBox):
        return widget.currentData()
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    if isinstance(widget, WideIntSpinBox):
        return widget.int_value()
    if isinstance(widget, (QSpinBox, FloatSpinBox)):
        return widget.value()
    if isinstance(widget, PathField):
        return widget.path()
    if isinstance(widget, QLineEdit):
        return widget.text().strip()
    raise TypeError(f"unexpected control {type(widget).__name__}")


def write_control(widget: QWidget, value: Any) -> None:
    """Show a value in a control (replacing any typed text, a rejected one included)."""
    if isinstance(widget, QComboBox):
        widget.setCurrentIndex(widget.findData(value))
    elif isinstance(widget, QCheckBox):
        widget.setChecked(bool(value))
    elif isinstance(widget, QSpinBox):
        widget.setValue(int(value))
    elif isinstance(widget, (FloatSpinBox, WideIntSpinBox)):
        widget.setValue(float(value))
    elif isinstance(widget, PathField):
        widget.set_path(str(value))
    elif isinstance(widget, QLineEdit):
        widget.setText(str(value))
    if isinstance(widget, HoldsRejectedText):
        widget.recheck()  # Qt rewrote the text with its signals blocked


def message_label(name: str, color: str = "") -> QLabel:
    """A hidden, word-wrapped, selectable label under the fields (errors, notes)."""
    text = QLabel()
    text.setObjectName(name)
    text.setWordWrap(True)
    text.setStyleSheet(f"QLabel {{ {color} padding: 2px 6px; }}")
    text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    text.hide()
    return text


def set_flag(widget: QWidget, name: str, on: bool) -> None:
    """Set a dynamic property a stylesheet selects on, and restyle the widget."""
    if bool(widget.property(name)) == on:
        return
    widget.setProperty(name, on)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


class PathField(QLineEdit):
    """Read-only: the file's name, with its full path in the tooltip."""

    def __init__(self) -> None:
        super().__init__()
        self.setReadOnly(True)
        self.setPlaceholderText(NO_FILE_TEXT)
        self._path = ""

    def path(self) -> str:
        return self._path

    def set_path(self, path: str) -> None:
        self._path = path
        self.setText(Path(path).name if path else "")
        self.setCursorPosition(0)
        where = f"File: {path}" if path else "No file chosen: use Data → Load CSV…"
        self.setToolTip(field_tooltip("data_path", where))


class SignalsBlocked:
    """Block the widgets' signals for a ``with`` block, restoring their previous state."""

    def __init__(self, widgets: Iterable[QObject]) -> None:
        self._widgets = list(widgets)
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        self._previous = [w.blockSignals(True) for w in self._widgets]

    def __exit__(self, *_exc: object) -> None:
        for widget, previous in zip(self._widgets, self._previous, strict=True):
            widget.blockSignals(previous)
