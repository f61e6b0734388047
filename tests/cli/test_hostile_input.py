"""Hostile input on the command line: exit status 2, one ``gradsim: error:`` line, no
traceback, nothing blocks; a corrupt stored config does not stop the app starting."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradsim.cli import main
from tests.cli.test_cli import assert_one_error_line, gradsim

DEEP = "[" * 500 + "]" * 500
RUN = ["run", "--steps", "1", "--set", "depth=2", "width=2", "batch_size=2"]


@pytest.mark.parametrize("how", ["config", "set", "lesson"])
def test_deeply_nested_toml_is_one_error_line(tmp_path: Path, how: str) -> None:
    deep = tmp_path / "deep.toml"
    deep.write_text(f"a = {DEEP}\n")
    if how == "config":
        args = ["run", "--config", str(deep), "--steps", "1", "--out", "x.npz"]
    elif how == "set":
        args = ["run", "--set", f"depth={DEEP}", "--steps", "1", "--out", "x.npz"]
    else:
        args = ["--lesson", str(deep)]
    result = gradsim(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert_one_error_line(result.stderr)
    assert "nested too deeply" in result.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_config_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    result = gradsim("run", "--config", str(fifo), "--out", "x.npz", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert_one_error_line(result.stderr)
    assert "not a regular file" in result.stderr


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_dev_zero_as_data_is_refused(tmp_path: Path) -> None:
    result = gradsim(
        "run", "--set", "dataset=csv", "data_path=/dev/zero", "--out", "x.npz", cwd=tmp_path
    )
    assert result.returncode == 2, result.stderr
    assert_one_error_line(result.stderr)
    assert "not a regular file" in result.stderr


def test_corrupt_stored_config_is_set_aside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("PySide6")
    from gradsim.app.model.settings import AppSettings

    monkeypatch.setenv("GRADSIM_SETTINGS_DIR", str(tmp_path))
    stored = AppSettings()
    stored._qs.setValue("config/toml", f"a = {DEEP}\n")  # what an older gradsim could keep
    stored.sync()
    capsys.readouterr()
    assert AppSettings().last_config() is None  # no RecursionError: the app starts afresh
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("gradsim: warning:"), err
    kept = list(tmp_path.glob("gradsim-config.unreadable-*"))
    assert len(kept) == 1 and DEEP in kept[0].read_text()  # nothing lost
    assert AppSettings().last_config() is None
    assert capsys.readouterr().err == ""  # set aside once


# -- fuzzing ----------------------------------------------------------------------------------

SAFE_KEYS = ["activation", "init", "init_gain", "learning_rate", "optimizer", "seed", "bias"]
KEYS = st.sampled_from(SAFE_KEYS) | st.text("abcdefghij_", min_size=1, max_size=8)
VALUES = st.one_of(
    st.integers(-5, 5).map(str),
    st.floats(-3, 3, allow_nan=False).map(repr),
    st.sampled_from(["true", "nan", "inf", '"relu"', "relu", "[1, 2]", "{x = 1}", "'", '"']),
    st.integers(1, 600).map(lambda n: "[" * n + "]" * n),
    st.integers(1, 600).map(lambda n: "{a = " * n + "1" + "}" * n),
    st.text(max_size=40),
)
LINES = st.one_of(
    st.tuples(KEYS, VALUES).map(lambda kv: f"{kv[0]} = {kv[1]}"),
    st.sampled_from(["[config]", "[other]", "[[x]]", "", "#", "="]),
    st.binary(max_size=30).map(lambda b: b.decode("latin-1")),
)


def _check(code: int, err: str) -> None:
    assert code in (0, 2), err
    assert "Traceback" not in err
    if code == 2:
        assert err.startswith("gradsim: error: ") and err.count("\n") == 1, err


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(lines=st.lists(LINES, max_size=8), raw=st.binary(max_size=20))
def test_fuzzed_config_files(
    tmp_path_factory: pytest.TempPathFactory, lines: list[str], raw: bytes
) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "c.toml"
    path.write_bytes("\n".join(lines).encode("utf-8", "surrogatepass") + b"\n" + raw)
    # The config's own depth/width could be huge: the command line's --set comes last.
    code, err = _run_in_process(
        ["run", "--config", str(path), *RUN[1:], "--out", str(folder / "r.npz")]
    )
    _check(code, err)


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(key=KEYS, value=VALUES)
def test_fuzzed_set_values(tmp_path_factory: pytest.TempPathFactory, key: str, value: str) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    code, err = _run_in_process([*RUN, f"{key}={value}", "--out", str(folder / "r.npz")])
    _check(code, err)


def _run_in_process(argv: list[str]) -> tuple[int, str]:
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    return code, err.getvalue()
