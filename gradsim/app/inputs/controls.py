"""The controls panel: one widget per configuration field, built from ``FIELDS``.

The panel only ever emits valid configs, and never changes a value behind the user's back
(a lecturer must be able to trust that the run uses what the panel shows):

- A typed number the field cannot take ("abc", "−0.1" for a rate, 1e9 above the maximum,
  width 0) stays in the field as typed, framed red, with the reason in its tooltip and in
  the red label. It is not applied: the run keeps its config until the text is fixed.
  Ranges are those of ``FIELDS``.
- Anything ``Config`` still rejects (a combination) is shown in the red label, not emitted.
- When the panel changes a field itself, the note under the red label says what and why
  and the field's label lights up for a moment: a new init scheme takes its natural gain; a
  new dataset takes its loss, inputs and outputs, except those the user set since the last
  ``set_config`` (``panel_rules``); output_dim rises to 2 for a classification.

It emits whole configs so the main window can diff against the previous one
(``LIVE_FIELDS``) to choose between a live update and a restart.

With dataset = "csv" the file decides inputs, outputs and loss: the panel reads it
(``resolve_data``) before emitting, shows those three greyed, and shows a bad file's error in
the red label. The file itself is chosen elsewhere (the window's Data menu, via
``set_config``): the panel shows its name only.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
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
    QVBoxLayout,
    QWidget,
)

from gradsim.app.inputs.panel_rules import (
    LABELS,
    change_note,
    dataset_defaults,
    field_tooltip,
    natural_gain,
    rejection_line,
    shown,
    weight_scale,
)
from gradsim.app.inputs.panel_widgets import (
    AUTO_SET_PROPERTY,
    ERROR_COLOR,
    PANEL_STYLE,
    SignalsBlocked,
    make_control,
    message_label,
    read_control,
    set_flag,
    write_control,
)
from gradsim.app.inputs.spinboxes import (
    FloatSpinBox,
    HoldsRejectedText,
    IntSpinBox,
    WideIntSpinBox,
)
from gradsim.engine import footprint as memory
from gradsim.engine.config import FIELDS, FILE_DATASETS, Config, ConfigError
from gradsim.engine.csv_data import resolve_data

# A name FIELDS lacks is skipped: the engine may gain or drop a field (such as "bias") before
# or after the panel does, and the panel must still build; a field without a control keeps
# the value of the config last shown.
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Network", ("depth", "width", "activation", "leaky_slope", "batchnorm", "residual")),
    ("Initialization", ("init", "init_gain", "bias", "bias_init")),
    ("Training", ("optimizer", "learning_rate", "momentum", "grad_clip", "batch_size", "loss",
                  "dtype", "seed")),
    ("Data", ("dataset", "data_path", "target_column", "task", "input_dim", "output_dim")),
)  # fmt: skip
# Used by dataset = "csv" only; and what a CSV file decides instead of the controls.
FILE_ONLY_FIELDS = ("data_path", "target_column", "task")
SET_BY_FILE_FIELDS = ("input_dim", "output_dim", "loss")
SET_BY_FILE_NOTE = "With dataset = csv the file sets this."
BATCH_FILE_NOTE = "With dataset = csv at most the file's row count (then every row, every step)."
OUTPUTS_NOTE = "Classification needs at least 2 outputs, one per class."
ADAM_MOMENTUM_LABEL = "Momentum / β1"

CLASSIFICATION_MIN_OUTPUTS = 2
HIGHLIGHT_MS = 3000  # how long the label of a field the panel changed stays lit
# The network's memory and step-time estimate shows under its group from these sizes on.
LARGE_FOOTPRINT_BYTES = 500_000_000
SLOW_STEP_SECONDS = 0.5
FOOTPRINT_TIP = (
    "Estimated from the settings before anything is built: the weights, their gradients and "
    "the optimizer's state (one number each per weight), the activations of one batch and "
    "the data. A step's time is a rough figure for this kind of computer, to within a few "
    "times. A network needing more memory than the computer has free is refused."
)

# field → (value before, value after) of what the panel changed by itself.
_Changes = dict[str, tuple[Any, Any]]


class ControlsPanel(QWidget):
    """Every configuration field as a labelled control, grouped, in a scroll area."""

    configEdited = Signal(object)

    def __init__(self, config: Config | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._config = config if config is not None else Config()
        self._widgets: dict[str, QWidget] = {}
        self._labels: dict[str, QLabel] = {}
        self._touched: set[str] = set()  # fields the user set since the last set_config
        self._tip_notes: dict[str, str] = {}
        self._config_error = ""
        self._scale = QLabel()  # the effective weight scale, under the gain
        self._scale.setObjectName("weightScale")
        self._scale.setWordWrap(True)
        self._footprint = QLabel()  # memory and step time, under the network when large
        self._footprint.setObjectName("footprint")
        self._footprint.setWordWrap(True)
        self._footprint.setToolTip(FOOTPRINT_TIP)
        self._footprint.hide()

        content = QWidget()
        content.setStyleSheet(PANEL_STYLE)
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

        self._error = message_label("configError", f"color: {ERROR_COLOR};")
        self._note = message_label("configNote")
        self._highlight_timer = QTimer(self)
        self._highlight_timer.setSingleShot(True)
        self._highlight_timer.setInterval(HIGHLIGHT_MS)
        self._highlight_timer.timeout.connect(self._clear_highlights)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(2)
        outer.addWidget(scroll, 1)
        outer.addWidget(self._error)
        outer.addWidget(self._note)

        self.set_config(self._config)
        for name, widget in self._widgets.items():
            self._connect(name, widget)

    # -- public API ---------------------------------------------------------------------

    def set_config(self, config: Config) -> None:
        """Show a config (preset chosen, file opened) without emitting ``configEdited``.

        Whatever was typed (a rejected text too) gives way to the config's values, and the
        record of fields the user set starts afresh: a loaded config is a new baseline.
        """
        self._config = config
        self._touched.clear()
        with SignalsBlocked(self._widgets.values()):
            self._set_output_minimum(config.is_classification)
            for name in self._widgets:
                self._write(name, getattr(config, name))
            self._update_dependents()
        self._config_error = ""
        self._announce([], {})
        self._refresh_feedback()

    def config(self) -> Config:
        """The config the controls show (the last valid one if they show an invalid one).

        A rejected typed value is not part of it: its field still holds the applied value.
        """
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
        """Why something shown is not applied: rejected typed values, an invalid combination
        ('' when everything shown is in the run's config)."""
        return self._error.text()

    def note_text(self) -> str:
        """What the panel changed by itself at the last edit, and why ('' when nothing)."""
        return self._note.text()

    # -- building -----------------------------------------------------------------------

    def _build_group(self, title: str, names: tuple[str, ...]) -> QGroupBox:
        group = QGroupBox(title)
        form = QFormLayout(group)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        form.setContentsMargins(6, 6, 6, 6)
        form.setVerticalSpacing(4)
        for name in (name for name in names if name in FIELDS):
            spec = FIELDS[name]
            widget = make_control(spec)
            widget.setObjectName(name)
            if isinstance(widget, (QAbstractSpinBox, QComboBox)):
                widget.installEventFilter(self)  # wheel events: see eventFilter
            widget.setToolTip(field_tooltip(name))
            # A checkbox carries its own text; its label cell stays empty so boxes align.
            label = QLabel("" if spec.kind is bool else LABELS.get(name, name))
            label.setToolTip(field_tooltip(name))
            label.setBuddy(widget)
            form.addRow(label, widget)
            self._widgets[name] = widget
            self._labels[name] = label
            if name == "init_gain":
                form.addRow(QLabel(), self._scale)
        if title == "Network":
            form.addRow(self._footprint)
        return group

    def _align_label_columns(self) -> None:
        """One label width for every group, so the fields line up down the whole panel."""
        metrics = next(iter(self._labels.values())).fontMetrics()
        texts = [*LABELS.values(), ADAM_MOMENTUM_LABEL]
        longest = max(metrics.horizontalAdvance(text) for text in texts)
        for label in self._labels.values():
            label.setMinimumWidth(longest + 4)

    def _connect(self, name: str, widget: QWidget) -> None:
        edited = functools.partial(self._on_edited, name)
        if isinstance(widget, QComboBox):
            widget.currentIndexChanged.connect(edited)
        elif isinstance(widget, QCheckBox):
            widget.toggled.connect(edited)
        elif isinstance(widget, (IntSpinBox, FloatSpinBox, WideIntSpinBox)):
            widget.valueChanged.connect(edited)
            widget.rejectionChanged.connect(self._refresh_feedback)
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
        return read_control(self._widgets[name])

    def _write(self, name: str, value: Any) -> None:
        write_control(self._widgets[name], value)

    def _read_config(self) -> Config:
        return self._config.replace(**{name: self._read(name) for name in self._widgets})

    def _snapshot(self, names: Iterable[str]) -> dict[str, Any]:
        return {name: self._read(name) for name in names}

    def _diff(self, before: dict[str, Any]) -> _Changes:
        """Which of the snapshot's fields now read differently, as (before, now)."""
        now = self._snapshot(before)
        return {name: (before[name], now[name]) for name in before if before[name] != now[name]}

    # -- reacting to edits --------------------------------------------------------------

    def _on_edited(self, name: str, *_args: object) -> None:
        self._touched.add(name)
        notes: list[str] = []
        changes: _Changes = {}
        if name == "init":
            self._apply_natural_gain(notes, changes)
        if name == "dataset":
            self._apply_dataset_defaults(notes, changes)
        if name in ("loss", "dataset"):
            before = self._snapshot(["output_dim"])
            with SignalsBlocked([self._widgets["output_dim"]]):
                self._set_output_minimum(self._classification_selected())
            self._record("Classification needs one output per class", before, notes, changes)
        self._update_dependents()
        config: Config | None = None
        try:
            config = resolve_data(self._read_config())
        except ConfigError as exc:  # CsvDataError included
            self._config_error = str(exc)
        else:  # CSV: show what the file decided
            self._config_error = ""
            self._show_set_by_file(config, notes, changes)
        self._announce(notes, changes)
        self._refresh_feedback()
        if config is not None and config != self._config:
            self._config = config
            self.configEdited.emit(config)

    def _record(
        self,
        cause: str,
        before: dict[str, Any],
        notes: list[str],
        changes: _Changes,
        kept: dict[str, Any] | None = None,
    ) -> None:
        """Note what the panel changed since ``before`` (and what it kept for the user)."""
        changed = self._diff(before)
        for name, (old, new) in changed.items():
            changes[name] = (changes.get(name, (old, new))[0], new)
        if changed or kept:
            notes.append(change_note(cause, changed, kept or {}))

    def _set_by_panel(self, values: dict[str, Any]) -> None:
        """Write the panel's choices; a field already there is left alone (so text the user
        typed and had rejected there stays to be fixed)."""
        with SignalsBlocked([self._widgets[name] for name in values]):
            for name, value in values.items():
                if self._read(name) != value:
                    self._write(name, value)

    def _apply_natural_gain(self, notes: list[str], changes: _Changes) -> None:
        """A new scheme starts at its natural gain, not at the old scheme's multiple of it."""
        if "init_gain" not in self._widgets:
            return
        init = self._read("init")
        before = self._snapshot(["init_gain"])
        self._set_by_panel({"init_gain": natural_gain(init)})
        self._record(f"{shown(init)} starts at its natural gain", before, notes, changes)

    def _apply_dataset_defaults(self, notes: list[str], changes: _Changes) -> None:
        """A new dataset gets its loss and sizes, except the ones the user chose."""
        dataset = self._read("dataset")
        wanted = {n: v for n, v in dataset_defaults(dataset).items() if n in self._widgets}
        mine = {n: v for n, v in wanted.items() if n not in self._touched}
        kept = {n: self._read(n) for n in wanted if n not in mine and self._read(n) != wanted[n]}
        before = self._snapshot(mine)
        self._set_by_panel(mine)
        self._record(f"For {shown(dataset)}", before, notes, changes, kept)

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

    def _show_set_by_file(self, config: Config, notes: list[str], changes: _Changes) -> None:
        """Write what ``resolve_data`` chose for a CSV file into its (greyed) controls."""
        if config.dataset not in FILE_DATASETS:
            return
        names = (*SET_BY_FILE_FIELDS, "batch_size")  # batch_size: at most the row count
        before = self._snapshot(names)
        with SignalsBlocked([self._widgets[name] for name in names]):
            self._set_output_minimum(config.is_classification)
            for name in names:
                self._write(name, getattr(config, name))
        self._record(f"From {Path(config.data_path).name}", before, notes, changes)

    def _set_output_minimum(self, classification: bool) -> None:
        """Raise output_dim's minimum to 2 for classification (QSpinBox bumps the value)."""
        box = self._output_box()
        low = int(FIELDS["output_dim"].low or 1)
        box.setMinimum(max(low, CLASSIFICATION_MIN_OUTPUTS) if classification else low)
        box.recheck()  # setMinimum rewrites the text
        self._set_file_notes()

    def _output_box(self) -> IntSpinBox:
        """output_dim's control: an IntSpinBox (its range fits in 32 bits)."""
        box = self._widgets["output_dim"]
        assert isinstance(box, IntSpinBox)
        return box

    def _set_file_notes(self) -> None:
        """Tooltips of the controls a CSV file sets (and output_dim's classification note)."""
        from_file = self._read("dataset") in FILE_DATASETS
        for name in SET_BY_FILE_FIELDS:
            note = SET_BY_FILE_NOTE if from_file else ""
            if name == "output_dim" and not from_file and self._output_box().minimum() > 1:
                note = OUTPUTS_NOTE
            self._tip_notes[name] = note
        self._tip_notes["batch_size"] = BATCH_FILE_NOTE if from_file else ""
        for name in (*SET_BY_FILE_FIELDS, "batch_size"):
            self._apply_tooltip(name)

    def _update_dependents(self) -> None:
        """Enable controls only where they act, name momentum as Adam calls it, and show
        the weights' scale for the scheme, gain and width."""
        leaky = self._read("activation") == "leaky_relu"
        self._enable("leaky_slope", leaky)
        optimizer = self._read("optimizer")
        self._enable("momentum", optimizer != "sgd")
        self._labels["momentum"].setText(
            ADAM_MOMENTUM_LABEL if optimizer == "adam" else LABELS["momentum"]
        )
        if "bias" in self._widgets:
            self._enable("bias_init", bool(self._read("bias")))
        from_file = self._read("dataset") in FILE_DATASETS
        for name in FILE_ONLY_FIELDS:
            self._enable(name, from_file)
        for name in SET_BY_FILE_FIELDS:
            self._enable(name, not from_file)
        self._set_file_notes()
        text, tip = weight_scale(self.config())
        self._scale.setText(text)
        self._scale.setToolTip(tip)
        self._show_footprint()

    def footprint_text(self) -> str:
        """The memory and step-time estimate under the network ('' when it is hidden)."""
        return self._footprint.text() if not self._footprint.isHidden() else ""

    def _show_footprint(self) -> None:
        """Show what the config needs when it is large or slow (pure arithmetic, cheap)."""
        footprint = memory.estimate(self.config(), record=False)  # what the worker builds
        large = footprint.bytes > LARGE_FOOTPRINT_BYTES
        if not large and footprint.step_seconds <= SLOW_STEP_SECONDS:
            self._footprint.setText("")
            self._footprint.hide()
            return
        text = footprint.summary()
        free = memory.available_bytes() if large else None
        if free is not None and footprint.bytes > memory.FIT_FRACTION * free:
            text += f": more than the {memory.format_bytes(free)} free"
        self._footprint.setText(text)
        self._footprint.show()

    def _enable(self, name: str, on: bool) -> None:
        self._widgets[name].setEnabled(on)
        self._labels[name].setEnabled(on)

    # -- saying what happened -----------------------------------------------------------

    def _applied_text(self, name: str) -> str:
        """The value the run has for a field, as its control shows it."""
        widget = self._widgets[name]
        value = self._read(name)
        special = widget.specialValueText() if isinstance(widget, QAbstractSpinBox) else ""
        return special if special and value == FIELDS[name].low else shown(value)

    def _apply_tooltip(self, name: str) -> None:
        widget = self._widgets[name]
        rejection = widget.rejection() if isinstance(widget, HoldsRejectedText) else ""
        kept = self._applied_text(name) if rejection else ""
        widget.setToolTip(field_tooltip(name, self._tip_notes.get(name, ""), rejection, kept))

    def _refresh_feedback(self, *_args: object) -> None:
        """The red label and the tooltips: every rejected typed value, then the config error."""
        lines = []
        for name, widget in self._widgets.items():
            if isinstance(widget, HoldsRejectedText):
                self._apply_tooltip(name)
                if widget.rejection():
                    lines.append(rejection_line(name, widget.rejection(), self._applied_text(name)))
        if self._config_error:
            lines.append(self._config_error)
        self._error.setText("\n".join(lines))
        self._error.setVisible(bool(lines))

    def _announce(self, notes: list[str], changes: _Changes) -> None:
        """Show what the panel changed by itself: the note, and its fields' labels lit."""
        text = " ".join(notes)
        self._note.setText(text)
        self._note.setVisible(bool(text))
        self._clear_highlights()
        for name in changes:
            set_flag(self._labels[name], AUTO_SET_PROPERTY, True)
        if changes:
            self._highlight_timer.start()

    def _clear_highlights(self) -> None:
        for label in self._labels.values():
            set_flag(label, AUTO_SET_PROPERTY, False)
