"""A comparison's caption says what its runs differ in, read off their configurations."""

from __future__ import annotations

from gradsim.app.lecture.captions import comparison_text
from gradsim.engine.presets import get_preset

BASE = get_preset("relu-he").config


def test_one_difference_is_named_with_its_values_and_the_rest_is_said_to_be_equal() -> None:
    runs = [BASE, BASE.replace(activation="tanh"), BASE.replace(activation="sigmoid")]
    text = comparison_text(runs)
    assert text.startswith("Only activation (relu / tanh / sigmoid) differs; all else is the same.")


def test_data_differences_are_said_not_hidden() -> None:
    text = comparison_text([BASE, BASE.replace(input_dim=4, batch_size=32)])
    assert "input dim (16 / 4)" in text and "batch size (" in text
    assert text.startswith("Only input dim") and " differ;" in text
    assert "Same data" not in text


def test_many_differences_are_counted_not_listed() -> None:
    other = BASE.replace(depth=5, width=9, input_dim=3, seed=BASE.seed + 1, bias=False)
    text = comparison_text([BASE, other])
    assert text.startswith("depth (")
    assert "and 2 more settings differ;" in text


def test_identical_runs_are_said_to_be_identical() -> None:
    assert comparison_text([BASE, BASE]).startswith("The runs have identical settings.")
