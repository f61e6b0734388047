"""The controls panel: one widget per configuration field, built from ``FIELDS``.

The panel only ever emits valid configs. Ranges come from ``FIELDS``; output_dim's minimum
rises to 2 while the run is a classification; anything ``Config`` still rejects is shown in
a red label instead of being emitted. It emits whole configs so the main window can diff
against the previous one (``LIVE_FIELDS``) to choose between a live update and a restart.

With dataset = "csv" the file decides inputs, outputs and loss: the panel reads it
(``resolve_data``) before emitting, shows those three greyed, and shows a bad file's error in
the red label. The file itself is chosen elsewhere (the window's Data menu, via
``set_config``): the panel shows its name only.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gradsim.app.inputs.spinboxes import FloatSpinBox, WideIntSpinBox
from gradsim.engine.config import FIELDS, FILE_DATASETS, Config, ConfigError, FieldSpec
from gradsim.engine.csv_data import resolve_data

GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Network", ("depth", "width", "activation", "leaky_slope", "batchnorm", "residual")),
    ("Initialization", ("init", "init_gain", "bias_init")),
    ("Training", ("optimizer", "learning_rate", "momentum", "grad_clip", "batch_size", "loss",
                  "dtype", "seed")),
    ("Data", ("dataset", "data_path", "target_column", "task", "input_dim", "output_dim")),
)  # fmt: skip
# Used by dataset = "csv" only; and what a CSV file decides instead of the controls.
FILE_ONLY_FIELDS = ("data_path", "target_column", "task")
SET_BY_FILE_FIELDS = ("input_dim", "output_dim", "loss")
SET_BY_FILE_NOTE = "With dataset = csv the file sets this."
BATCH_FILE_NOTE = "With dataset = csv at most the file's row count (then every row, every step)."
NO_FILE_TEXT = "none: Data → Load CSV…"

LABELS: dict[str, str] = {
    "depth": "Depth (layers)", "width": "Width (units)", "input_dim": "Inputs",
    "output_dim": "Outputs (classes)", "activation": "Activation", "leaky_slope": "Leaky slope",
    "init": "Scheme", "init_gain": "Init gain", "bias_init": "Bias init",
    "batchnorm": "BatchNorm", "residual": "Residual", "optimizer": "Optimizer",
    "learning_rate": "Learning rate", "momentum": "Momentum", "grad_clip": "Gradient clip",
    "batch_size": "Batch size", "dataset": "Dataset", "data_path": "Data file",
    "target_column": "Target column", "task": "Task", "loss": "Loss", "dtype": "Precision",
    "seed": "Seed",
}  # fmt: skip
ADAM_MOMENTUM_LABEL = "Momentum / β1"

# How combo entries read; the item data stays the config value.
CHOICE_TEXT: dict[str, str] = {
    "relu": "ReLU", "leaky_relu": "leaky ReLU", "elu": "ELU", "selu": "SELU", "gelu": "GELU",
    "xavier_normal": "Xavier normal", "xavier_uniform": "Xavier uniform",
    "he_normal": "He normal", "he_uniform": "He uniform", "lecun_normal": "LeCun normal",
    "sgd": "SGD", "adam": "Adam", "mse": "MSE", "cross_entropy": "cross-entropy",
    "csv": "CSV file",
}  # fmt: skip

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
CLASSIFICATION_MIN_OUTPUTS = 2
_INT32_MAX = 2**31 - 1


def field_tooltip(name: str, note: str = "") -> str:
    """A field's help text and allowed values as a word-wrapped rich-text tooltip."""
    spec = FIELDS[name]
    parts = [f"<p>{escape(spec.help, quote=False)}</p>"]
    parts.append(f"<p>Allowed: {escape(spec.allowed(), quote=False)}.</p>")
    if note:
        parts.append(f"<p>{escape(note, quote=False)}</p>")
    return "".join(parts)


class ControlsPanel(QWidget):
    """Every configuration field as a labelled control, grouped, in a scroll area."""

    configEdited = Signal(object)

    def __init__(self, config: Config | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._config = config if config is not None else Config()
        self._widgets: dict[str, QWidget] = {}
        self._labels: dict[str, QLabel] = {}

        content = QWidget()
        column = QVBoxLayout(content)
        column.setContentsMargins(4, 4, 4, 4)
        column.setSpacing(6)
        for title, names in GROUPS:
            column.addWidget(self._build_group(title, names))
        column.addStretch(1)
        self._align_label_columns()

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(content)

        self._error = QLabel()
        self._error.setObjectName("configError")
        self._error.setWordWrap(True)
        self._error.setStyleSheet("QLabel { color: #c62828; padding: 2px 6px; }")
        self._error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._error.hide()

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(2)
        outer.addWidget(scroll, 1)
        outer.addWidget(self._error)

        self.set_config(self._config)
        for name, widget in self._widgets.items():
            self._connect(name, widget)

    # -- public API ---------------------------------------------------------------------

    def set_config(self, config: Config) -> None:
        """Show a config (preset chosen, file opened) without emitting ``configEdited``."""
        self._config = config
        with _SignalsBlocked(self._widgets.values()):
            self._set_output_minimum(config.is_classification)
            for name in FIELDS:
                self._write(name, getattr(config, name))
            self._update_dependents()
        self._show_error("")

    def config(self) -> Config:
        """The config the controls show (the last valid one if they show an invalid one)."""
        try:
            return self._read_config()
        except ConfigError:
            return self._config

    def widget_for(self, field: str) -> QWidget:
        """The control editing a config field (for focus, highlighting and tests)."""
        try:
            return self._widgets[field]
        except KeyError:
            raise KeyError(f"no control for config field {field!r}") from None

    def error_text(self) -> str:
        """The message shown when the controls form an invalid config ('' when valid)."""
        return self._error.text()

    # -- building -----------------------------------------------------------------------

    def _build_group(self, title: str, names: tuple[str, ...]) -> QGroupBox:
        group = QGroupBox(title)
        form = QFormLayout(group)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        form.setContentsMargins(6, 6, 6, 6)
        form.setVerticalSpacing(4)
        for name in names:
            spec = FIELDS[name]
            widget = self._make_widget(spec)
            widget.setObjectName(name)
            widget.setToolTip(field_tooltip(name))
            # A checkbox carries its own text; its label cell stays empty so boxes align.
            label = QLabel("" if spec.kind is bool else LABELS[name])
            label.setToolTip(field_tooltip(name))
            label.setBuddy(widget)
            form.addRow(label, widget)
            self._widgets[name] = widget
            self._labels[name] = label
        return group

    def _align_label_columns(self) -> None:
        """One label width for every group, so the fields line up down the whole panel."""
        metrics = next(iter(self._labels.values())).fontMetrics()
        texts = [*LABELS.values(), ADAM_MOMENTUM_LABEL]
        longest = max(metrics.horizontalAdvance(text) for text in texts)
        for label in self._labels.values():
            label.setMinimumWidth(longest + 4)

    def _make_widget(self, spec: FieldSpec) -> QWidget:
        """The control for one field, with its limits from ``FIELDS``."""
        widget: QWidget
        if spec.choices is not None:
            combo = QComboBox()
            for choice in spec.choices:
                combo.addItem(CHOICE_TEXT.get(choice, choice), choice)
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(6)
            widget = combo
        elif spec.kind is bool:
            widget = QCheckBox(LABELS[spec.name])
        elif spec.name == "data_path":
            widget = _PathField()
        elif spec.kind is str:
            edit = QLineEdit()
            edit.setClearButtonEnabled(True)
            edit.setPlaceholderText("last column")
            widget = edit
        elif spec.kind is int:
            assert spec.low is not None and spec.high is not None
            box: QAbstractSpinBox
            if spec.high <= _INT32_MAX:
                ints = QSpinBox()
                ints.setRange(int(spec.low), int(spec.high))
                box = ints
            else:
                wide = WideIntSpinBox()
                wide.setRange(spec.low, spec.high)
                box = wide
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
            # Scrolling the panel must not change values it happens to pass over.
            widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            widget.installEventFilter(self)
        return widget

    def _connect(self, name: str, widget: QWidget) -> None:
        edited = functools.partial(self._on_edited, name)
        if isinstance(widget, QComboBox):
            widget.currentIndexChanged.connect(edited)
        elif isinstance(widget, QCheckBox):
            widget.toggled.connect(edited)
        elif isinstance(widget, (QSpinBox, FloatSpinBox, WideIntSpinBox)):
            widget.valueChanged.connect(edited)
        elif isinstance(widget, QLineEdit) and not widget.isReadOnly():
            widget.editingFinished.connect(edited)  # Return or focus out, not every keystroke

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Pass wheel events over unfocused controls on to the scroll area."""
        wheel = event.type() == QEvent.Type.Wheel
        if wheel and isinstance(watched, QWidget) and not watched.hasFocus():
            event.ignore()  # ignored + filtered: Qt offers it to the parents instead
            return True
        return super().eventFilter(watched, event)

    # -- reading and writing ------------------------------------------------------------

    def _read(self, name: str) -> Any:
        widget = self._widgets[name]
        if isinstance(widget, QComboBox):
            return widget.currentData()
        if isinstance(widget, QCheckBox):
            return widget.isChecked()
        if isinstance(widget, WideIntSpinBox):
            return widget.int_value()
        if isinstance(widget, (QSpinBox, FloatSpinBox)):
            return widget.value()
        if isinstance(widget, _PathField):
            return widget.path()
        if isinstance(widget, QLineEdit):
            return widget.text().strip()
        raise TypeError(f"unexpected control {type(widget).__name__} for {name}")

    def _write(self, name: str, value: Any) -> None:
        widget = self._widgets[name]
        if isinstance(widget, QComboBox):
            widget.setCurrentIndex(widget.findData(value))
        elif isinstance(widget, QCheckBox):
            widget.setChecked(bool(value))
        elif isinstance(widget, QSpinBox):
            widget.setValue(int(value))
        elif isinstance(widget, (FloatSpinBox, WideIntSpinBox)):
            widget.setValue(float(value))
        elif isinstance(widget, _PathField):
            widget.set_path(str(value))
        elif isinstance(widget, QLineEdit):
            widget.setText(str(value))

    def _read_config(self) -> Config:
        return Config(**{name: self._read(name) for name in FIELDS})

    # -- reacting to edits --------------------------------------------------------------

    def _on_edited(self, name: str, *_args: object) -> None:
        if name in ("loss", "dataset"):
            with _SignalsBlocked([self._widgets["output_dim"]]):
                self._set_output_minimum(self._classification_selected())
        self._update_dependents()
        try:
            config = resolve_data(self._read_config())
        except ConfigError as exc:  # CsvDataError included
            self._show_error(str(exc))
            return
        self._show_set_by_file(config)
        self._show_error("")
        if config != self._config:
            self._config = config
            self.configEdited.emit(config)

    def _classification_selected(self) -> bool:
        """Whether the chosen loss and dataset make a classification (Config decides)."""
        dataset = self._read("dataset")
        probe = Config(
            loss=self._read("loss"),
            # A file's classes show in its loss (resolve_data sets it); the probe needs no file.
            dataset="teacher" if dataset in FILE_DATASETS else dataset,
            output_dim=CLASSIFICATION_MIN_OUTPUTS,
        )
        return probe.is_classification

    def _show_set_by_file(self, config: Config) -> None:
        """Write what ``resolve_data`` chose for a CSV file into its (greyed) controls."""
        if config.dataset not in FILE_DATASETS:
            return
        names = (*SET_BY_FILE_FIELDS, "batch_size")  # batch_size: at most the row count
        with _SignalsBlocked([self._widgets[name] for name in names]):
            self._set_output_minimum(config.is_classification)
            for name in names:
                self._write(name, getattr(config, name))

    def _set_output_minimum(self, classification: bool) -> None:
        """Raise output_dim's minimum to 2 for classification (QSpinBox bumps the value)."""
        box = self._output_box()
        low = int(FIELDS["output_dim"].low or 1)
        box.setMinimum(max(low, CLASSIFICATION_MIN_OUTPUTS) if classification else low)
        self._set_file_notes()

    def _output_box(self) -> QSpinBox:
        """output_dim's control: a QSpinBox (its range fits in 32 bits)."""
        box = self._widgets["output_dim"]
        assert isinstance(box, QSpinBox)
        return box

    def _set_file_notes(self) -> None:
        """Tooltips of the controls a CSV file sets (and output_dim's classification note)."""
        from_file = self._read("dataset") in FILE_DATASETS
        for name in SET_BY_FILE_FIELDS:
            note = SET_BY_FILE_NOTE if from_file else ""
            if name == "output_dim" and not from_file and self._output_box().minimum() > 1:
                note = "Classification needs at least 2 outputs, one per class."
            self._widgets[name].setToolTip(field_tooltip(name, note))
        batch_note = BATCH_FILE_NOTE if from_file else ""
        self._widgets["batch_size"].setToolTip(field_tooltip("batch_size", batch_note))

    def _update_dependents(self) -> None:
        """Enable controls only where they act, and name momentum as Adam calls it."""
        leaky = self._read("activation") == "leaky_relu"
        self._widgets["leaky_slope"].setEnabled(leaky)
        self._labels["leaky_slope"].setEnabled(leaky)
        optimizer = self._read("optimizer")
        self._widgets["momentum"].setEnabled(optimizer != "sgd")
        self._labels["momentum"].setEnabled(optimizer != "sgd")
        self._labels["momentum"].setText(
            ADAM_MOMENTUM_LABEL if optimizer == "adam" else LABELS["momentum"]
        )
        from_file = self._read("dataset") in FILE_DATASETS
        for name in FILE_ONLY_FIELDS:
            self._widgets[name].setEnabled(from_file)
            self._labels[name].setEnabled(from_file)
        for name in SET_BY_FILE_FIELDS:
            self._widgets[name].setEnabled(not from_file)
            self._labels[name].setEnabled(not from_file)
        self._set_file_notes()

    def _show_error(self, message: str) -> None:
        self._error.setText(message)
        self._error.setVisible(bool(message))


class _PathField(QLineEdit):
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


class _SignalsBlocked:
    """Block the widgets' signals for a ``with`` block, restoring their previous state."""

    def __init__(self, widgets: Iterable[QObject]) -> None:
        self._widgets = list(widgets)
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        self._previous = [w.blockSignals(True) for w in self._widgets]

    def __exit__(self, *_exc: object) -> None:
        for widget, previous in zip(self._widgets, self._previous, strict=True):
            widget.blockSignals(previous)
