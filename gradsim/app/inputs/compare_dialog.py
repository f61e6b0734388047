"""The "Compare with…" dialog: pick 2-4 runs to train side by side.

Two ways to choose, as tabs: vary one setting of the current configuration (the current run
plus 1-3 alternatives, labelled "activation = relu"), or pick 2-4 lesson presets (labelled by
their titles). Invalid choices are explained in a line under the tabs; the dialog never raises.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gradsim.engine.config import FIELDS, Config, ConfigError
from gradsim.engine.presets import Preset

# The settings worth comparing one at a time: each changes how gradients flow.
VARY_FIELDS = (
    "activation",
    "init",
    "init_gain",
    "batchnorm",
    "residual",
    "optimizer",
    "grad_clip",
    "learning_rate",
)
MAX_ALTERNATIVES = 3
MIN_RUNS, MAX_RUNS = 2, 4
UNUSED = "—"  # an alternative slot left empty


def format_value(value: object) -> str:
    """A setting's value as it reads in a label: on/off, 0.01, relu."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def run_label(field: str, value: object) -> str:
    """Label of a run that differs in one setting, e.g. "activation = relu"."""
    return f"{field} = {format_value(value)}"


class _ValueSlot(QStackedWidget):
    """One alternative value: a list for choices and on/off, free text for numbers."""

    def __init__(self, index: int) -> None:
        super().__init__()
        self.combo = QComboBox()
        self.edit = QLineEdit()
        self.edit.setClearButtonEnabled(True)
        self.addWidget(self.combo)
        self.addWidget(self.edit)
        self._index = index

    def set_field(self, field: str) -> None:
        spec = FIELDS[field]
        self.combo.clear()
        self.edit.clear()
        tip = f"Alternative {self._index + 1} for {field} ({spec.allowed()}). {spec.help}"
        values = ("on", "off") if spec.kind is bool else spec.choices
        if values is not None:  # on/off or a list of choices
            self.combo.addItems([UNUSED, *values])
            self.combo.setToolTip(tip + f" Leave it at {UNUSED} to compare fewer runs.")
            self.setCurrentWidget(self.combo)
        else:
            self.edit.setPlaceholderText(f"{spec.allowed()} (empty: unused)")
            self.edit.setToolTip(tip + " Leave it empty to compare fewer runs.")
            self.setCurrentWidget(self.edit)

    def text(self) -> str:
        """The value as typed or chosen; "" when the slot is unused."""
        if self.currentWidget() is self.combo:
            text = self.combo.currentText()
            return "" if text == UNUSED else text
        return self.edit.text().strip()

    def set_text(self, text: str) -> None:
        if self.currentWidget() is self.combo:
            self.combo.setCurrentText(text or UNUSED)
        else:
            self.edit.setText(text)


class CompareDialog(QDialog):
    """Choose the runs of a comparison; ``runs()`` gives (label, config) pairs after accept."""

    def __init__(
        self, current: Config, presets: list[Preset], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare with…")
        self._current = current
        self._presets = list(presets)
        self._runs: list[tuple[str, Config]] = []

        self.message = QLabel()  # why the choice cannot be compared (empty when it can)
        self.message.setObjectName("compare-message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("QLabel#compare-message { color: #ff6b6b; font-weight: bold; }")
        self.tabs = QTabWidget()
        self.tabs.addTab(self._build_vary_tab(), "Vary one setting")
        self.tabs.addTab(self._build_presets_tab(), "Presets")
        self.tabs.setTabToolTip(0, "The current configuration against 1-3 values of one setting")
        self.tabs.setTabToolTip(1, f"{MIN_RUNS} to {MAX_RUNS} lesson presets side by side")
        self.tabs.currentChanged.connect(lambda _: self.message.clear())
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Compare")
        self.ok_button.setDefault(True)  # Enter accepts (Esc rejects: QDialog's own)
        self.ok_button.setToolTip("Train these runs side by side, in lockstep (Enter)")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.resize(520, 420)

    # -- tabs ------------------------------------------------------------------------------
    def _build_vary_tab(self) -> QWidget:
        tab = QWidget()
        form = QFormLayout(tab)
        intro = QLabel(
            "The first run is the current configuration; each alternative changes one setting "
            "and keeps everything else (data and seed included)."
        )
        intro.setWordWrap(True)
        form.addRow(intro)
        self.field_box = QComboBox()
        for name in VARY_FIELDS:
            self.field_box.addItem(name)
            self.field_box.setItemData(
                self.field_box.count() - 1, FIELDS[name].help, Qt.ItemDataRole.ToolTipRole
            )
        self.field_box.setToolTip("The setting that differs between the runs")
        self.field_box.currentTextChanged.connect(self._on_field_changed)
        form.addRow("Setting:", self.field_box)
        self.current_value = QLabel()
        self.current_value.setToolTip("Run 1: the current configuration")
        form.addRow("Run 1 (current):", self.current_value)
        self.slots = [_ValueSlot(i) for i in range(MAX_ALTERNATIVES)]
        for i, slot in enumerate(self.slots):
            form.addRow(f"Run {i + 2}:", slot)
        self._on_field_changed(self.field_box.currentText())
        return tab

    def _build_presets_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        intro = QLabel(f"Tick {MIN_RUNS} to {MAX_RUNS} lessons to train side by side.")
        layout.addWidget(intro)
        self.preset_list = QListWidget()
        self.preset_list.setToolTip("Each ticked preset becomes one run, labelled by its title")
        for preset in self._presets:
            item = QListWidgetItem(preset.title)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            item.setToolTip(preset.description)
            item.setData(Qt.ItemDataRole.UserRole, preset.id)
            self.preset_list.addItem(item)
        layout.addWidget(self.preset_list)
        return tab

    def _on_field_changed(self, field: str) -> None:
        if field not in FIELDS:
            return
        self.current_value.setText(format_value(getattr(self._current, field)))
        for slot in self.slots:
            slot.set_field(field)
        self.message.clear()

    # -- choosing programmatically (tests, and the app remembering the last choice) --------
    def choose_variation(self, field: str, values: list[str]) -> None:
        """Select the "Vary one setting" tab with ``field`` and up to three values as text."""
        self.tabs.setCurrentIndex(0)
        self.field_box.setCurrentText(field)
        for slot, text in zip(self.slots, [*values, "", "", ""], strict=False):
            slot.set_text(text)

    def choose_presets(self, ids: list[str]) -> None:
        """Select the "Presets" tab with exactly the presets ``ids`` ticked."""
        self.tabs.setCurrentIndex(1)
        for row in range(self.preset_list.count()):
            item = self.preset_list.item(row)
            ticked = item.data(Qt.ItemDataRole.UserRole) in ids
            item.setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)

    # -- result ----------------------------------------------------------------------------
    def runs(self) -> list[tuple[str, Config]]:
        """The chosen (label, config) runs; valid after the dialog was accepted."""
        return list(self._runs)

    def accept(self) -> None:
        """Accept only a valid choice; otherwise say what is wrong and stay open."""
        try:
            runs = self._vary_runs() if self.tabs.currentIndex() == 0 else self._preset_runs()
        except ValueError as exc:
            self.message.setText(str(exc))
            return
        self.message.clear()
        self._runs = runs
        super().accept()

    def _vary_runs(self) -> list[tuple[str, Config]]:
        field = self.field_box.currentText()
        spec = FIELDS[field]
        current = getattr(self._current, field)
        runs = [(run_label(field, current), self._current)]
        seen = {current}
        for i, slot in enumerate(self.slots):
            text = slot.text()
            if not text:
                continue
            value = _parse(spec.kind, text)
            if value is None:
                raise ValueError(f"Run {i + 2}: {text!r} is not {spec.allowed()}.")
            try:
                config = self._current.replace(**{field: value})
            except ConfigError as exc:
                raise ValueError(f"Run {i + 2}: {exc}.") from None
            value = getattr(config, field)
            if value in seen:
                raise ValueError(
                    f"Run {i + 2}: {field} = {format_value(value)} is already compared; "
                    "choose a different value."
                )
            seen.add(value)
            runs.append((run_label(field, value), config))
        if len(runs) < MIN_RUNS:
            raise ValueError(f"Choose at least one alternative value for {field}.")
        return runs

    def _preset_runs(self) -> list[tuple[str, Config]]:
        ticked = [
            self._presets[row]
            for row in range(self.preset_list.count())
            if self.preset_list.item(row).checkState() == Qt.CheckState.Checked
        ]
        if not MIN_RUNS <= len(ticked) <= MAX_RUNS:
            raise ValueError(
                f"Tick {MIN_RUNS} to {MAX_RUNS} presets to compare ({len(ticked)} ticked)."
            )
        return [(preset.title, preset.config) for preset in ticked]


def _parse(kind: type, text: str) -> object | None:
    """A typed value from the slot's text, or None if it is not one."""
    if kind is bool:
        return {"on": True, "off": False}.get(text)
    if kind is str:
        return text
    try:
        return int(text) if kind is int else float(text)
    except ValueError:
        return None
