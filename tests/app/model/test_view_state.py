"""The view state: one change, one signal; pinned and automatic levels; what is saved."""

from __future__ import annotations

import math

import pytest

from gradsim.app.model.view_state import DEFAULT_LEVELS, View, ViewState


@pytest.fixture
def state(qtbot):
    view_state = ViewState()
    changes: list[str] = []
    view_state.changed.connect(changes.append)
    view_state.changes = changes
    return view_state


def test_each_real_change_is_announced_once(state) -> None:
    state.set_metric("activation_rms")
    state.set_metric("activation_rms")  # the same again: nothing to say
    state.set_window(None)
    state.set_speed(math.inf)
    state.set_theme("light")
    state.show_step(12)
    assert state.changes == ["metric", "window", "speed", "theme", "shown_step"]
    assert (state.view.metric, state.view.window, state.view.shown_step) == (
        "activation_rms", None, 12
    )


def test_pinning_turns_automatic_levels_off_and_reports_keep_them_on(state) -> None:
    assert state.view.auto_levels and state.view.levels == DEFAULT_LEVELS
    state.show_levels(-30.0, 2.0)  # what automatic colouring chose
    assert state.view.auto_levels and state.view.levels == (-30.0, 2.0)
    state.pin_levels(-40.0, 10.0)
    assert not state.view.auto_levels and state.view.levels == (-40.0, 10.0)
    assert state.changes == ["levels", "auto_levels", "levels"]
    for lo, hi in ((1.0, 1.0), (2.0, 1.0), (math.nan, 1.0)):
        with pytest.raises(ValueError):
            state.pin_levels(lo, hi)


@pytest.mark.parametrize(
    ("setter", "value"),
    [("set_metric", "nope"), ("set_theme", "pink"), ("set_speed", 0.0), ("set_speed", -5.0)],
)
def test_bad_values_are_refused(state, setter, value) -> None:
    with pytest.raises(ValueError):
        getattr(state, setter)(value)
    assert state.changes == [] and state.view == View()


def test_saved_choices_come_back_and_bad_ones_are_skipped(qtbot) -> None:
    first = ViewState()
    first.set_metric("preactivation_rms")
    first.set_window(2000)
    first.pin_levels(-8.0, 4.0)
    first.set_speed(math.inf)
    first.set_font_scale(1.75)  # presentation mode is not carried over
    saved = first.to_dict()
    assert "font_scale" not in saved and "shown_step" not in saved
    second = ViewState()
    second.restore(saved)
    assert second.view == View(
        metric="preactivation_rms", window=2000, auto_levels=False, levels=(-8.0, 4.0),
        speed=math.inf,
    )  # fmt: skip
    third = ViewState()
    third.restore({"metric": "gone", "window": "x", "speed": -1, "theme": "light",
                   "auto_levels": False, "levels": ["a", 2]})  # fmt: skip
    assert third.view == View(theme="light")  # levels unreadable: automatic again
