"""Hostile input reaches the user as the module's own error, never a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gradsim.engine import tomlio
from gradsim.engine.config import Config, ConfigError, apply_assignments, quoted
from gradsim.engine.csv_data import CsvDataError, read_csv_table
from gradsim.engine.lessons import LessonError, load_lesson_file

DEEP = "a = " + "[" * 500 + "]" * 500 + "\n"


def test_deep_nesting_is_a_decode_error() -> None:
    with pytest.raises(tomlio.TOMLDecodeError, match="nested too deeply"):
        tomlio.loads(DEEP)


def test_deep_config_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.toml"
    path.write_text(DEEP)
    with pytest.raises(ConfigError, match="nested too deeply"):
        Config.load(path)
    with pytest.raises(tomlio.TOMLDecodeError, match="nested too deeply"):
        Config.from_toml(DEEP)


def test_deep_lesson_file_is_a_lesson_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.toml"
    path.write_text(DEEP)
    with pytest.raises(LessonError, match="nested too deeply"):
        load_lesson_file(path)


def test_deep_set_value_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="nested too deeply"):
        apply_assignments(Config(), ["depth=" + "[" * 500 + "]" * 500])


def test_keys_outside_a_config_table_are_refused() -> None:
    with pytest.raises(ConfigError, match="'depht'"):
        Config.from_toml("depht = 3\n[config]\ndepth = 2\n")
    assert Config.from_toml("[config]\ndepth = 2\n").depth == 2


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_config_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match="not a regular file"):
        Config.load(fifo)
    with pytest.raises(LessonError, match="not a regular file"):
        load_lesson_file(fifo)


def test_huge_config_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    path.write_text("# " + "x" * (tomlio.MAX_TOML_BYTES + 10) + "\n")
    with pytest.raises(ConfigError, match="too large"):
        Config.load(path)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_dev_zero_as_data_is_refused() -> None:
    with pytest.raises(CsvDataError, match="not a regular file"):
        read_csv_table("/dev/zero")


def test_garbage_header_is_quoted_short(tmp_path: Path) -> None:
    path = tmp_path / "junk.csv"
    path.write_text("x" * 5000 + "\n1\n")
    with pytest.raises(CsvDataError) as info:
        read_csv_table(path)
    message = str(info.value)
    assert len(message) < 300, message
    assert "\u2026" in message
    assert message.count(str(path)) == 1


def test_long_set_value_is_quoted_short() -> None:
    with pytest.raises(ConfigError) as info:
        apply_assignments(Config(), ["activation=" + "y" * 5000])
    assert len(str(info.value)) < 300


def test_quoted_cuts_long_values() -> None:
    assert quoted("abc") == "'abc'"
    assert len(quoted("z" * 1000)) == 60
    assert quoted("z" * 1000).endswith("\u2026")
