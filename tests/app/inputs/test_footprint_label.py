"""The network's memory and step-time estimate under its settings: shown only when large."""

from __future__ import annotations

import pytest

from gradsim.app.inputs.controls import FOOTPRINT_TIP, ControlsPanel
from gradsim.engine import footprint
from gradsim.engine.config import Config
from gradsim.engine.footprint import estimate

GB = 10**9


@pytest.fixture
def panel(qtbot, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(footprint, "available_bytes", lambda: 8 * GB)
    widget = ControlsPanel(Config())
    qtbot.addWidget(widget)
    return widget


def _label(panel: ControlsPanel):
    from PySide6.QtWidgets import QLabel

    label = panel.findChild(QLabel, "footprint")
    assert label is not None
    return label


def test_hidden_for_a_small_network(panel: ControlsPanel) -> None:
    assert panel.footprint_text() == ""
    assert _label(panel).isHidden()


def test_shown_and_updated_as_depth_width_batch_and_dtype_change(panel: ControlsPanel) -> None:
    panel.widget_for("width").setValue(1024)
    panel.widget_for("depth").setValue(200)
    shown = panel.footprint_text()
    assert shown.startswith("needs about ") and "GB" in shown and "a step" in shown
    assert shown == estimate(panel.config(), record=False).summary()
    assert not _label(panel).isHidden() and _label(panel).toolTip() == FOOTPRINT_TIP

    panel.widget_for("batch_size").setValue(512)
    assert panel.footprint_text() != shown
    assert panel.footprint_text().startswith(estimate(panel.config(), record=False).summary())
    before = panel.footprint_text()
    panel.widget_for("dtype").setCurrentText("float32")
    assert panel.config().dtype == "float32"
    assert panel.footprint_text() != before

    panel.widget_for("depth").setValue(2000)  # ~50 GB against the 8 GB "free"
    assert panel.footprint_text().endswith("more than the 8.0 GB free")

    panel.widget_for("depth").setValue(3)
    panel.widget_for("width").setValue(16)
    panel.widget_for("batch_size").setValue(32)
    assert panel.footprint_text() == "" and _label(panel).isHidden()


def test_set_config_shows_it_too(panel: ControlsPanel) -> None:
    panel.set_config(Config(depth=50, width=2048))
    assert "GB" in panel.footprint_text()
    panel.set_config(Config())
    assert panel.footprint_text() == ""
