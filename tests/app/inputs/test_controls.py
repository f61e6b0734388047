"""The controls panel and its spin boxes: valid configs only, one signal per edit."""

from __future__ import annotations

from html import escape

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QValidator, QWheelEvent
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSpinBox,
)

from gradsim.app.inputs.controls import ADAM_MOMENTUM_LABEL, GROUPS, ControlsPanel
from gradsim.app.inputs.spinboxes import (
    FloatSpinBox,
    WideIntSpinBox,
    format_number,
    ladder_above,
    ladder_below,
)
from gradsim.engine.config import FIELDS, Config, apply_assignments
from gradsim.engine.presets import list_presets

ACCEPTABLE = QValidator.State.Acceptable
INTERMEDIATE = QValidator.State.Intermediate
INVALID = QValidator.State.Invalid


@pytest.fixture
def panel(qtbot):
    widget = ControlsPanel(Config())
    qtbot.addWidget(widget)
    return widget


@pytest.fixture
def received(panel):
    configs: list[Config] = []
    panel.configEdited.connect(configs.append)
    return configs


def _changed_fields(before: Config, after: Config) -> set[str]:
    return {name for name in FIELDS if getattr(before, name) != getattr(after, name)}


# -- set_config / config ------------------------------------------------------------------

EVERY_FIELD_CHANGED = (
    "depth=2000 width=4096 input_dim=3 output_dim=3 activation=leaky_relu leaky_slope=0.2 "
    "init=identity init_gain=1.1 bias_init=-0.25 batchnorm=true residual=true optimizer=adam "
    "learning_rate=3e-4 momentum=0.95 grad_clip=12.5 batch_size=65536 dataset=spirals "
    "loss=cross_entropy dtype=float32 seed=4294967295 data_path=/data/x.csv target_column=y "
    "task=regression"
)
ODD_CONFIGS = [
    Config(),
    apply_assignments(Config(), EVERY_FIELD_CHANGED.split()),
    Config(learning_rate=1e-7, init_gain=0.0012345678912345, bias_init=1e6, grad_clip=1e12),
    Config(dataset="blobs", output_dim=2, input_dim=1, learning_rate=0.0),
    # set_config shows a config without reading its file (it may be gone since).
    Config(
        dataset="csv",
        data_path="/gone/iris.csv",
        target_column="species",
        task="auto",
        input_dim=4,
        output_dim=3,
        loss="cross_entropy",
    ),
]


@pytest.mark.parametrize(
    "config",
    ODD_CONFIGS + [preset.config for preset in list_presets()],
    ids=[f"odd{i}" for i in range(len(ODD_CONFIGS))] + [p.id for p in list_presets()],
)
def test_set_config_round_trips_without_emitting(qtbot, panel, received, config):
    panel.set_config(config)
    assert panel.config() == config
    assert received == []
    assert panel.error_text() == ""


def test_initial_config_is_shown(qtbot):
    config = Config(depth=7, activation="relu", optimizer="momentum")
    widget = ControlsPanel(config)
    qtbot.addWidget(widget)
    assert widget.config() == config
    assert widget.widget_for("depth").value() == 7


def test_set_config_replaces_a_classification_minimum(qtbot, panel, received):
    panel.set_config(Config(loss="cross_entropy", output_dim=5))
    assert panel.widget_for("output_dim").minimum() == 2
    regression = Config(output_dim=1)
    panel.set_config(regression)
    assert panel.widget_for("output_dim").minimum() == 1
    assert panel.config() == regression
    assert received == []


# -- one signal per user change ------------------------------------------------------------


def _choose(choice):
    return lambda combo: combo.setCurrentIndex(combo.findData(choice))


@pytest.mark.parametrize(
    ("field", "change", "value"),
    [
        ("depth", lambda box: box.setValue(50), 50),
        ("seed", lambda box: box.setValue(123456), 123456),
        ("init_gain", lambda box: box.setValue(2.0), 2.0),
        ("learning_rate", lambda box: box.stepBy(1), 0.02),
        ("activation", _choose("relu"), "relu"),
        ("batchnorm", lambda box: box.click(), True),
    ],
)
def test_each_kind_of_control_emits_once(panel, received, field, change, value):
    change(panel.widget_for(field))
    assert len(received) == 1
    assert getattr(received[0], field) == value
    assert _changed_fields(Config(), received[0]) == {field}
    assert panel.config() == received[0]


@pytest.mark.parametrize(
    ("field", "typed", "value"),
    [("depth", "100", 100), ("learning_rate", "1e-4", 1e-4), ("seed", "4000000000", 4e9)],
)
def test_typing_emits_once_on_enter(qtbot, panel, received, field, typed, value):
    box = panel.widget_for(field)
    box.selectAll()
    qtbot.keyClicks(box, typed)
    assert received == []  # no 1, 10, 100 storm while typing
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert [getattr(c, field) for c in received] == [value]


def test_typed_garbage_never_reaches_the_config(qtbot, panel, received):
    box = panel.widget_for("learning_rate")
    box.selectAll()
    qtbot.keyClicks(box, "abc")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert received == []
    assert panel.config().learning_rate == Config().learning_rate


def test_arrow_keys_step_learning_rate_on_the_ladder(qtbot, panel, received):
    box = panel.widget_for("learning_rate")  # default 0.01
    qtbot.keyClick(box, Qt.Key.Key_Up)
    qtbot.keyClick(box, Qt.Key.Key_Up)
    assert [c.learning_rate for c in received] == [0.02, 0.05]


def test_setting_the_same_value_emits_nothing(panel, received):
    panel.widget_for("depth").setValue(Config().depth)
    panel.widget_for("batchnorm").setChecked(False)
    assert received == []


# -- widgets follow FIELDS -----------------------------------------------------------------


def test_every_field_has_one_control_in_one_group():
    placed = [name for _, names in GROUPS for name in names]
    assert sorted(placed) == sorted(FIELDS)


@pytest.mark.parametrize("name", list(FIELDS))
def test_control_tooltip_and_range_come_from_fields(panel, name):
    spec = FIELDS[name]
    widget = panel.widget_for(name)
    tooltip = widget.toolTip()
    assert escape(spec.help, quote=False) in tooltip
    assert spec.allowed() in tooltip
    if spec.choices is not None:
        assert isinstance(widget, QComboBox)
        assert [widget.itemData(i) for i in range(widget.count())] == list(spec.choices)
    elif spec.kind is bool:
        assert isinstance(widget, QCheckBox)
    elif spec.kind is str:
        assert isinstance(widget, QLineEdit)
    elif spec.kind is int:
        assert isinstance(widget, (QSpinBox, WideIntSpinBox))
        assert (widget.minimum(), widget.maximum()) == (spec.low, spec.high)
        assert not widget.keyboardTracking()
    else:
        assert isinstance(widget, FloatSpinBox)
        assert (widget.minimum(), widget.maximum()) == (spec.low, spec.high)
        assert not widget.keyboardTracking()


def test_labels_are_words_not_keys(panel):
    labels = {label.text() for label in panel.findChildren(QLabel)}
    assert {"Depth (layers)", "Learning rate", "Init gain"} <= labels
    assert not any("_" in text for text in labels)


def test_unknown_field_raises(panel):
    with pytest.raises(KeyError, match="no control"):
        panel.widget_for("nonsense")


# -- combination rule and dependent controls ------------------------------------------------


def test_cross_entropy_bumps_single_output_to_two(panel, received):
    panel.set_config(Config(output_dim=1))
    combo = panel.widget_for("loss")
    combo.setCurrentIndex(combo.findData("cross_entropy"))
    assert len(received) == 1
    assert received[0].loss == "cross_entropy"
    assert received[0].output_dim == 2
    assert panel.widget_for("output_dim").minimum() == 2
    assert "at least 2" in panel.widget_for("output_dim").toolTip()


def test_classification_dataset_raises_minimum_and_regression_lowers_it(panel, received):
    panel.set_config(Config(output_dim=1))
    dataset = panel.widget_for("dataset")
    dataset.setCurrentIndex(dataset.findData("circles"))
    assert received[-1].output_dim == 2
    dataset.setCurrentIndex(dataset.findData("teacher"))
    assert len(received) == 2
    assert received[-1].output_dim == 2  # kept: no surprise change back
    assert panel.widget_for("output_dim").minimum() == 1


def test_invalid_combination_is_shown_not_emitted(panel, received):
    panel.set_config(Config(loss="cross_entropy", output_dim=2))
    box = panel.widget_for("output_dim")
    box.setMinimum(1)  # force what the panel itself never allows
    box.setValue(1)
    assert received == []
    assert "output_dim" in panel.error_text()
    assert not panel.findChild(QLabel, "configError").isHidden()
    assert panel.config().output_dim == 2  # last valid config
    box.setValue(3)
    assert [c.output_dim for c in received] == [3]
    assert panel.error_text() == ""
    assert panel.findChild(QLabel, "configError").isHidden()


def test_leaky_slope_enabled_only_for_leaky_relu(panel):
    combo = panel.widget_for("activation")
    for activation in FIELDS["activation"].choices:
        combo.setCurrentIndex(combo.findData(activation))
        assert panel.widget_for("leaky_slope").isEnabled() == (activation == "leaky_relu")


def test_momentum_disabled_for_sgd_and_named_beta1_for_adam(panel):
    combo = panel.widget_for("optimizer")
    labels = {label.buddy(): label for label in panel.findChildren(QLabel) if label.buddy()}
    label = labels[panel.widget_for("momentum")]
    expected = {"sgd": (False, "Momentum"), "momentum": (True, "Momentum")}
    expected["adam"] = (True, ADAM_MOMENTUM_LABEL)
    for optimizer, (enabled, text) in expected.items():
        combo.setCurrentIndex(combo.findData(optimizer))
        assert panel.widget_for("momentum").isEnabled() is enabled
        assert label.text() == text
    panel.set_config(Config(optimizer="sgd"))
    assert not panel.widget_for("momentum").isEnabled()


def test_grad_clip_zero_reads_off(panel, received):
    box = panel.widget_for("grad_clip")
    assert box.text() == "off"
    box.setValue(5.0)
    assert received[-1].grad_clip == 5.0
    box.stepBy(-10)
    assert box.text() == "off"
    assert received[-1].grad_clip == 0.0


def test_wheel_over_unfocused_control_does_not_change_it(qtbot, panel, received):
    panel.resize(320, 400)
    panel.show()
    qtbot.waitExposed(panel)
    box = panel.widget_for("depth")
    assert not box.hasFocus()
    event = QWheelEvent(
        QPointF(5, 5),
        QPointF(box.mapToGlobal(QPoint(5, 5))),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(box, event)
    assert box.value() == Config().depth
    assert received == []


def test_panel_fits_a_narrow_dock_on_a_1080p_screen(qtbot, panel):
    content = panel.findChild(QScrollArea).widget()
    assert content.minimumSizeHint().width() <= 285  # a 300 px dock, with a scroll bar
    assert content.sizeHint().height() <= 900
    panel.resize(320, 1000)
    assert not panel.grab().isNull()


# -- FloatSpinBox ---------------------------------------------------------------------------


@pytest.fixture
def rate_box(qtbot):
    box = FloatSpinBox(log_floor=1e-5)
    box.setRange(0.0, 1e6)
    qtbot.addWidget(box)
    return box


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.001, "0.001"),
        (1e-5, "1e-05"),
        (2.0, "2"),
        (0.5, "0.5"),
        (0.0, "0"),
        (0.1 + 0.2, "0.3"),
        (123456.0, "123456"),
        (3e-4, "0.0003"),
    ],
)
def test_float_text_is_compact(rate_box, value, text):
    assert format_number(value) == text
    rate_box.setValue(value)
    assert rate_box.text() == text
    assert rate_box.value() == value  # the text may round; the value never does


WELL_FORMED = ["1e-4", "0.01", ".5", "1.", "1E+2"]
PARTIAL = ["", "1e", "1e-", "+", "2e7"]  # "2e7" is out of range: clamped when editing ends
GARBAGE = ["abc", "1e-4x", "-1", "inf", "nan", "1..2", "0x10"]  # "-1": the minimum is 0


@pytest.mark.parametrize(
    ("text", "state"),
    [(t, ACCEPTABLE) for t in WELL_FORMED]
    + [(t, INTERMEDIATE) for t in PARTIAL]
    + [(t, INVALID) for t in GARBAGE],
)
def test_float_validation(rate_box, text, state):
    assert rate_box.validate(text, len(text))[0] == state


def test_float_parsing_and_fixup(qtbot, rate_box):
    assert rate_box.valueFromText("1e-4") == 1e-4
    assert rate_box.valueFromText(" 2.5E3 ") == 2500.0
    assert rate_box.valueFromText("0,5") == 0.5
    assert rate_box.fixup("2e7") == "1e+06"  # out of range: clamped when editing ends
    assert rate_box.fixup("abc") == "abc"
    signed = FloatSpinBox()
    signed.setRange(-1e6, 1e6)
    qtbot.addWidget(signed)
    assert signed.validate("-", 1)[0] == INTERMEDIATE
    assert signed.validate("-0.25", 5)[0] == ACCEPTABLE


def test_special_value_text(qtbot):
    box = FloatSpinBox(log_floor=0.1)
    box.setRange(0.0, 1e12)
    box.setSpecialValueText("off")
    qtbot.addWidget(box)
    assert box.text() == "off"
    assert box.validate("off", 3)[0] == ACCEPTABLE
    assert box.validate("of", 2)[0] == INTERMEDIATE
    assert box.valueFromText("off") == 0.0
    box.stepBy(1)
    assert box.value() == 0.1
    box.stepBy(-1)
    assert box.text() == "off"


@pytest.mark.parametrize(
    ("start", "steps", "expected"),
    [
        (0.01, [1, 1, 1], [0.02, 0.05, 0.1]),
        (0.1, [-1, -1, -1], [0.05, 0.02, 0.01]),
        (0.003, [1], [0.005]),  # off the ladder: to the neighbours
        (0.003, [-1], [0.002]),
        (0.0, [1, -1], [1e-5, 0.0]),  # from zero to the floor, and back
        (1e6, [1], [1e6]),  # clamped at the maximum
        (0.01, [3], [0.1]),  # Page Up: several steps at once
    ],
)
def test_ladder_steps_one_two_five(rate_box, start, steps, expected):
    rate_box.setValue(start)
    seen = []
    for step in steps:
        rate_box.stepBy(step)
        seen.append(rate_box.value())
    assert seen == expected


@pytest.mark.parametrize("value", [1e-5, 3e-4, 0.07, 1.0, 9.99, 10.0, 1234.5])
def test_ladder_neighbours_bracket_the_value(value):
    assert value < ladder_above(value) <= 2.5 * value
    assert value / 2.5 <= ladder_below(value) < value


def test_linear_steps_stay_clean(qtbot):
    box = FloatSpinBox(step=0.1)
    box.setRange(0.0, 1e6)
    qtbot.addWidget(box)
    for _ in range(3):
        box.stepBy(1)
    assert box.value() == 0.3
    assert box.text() == "0.3"
    box.stepBy(-5)
    assert box.value() == 0.0


def test_stepping_starts_from_typed_text(qtbot, rate_box):
    rate_box.setValue(0.01)
    rate_box.selectAll()
    qtbot.keyClicks(rate_box, "0.2")
    qtbot.keyClick(rate_box, Qt.Key.Key_Up)
    assert rate_box.value() == 0.5


def test_garbage_keystrokes_are_refused(qtbot, rate_box):
    rate_box.setValue(0.5)
    rate_box.selectAll()
    qtbot.keyClicks(rate_box, "x!")
    assert rate_box.lineEdit().text() == "0.5"


# -- WideIntSpinBox -------------------------------------------------------------------------


def test_wide_int_holds_the_whole_seed_range(qtbot):
    box = WideIntSpinBox()
    box.setRange(0, 2**32 - 1)
    qtbot.addWidget(box)
    box.setValue(2**32 - 1)
    assert box.int_value() == 2**32 - 1
    assert box.text() == "4294967295"
    assert box.validate("42", 2)[0] == ACCEPTABLE
    assert box.validate("", 0)[0] == INTERMEDIATE
    assert box.validate("4294967296", 10)[0] == INVALID
    assert box.validate("1.5", 3)[0] == INVALID
    assert box.validate("-1", 2)[0] == INVALID
    assert isinstance(box, QDoubleSpinBox)


# -- dataset = "csv" --------------------------------------------------------------------------


@pytest.fixture
def iris(tmp_path):
    rows = [f"{i % 7},{i % 5},{i % 3}" for i in range(30)]
    path = tmp_path / "iris.csv"
    path.write_text("sepal,petal,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _choose_dataset(panel, dataset):
    combo = panel.widget_for("dataset")
    combo.setCurrentIndex(combo.findData(dataset))


def test_choosing_csv_reads_the_file_and_greys_what_it_sets(panel, received, iris):
    panel.set_config(Config(data_path=str(iris)))  # a file chosen before, then another dataset
    assert not panel.widget_for("target_column").isEnabled()
    _choose_dataset(panel, "csv")
    assert len(received) == 1
    config = received[0]
    assert (config.dataset, config.input_dim, config.output_dim) == ("csv", 2, 3)
    assert (config.loss, config.batch_size) == ("cross_entropy", 30)  # 30 rows: full batch
    assert panel.config() == config
    for name in ("input_dim", "output_dim", "loss"):
        assert not panel.widget_for(name).isEnabled()
        assert "the file sets this" in panel.widget_for(name).toolTip()
    path_field = panel.widget_for("data_path")
    assert path_field.isEnabled() and path_field.isReadOnly()
    assert path_field.text() == "iris.csv"
    assert escape(str(iris), quote=False) in path_field.toolTip()
    _choose_dataset(panel, "teacher")
    assert received[-1].input_dim == 2  # kept, as other switches keep values
    assert panel.widget_for("input_dim").isEnabled()
    assert not panel.widget_for("data_path").isEnabled()


def test_csv_without_a_file_is_shown_not_emitted(panel, received):
    _choose_dataset(panel, "csv")
    assert received == []
    assert "needs data_path" in panel.error_text()
    assert panel.config() == Config()
    assert panel.widget_for("data_path").placeholderText().startswith("none")


def test_target_column_is_typed_and_a_bad_one_is_shown(qtbot, panel, received, iris):
    panel.set_config(Config(dataset="csv", data_path=str(iris), input_dim=2, output_dim=3,
                            loss="cross_entropy", batch_size=30))  # fmt: skip
    edit = panel.widget_for("target_column")
    qtbot.keyClicks(edit, "sepal")
    assert received == []  # nothing while typing
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert [(c.target_column, c.output_dim) for c in received] == [("sepal", 7)]
    edit.selectAll()
    qtbot.keyClicks(edit, "species")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert len(received) == 1
    assert "iris.csv has no column 'species'" in panel.error_text()
    assert "sepal, petal, label" in panel.error_text()


def test_batch_size_above_the_row_count_shows_the_rows(panel, received, iris):
    panel.set_config(Config(dataset="csv", data_path=str(iris), input_dim=2, output_dim=3,
                            loss="cross_entropy", batch_size=20))  # fmt: skip
    panel.widget_for("batch_size").setValue(64)
    assert [c.batch_size for c in received] == [30]
    assert panel.widget_for("batch_size").value() == 30
    assert "row count" in panel.widget_for("batch_size").toolTip()
