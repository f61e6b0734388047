"""Configuration validation: messages name the field, the value and what is allowed."""

from __future__ import annotations

import pytest

from gradsim.engine.config import FIELDS, Config, ConfigError, apply_assignments, parse_assignment


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"depth": 0}, "depth = 0 is out of range: expected an integer from 1 to 2000"),
        ({"depth": 2.5}, "depth = 2.5 is not allowed: expected an integer"),
        ({"width": 5000}, "width = 5000 is out of range"),
        ({"activation": "swish"}, "activation = 'swish' is not allowed: expected one of linear"),
        ({"batchnorm": "yes"}, "batchnorm = 'yes' is not allowed: expected true or false"),
        ({"bias": 0}, "bias = 0 is not allowed: expected true or false"),
        ({"learning_rate": -1.0}, "learning_rate = -1.0 is out of range"),
        ({"learning_rate": float("nan")}, "learning_rate = nan is not allowed"),
        ({"depth": True}, "depth = True is not allowed"),
        ({"output_dim": 1, "loss": "cross_entropy"}, "classification needs output_dim >= 2"),
        ({"dataset": "csv"}, "dataset = 'csv' needs data_path, the CSV file to train on"),
        ({"dataset": "csv", "data_path": "  "}, "dataset = 'csv' needs data_path"),
        ({"task": "guess"}, "task = 'guess' is not allowed: expected one of auto, classif"),
        ({"data_path": 3}, "data_path = 3 is not allowed: expected any text"),
        ({"target_column": None}, "target_column = None is not allowed: expected any text"),
    ],
)
def test_bad_values_are_named(changes: dict, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        Config(**changes)
    assert expected in str(info.value)


def test_unknown_key_suggests_the_close_one() -> None:
    with pytest.raises(
        ConfigError, match="unknown config key 'dept' \\(did you mean 'depth'\\?\\)"
    ):
        Config.from_dict({"dept": 3})


def test_toml_round_trip(tmp_path) -> None:
    config = Config(depth=7, activation="gelu", batchnorm=True, learning_rate=1e-3, seed=123)
    path = tmp_path / "run.toml"
    config.save(path)
    assert Config.load(path) == config


@pytest.mark.parametrize("bias", [False, True])
def test_toml_round_trip_of_bias(tmp_path, bias: bool) -> None:
    config = Config(depth=100, activation="linear", init="identity", bias=bias, bias_init=0.5)
    assert f"bias = {str(bias).lower()}\n" in config.to_toml()
    path = tmp_path / "run.toml"
    config.save(path)
    loaded = Config.load(path)
    assert loaded == config and loaded.bias is bias
    assert Config.from_toml(config.to_toml()) == config


def test_bias_defaults_on() -> None:
    """Configs and presets written before the bias switch load unchanged: with biases."""
    assert Config().bias is True
    assert Config.from_toml("depth = 3\nbias_init = 0.1\n").bias is True
    assert Config.from_toml("[config]\nbias = false\n").bias is False


def test_toml_round_trip_of_data_fields(tmp_path) -> None:
    config = Config(
        dataset="csv", data_path='C:\\data\\"my" file ö.csv', target_column="y", task="regression"
    )
    path = tmp_path / "run.toml"
    config.save(path)
    assert Config.load(path) == config


def test_data_fields_default_to_unused() -> None:
    """Configs and presets written before the CSV dataset load unchanged."""
    config = Config.from_toml('depth = 3\ndataset = "spirals"\n')
    assert (config.data_path, config.target_column, config.task) == ("", "", "auto")
    assert Config(data_path="unused.csv").dataset == "teacher"  # allowed, ignored


def test_load_reports_unreadable_and_malformed_files(tmp_path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        Config.load(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("depth = = 3\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        Config.load(bad)


@pytest.mark.parametrize(
    ("item", "key", "value"),
    [
        ("depth=30", "depth", 30),
        ("learning_rate=1e-3", "learning_rate", 1e-3),
        ("batchnorm=true", "batchnorm", True),
        ("bias=false", "bias", False),
        (" bias = true ", "bias", True),
        ("activation=relu", "activation", "relu"),
        ('activation="tanh"', "activation", "tanh"),
        (" init_gain = 2 ", "init_gain", 2),
        ("data_path=/tmp/my data.csv", "data_path", "/tmp/my data.csv"),
        ('target_column="class"', "target_column", "class"),
    ],
)
def test_set_parses_toml_values_or_bare_strings(item: str, key: str, value: object) -> None:
    assert parse_assignment(item) == (key, value)


def test_set_errors() -> None:
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_assignment("depth")
    with pytest.raises(ConfigError, match="unknown config key"):
        parse_assignment("colour=red")
    with pytest.raises(ConfigError, match="depth = 0 is out of range"):
        apply_assignments(Config(), ["depth=0"])
    assert apply_assignments(Config(), ["depth=3", "init_gain=2"]).init_gain == 2.0
    assert apply_assignments(Config(), ["bias=false"]).bias is False
    assert apply_assignments(Config(bias=False), ["bias=true"]).bias is True
    with pytest.raises(ConfigError, match="bias = 'no' is not allowed: expected true or false"):
        apply_assignments(Config(), ["bias=no"])


def test_every_field_has_a_tooltip() -> None:
    assert all(spec.help for spec in FIELDS.values())


def test_what_a_python_user_passes_is_taken() -> None:
    """numpy scalars and a pathlib.Path, as a notebook produces them (they were refused)."""
    import pathlib

    import numpy as np

    config = Config().replace(
        depth=np.int64(8), learning_rate=np.float32(0.1), bias=np.bool_(False),
        init_gain=np.float64(1.5), data_path=pathlib.Path("data") / "x.csv",
    )  # fmt: skip
    assert config.depth == 8 and type(config.depth) is int
    assert config.learning_rate == 0.1 and type(config.learning_rate) is float
    assert config.bias is False and config.init_gain == 1.5
    assert config.data_path == str(pathlib.Path("data") / "x.csv")
    with pytest.raises(ConfigError, match="depth"):
        Config().replace(depth=np.float64(2.5))
