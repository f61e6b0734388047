"""The controls panel and its spin boxes: valid configs only, one signal per edit, and no
silent changes (rejected text stays visible; what the panel changes by itself is said)."""

from __future__ import annotations

from html import escape

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QKeyEvent, QValidator, QWheelEvent
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QLabel,
    QLineEdit,
    QScrollArea,
)

from gradsim.app.inputs.controls import ADAM_MOMENTUM_LABEL, GROUPS, ControlsPanel
from gradsim.app.inputs.panel_rules import NATURAL_GAIN, dataset_defaults
from gradsim.app.inputs.panel_widgets import AUTO_SET_PROPERTY
from gradsim.app.inputs.spinboxes import (
    INVALID_PROPERTY,
    FloatSpinBox,
    IntSpinBox,
    WideIntSpinBox,
    format_number,
    ladder_above,
    ladder_below,
)
from gradsim.engine.config import CLASSIFICATION_DATASETS, FIELDS, Config, apply_assignments
from gradsim.engine.init import weight_std
from gradsim.engine.presets import list_presets

ACCEPTABLE = QValidator.State.Acceptable
INTERMEDIATE = QValidator.State.Intermediate


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


# -- 1. a value that is not accepted stays visible, marked, and is not applied --------------


def _type(qtbot, box, text):
    """Type like a keyboard, non-ASCII characters (the Unicode minus) included."""
    box.setFocus()
    box.selectAll()
    for char in text:
        if char.isascii():
            qtbot.keyClicks(box, char)
        else:
            QApplication.sendEvent(
                box, QKeyEvent(QEvent.Type.KeyPress, 0, Qt.KeyboardModifier.NoModifier, char)
            )


@pytest.mark.parametrize(
    ("field", "typed", "reason"),
    [
        ("learning_rate", "\u22120.1", "\u22120.1 is below the minimum 0"),  # not read as 0.1
        ("learning_rate", "-0.1", "-0.1 is below the minimum 0"),
        ("learning_rate", "abc", "“abc” is not a number"),  # not 0, training goes on
        ("learning_rate", "1e9", "1e9 is above the maximum 1e+06"),  # not clamped to 1e6
        ("width", "0", "0 is below the minimum 1"),  # not reverted to the old width
        ("depth", "10000", "10000 is above the maximum 2000"),  # QSpinBox dropped a 0: 1000
        ("depth", "2001", "2001 is above the maximum 2000"),  # FIELDS' and the README's limit
        ("depth", "2.5", "2.5 is not a whole number"),
        ("seed", "-1", "-1 is below the minimum 0"),
    ],
)
def test_rejected_value_is_shown_in_the_field_and_not_applied(
    qtbot, panel, received, field, typed, reason
):
    box = panel.widget_for(field)
    _type(qtbot, box, typed)
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert received == []
    assert panel.config() == Config()  # the run keeps its config
    assert box.text() == typed  # left as typed, to be fixed
    assert box.property(INVALID_PROPERTY) is True  # the stylesheet frames it red
    assert escape(reason, quote=False) in box.toolTip()
    assert "Not applied" in box.toolTip()
    label = {"learning_rate": "Learning rate", "width": "Width (units)"}.get(field, "")
    assert reason in panel.error_text() and label in panel.error_text()
    assert not panel.findChild(QLabel, "configError").isHidden()

    _type(qtbot, box, str(FIELDS[field].high if field == "depth" else 3))  # fixed: applies
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert len(received) == 1
    assert box.property(INVALID_PROPERTY) is False
    assert panel.error_text() == ""
    assert "Not applied" not in box.toolTip()


def test_rejected_value_survives_focus_out_and_other_edits(qtbot, panel, received):
    panel.show()
    qtbot.waitExposed(panel)
    panel.activateWindow()
    qtbot.waitUntil(panel.isActiveWindow)  # focus events need the active window
    rate = panel.widget_for("learning_rate")
    _type(qtbot, rate, "abc")
    panel.widget_for("depth").setFocus()  # focus out, no Return
    qtbot.waitUntil(lambda: rate.rejection() != "")
    assert rate.text() == "abc"
    panel.widget_for("depth").setValue(30)  # another edit applies; the rate keeps 0.01
    assert [(c.depth, c.learning_rate) for c in received] == [(30, 0.01)]
    assert "Learning rate" in panel.error_text()
    panel.hide()  # hiding the panel (View → Settings panel) does not revert the text either
    assert rate.text() == "abc"
    panel.set_config(Config(depth=5))  # a loaded config replaces it
    assert (rate.text(), rate.property(INVALID_PROPERTY), panel.error_text()) == ("0.01", False, "")


def test_depth_goes_to_the_limit_fields_and_the_readme_give(qtbot, panel, received):
    assert FIELDS["depth"].high == 2000
    box = panel.widget_for("depth")
    assert box.maximum() == 2000
    _type(qtbot, box, "2000")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert [c.depth for c in received] == [2000]


# -- 2. a new init scheme takes its natural gain; the weight scale is shown -----------------


def _scale_text(panel):
    return panel.findChild(QLabel, "weightScale").text()


def test_new_scheme_takes_its_natural_gain_and_says_so(panel, received):
    panel.set_config(Config(init="identity", init_gain=0.5))
    assert _scale_text(panel) == "W = 0.5·I"
    _choose("xavier_normal")(panel.widget_for("init"))
    assert len(received) == 1
    assert (received[0].init, received[0].init_gain) == ("xavier_normal", 1.0)
    assert NATURAL_GAIN["xavier_normal"] == 1.0
    assert "Init gain set to 1 (was 0.5)" in panel.note_text()
    gain_label = (
        panel.widget_for("init_gain").parent().layout().labelForField(panel.widget_for("init_gain"))
    )
    assert gain_label.property(AUTO_SET_PROPERTY) is True  # lit for a moment
    std = weight_std("xavier_normal", 1.0, 64, 64)
    assert _scale_text(panel) == f"weights ~ N(0, {std:.3g}²)" == "weights ~ N(0, 0.125²)"

    panel.widget_for("init_gain").setValue(0.5)  # the user's gain afterwards is kept
    assert received[-1].init_gain == 0.5
    assert panel.note_text() == ""
    assert _scale_text(panel) == "weights ~ N(0, 0.0625²)"
    panel.widget_for("width").setValue(256)  # the scale follows the width
    assert (
        _scale_text(panel) == f"weights ~ N(0, {weight_std('xavier_normal', 0.5, 256, 256):.3g}²)"
    )
    _choose("he_uniform")(panel.widget_for("init"))
    assert received[-1].init_gain == 1.0
    bound = weight_std("he_uniform", 1.0, 256, 256) * 3**0.5
    assert _scale_text(panel) == f"weights ~ U(−{bound:.3g}, {bound:.3g})"


def test_highlight_fades(qtbot, panel):
    panel._highlight_timer.setInterval(10)
    panel.set_config(Config(init_gain=2.0))
    _choose("he_normal")(panel.widget_for("init"))
    labels = [label for label in panel.findChildren(QLabel) if label.property(AUTO_SET_PROPERTY)]
    assert [label.text() for label in labels] == ["Init gain"]
    qtbot.waitUntil(lambda: not labels[0].property(AUTO_SET_PROPERTY))


# -- 3. a new dataset takes its loss and sizes, except the ones the user set ----------------


@pytest.mark.parametrize("dataset", CLASSIFICATION_DATASETS)
def test_classification_dataset_picks_cross_entropy_and_its_sizes(panel, received, dataset):
    _choose_dataset(panel, dataset)
    assert len(received) == 1
    config = received[0]
    assert (config.loss, config.input_dim, config.output_dim) == ("cross_entropy", 2, 4)
    assert dataset_defaults(dataset) == {"loss": "cross_entropy", "input_dim": 2, "output_dim": 4}
    assert f"For {dataset}: Loss set to cross-entropy (was MSE), Inputs set to 2 (was 16)." == (
        panel.note_text()
    )
    _choose_dataset(panel, "teacher")
    assert received[-1] == Config()  # regression defaults back
    assert "Loss set to MSE (was cross-entropy)" in panel.note_text()


def test_fields_the_user_set_are_kept_until_a_config_is_loaded(panel, received):
    panel.widget_for("output_dim").setValue(3)
    panel.widget_for("input_dim").setValue(5)
    _choose_dataset(panel, "spirals")
    config = received[-1]
    assert (config.loss, config.input_dim, config.output_dim) == ("cross_entropy", 5, 3)
    assert "Kept Inputs = 5, Outputs (classes) = 3, which you set." in panel.note_text()
    panel.set_config(Config(input_dim=5, output_dim=3))  # e.g. a preset: a new baseline
    _choose_dataset(panel, "blobs")
    config = received[-1]
    assert (config.loss, config.input_dim, config.output_dim) == ("cross_entropy", 2, 4)


# -- 4. what the panel changes by itself is said --------------------------------------------


def test_classification_minimum_is_said(panel, received):
    panel.set_config(Config(output_dim=1))
    _choose("cross_entropy")(panel.widget_for("loss"))
    assert received[-1].output_dim == 2
    assert panel.note_text() == (
        "Classification needs one output per class: Outputs (classes) set to 2 (was 1)."
    )
    assert panel.error_text() == ""


def test_bias_off_disables_bias_init(panel):
    if "bias" not in FIELDS:
        pytest.skip("the engine has no bias switch yet")
    panel.widget_for("bias").setChecked(False)
    assert not panel.widget_for("bias_init").isEnabled()


# -- widgets follow FIELDS -----------------------------------------------------------------


def test_every_field_has_one_control_in_one_group():
    placed = [name for _, names in GROUPS for name in names if name in FIELDS]
    assert sorted(placed) == sorted(FIELDS)  # GROUPS may name a field the engine lacks yet


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
        assert isinstance(widget, (IntSpinBox, WideIntSpinBox))
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
    assert received[-1].output_dim == Config().output_dim  # the set's classes, not 1
    assert panel.widget_for("output_dim").minimum() == 2
    dataset.setCurrentIndex(dataset.findData("teacher"))
    assert len(received) == 2
    assert received[-1] == Config(output_dim=Config().output_dim)  # regression defaults, said
    assert "For teacher" in panel.note_text()
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


WELL_FORMED = ["1e-4", "0.01", ".5", "1.", "1E+2", "0,5"]
PARTIAL = ["", "1e", "1e-", "+", "2e7"]  # "2e7" is out of range: rejected, never clamped
# Typeable (so the user sees what they typed) but never applied: "-1" is below the minimum 0.
GARBAGE = ["abc", "1e-4x", "-1", "\u22121", "inf", "nan", "1..2", "0x10"]


@pytest.mark.parametrize(
    ("text", "state"),
    [(t, ACCEPTABLE) for t in WELL_FORMED] + [(t, INTERMEDIATE) for t in PARTIAL + GARBAGE],
)
def test_float_validation(rate_box, text, state):
    assert rate_box.validate(text, len(text))[0] == state
    assert bool(rate_box.problem(text)) == (state != ACCEPTABLE)


def test_float_parsing_and_fixup(qtbot, rate_box):
    assert rate_box.valueFromText("1e-4") == 1e-4
    assert rate_box.valueFromText(" 2.5E3 ") == 2500.0
    assert rate_box.valueFromText("0,5") == 0.5
    assert rate_box.fixup("2e7") == "2e7"  # out of range: rejected, never clamped
    assert rate_box.fixup("abc") == "abc"
    signed = FloatSpinBox()
    signed.setRange(-1e6, 1e6)
    qtbot.addWidget(signed)
    assert signed.validate("-", 1)[0] == INTERMEDIATE
    assert signed.validate("-0.25", 5)[0] == ACCEPTABLE
    assert signed.valueFromText("\u22120.25") == -0.25  # a Unicode minus, as pasted from slides


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


def test_garbage_stays_as_typed_and_marked(qtbot, rate_box):
    rate_box.setValue(0.5)
    rate_box.selectAll()
    qtbot.keyClicks(rate_box, "x!")
    assert rate_box.lineEdit().text() == "x!"  # typed, not swallowed
    assert rate_box.rejection() == ""  # nothing is marked while typing
    qtbot.keyClick(rate_box, Qt.Key.Key_Return)
    assert rate_box.text() == "x!" and rate_box.value() == 0.5
    assert "not a number" in rate_box.rejection()
    assert rate_box.property(INVALID_PROPERTY) is True
    rate_box.stepBy(1)  # an arrow steps from the applied value and clears the mark
    assert (rate_box.value(), rate_box.rejection()) == (1.0, "")
    assert rate_box.property(INVALID_PROPERTY) is False


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
    assert box.validate("4294967296", 10)[0] == INTERMEDIATE  # typeable, then rejected
    assert "above the maximum" in box.problem("4294967296")
    assert "not a whole number" in box.problem("1.5")
    assert "below the minimum 0" in box.problem("-1")
    assert box.problem("4e9") == ""
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
    assert "From iris.csv: Inputs set to 2 (was 16)" in panel.note_text()
    _choose_dataset(panel, "teacher")  # the file's sizes were not the user's: defaults back
    assert (received[-1].input_dim, received[-1].loss) == (16, "mse")
    assert "Inputs set to 16 (was 2)" in panel.note_text()
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
    assert "Batch size set to 30 (was 64)" in panel.note_text()  # not silently
    assert "row count" in panel.widget_for("batch_size").toolTip()
