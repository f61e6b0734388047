"""Faults on the command line: each ends in ONE stderr line and exit status 2, no traceback,
and no file that should not be there (a full stdout, a name too long, a run that cannot
start)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SMALL = ["--set", "depth=3", "width=6", "batch_size=8", "input_dim=4", "output_dim=2"]
TOO_LONG = "a" * 300


def gradsim(
    *args: str, cwd: Path, stdout: object = subprocess.PIPE
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return subprocess.run(
        [sys.executable, "-m", "gradsim", *args],
        cwd=cwd, env=env, stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=300,
        check=False,
    )  # fmt: skip


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gradsim: error: "), result.stderr
    return lines[0]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize(
    "command", [["presets"], ["run", *SMALL, "--steps", "3", "--out", "r.csv"]]
)
def test_a_full_stdout_is_one_line_and_status_2(tmp_path, command) -> None:
    with open("/dev/full", "w") as full:
        result = gradsim(*command, cwd=tmp_path, stdout=full)
    assert result.returncode == 2
    line = one_error_line(result)
    assert line == f"gradsim: error: cannot write to standard output: {os.strerror(28)}"


@pytest.mark.parametrize("suffix", [".csv", ".npz"])
def test_run_out_with_a_name_too_long_is_refused_before_training(tmp_path, suffix) -> None:
    result = gradsim("run", *SMALL, "--steps", "3", "--out", TOO_LONG + suffix, cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert one_error_line(result).endswith(": File name too long")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("command", "suffix"), [("screenshot", ".png"), ("record", ".gif")])
def test_pictures_with_a_name_too_long_are_refused(tmp_path, command, suffix) -> None:
    result = gradsim(command, *SMALL, "--steps", "3", "--out", TOO_LONG + suffix, cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert one_error_line(result).endswith(": File name too long")
    assert list(tmp_path.iterdir()) == []


def test_screenshot_of_a_run_that_cannot_start_is_an_error_not_a_picture(tmp_path) -> None:
    big = ["--set", "depth=2000", "width=4096"]
    result = gradsim("screenshot", *big, "--steps", "2", "--out", "shot.png", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    line = one_error_line(result)  # the banner's sentence (its wording is the engine's)
    assert len(line) > len("gradsim: error: ") + 10 and "did not finish" not in line
    assert list(tmp_path.iterdir()) == []
