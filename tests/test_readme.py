"""The README's shell examples work exactly as written, after its set-up commands.

Each ```bash block outside the set-up runs line by line with bash, in a temporary folder
holding only ``.venv`` (this test run's virtual environment: what the set-up made) and
``example.py`` (the README's Python block, which the README says to save under that name),
offscreen. What is not run, and why:
- the set-up section's two commands: they are what made this environment (one installs and
  opens the app, the other is the test command itself);
- the standalone build (``packaging/build.py``): ``.ci/run`` builds and smoke-tests it;
- ``.venv/bin/pip install`` lines: installing needs the checkout and a network; instead the
  test checks that what they install is installed (the test command installs the extras).
A command that opens the app must still be running, silently, after a few seconds. A comment
line right under a command is the output the README promises: it must match what the command
printed, ``...`` standing for anything.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from gradsim.engine import tomlio

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
NOT_RUN = {
    "Set up": "the set-up commands made this environment",
    "Standalone app": ".ci/run builds and smoke-tests the standalone app",
}
APP_SECONDS = 4.0  # an app command must still be running (and silent) this long


def bash_blocks() -> list[tuple[str, str]]:
    """(section heading, block text) of every ```bash block, in order."""
    blocks, section = [], ""
    for part in re.split(r"(^## .*$)", README.read_text(encoding="utf-8"), flags=re.M):
        if part.startswith("## "):
            section = part[3:].strip()
            continue
        blocks += [(section, code) for code in re.findall(r"```bash\n(.*?)```", part, re.S)]
    return blocks


def commands(block: str) -> list[tuple[str, str | None]]:
    """(command, the comment under it or None) for each command line of a block."""
    found: list[tuple[str, str | None]] = []
    for line in block.splitlines():
        text = line.strip()
        if text.startswith("#") and found and found[-1][1] is None:
            found[-1] = (found[-1][0], text.lstrip("#").strip())
        elif text and not text.startswith("#"):
            found.append((text, None))
    return found


def python_example() -> str:
    section = README.read_text(encoding="utf-8").split("## Python API", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None
    return match.group(1)


SUBCOMMANDS = {"run", "screenshot", "record", "lessons", "presets", "demo"}


def opens_the_app(command: str) -> bool:
    """``gradsim`` with options only, no command: it opens the window (and stays open)."""
    words = shlex.split(command)
    return Path(words[0]).name == "gradsim" and not SUBCOMMANDS & set(words[1:])


def assert_installed(command: str) -> None:
    """What a ``pip install -e ".[extra,...]"`` line installs is installed here."""
    match = re.search(r'-e "?\.\[([\w,]+)\]"?', command)
    assert match is not None, f"the README installs something this test does not know: {command}"
    optional = tomlio.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]
    assert metadata.distribution("gradsim")
    for extra in match.group(1).split(","):
        for requirement in optional[extra]:
            name = re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0]
            assert metadata.distribution(name), f"{name} (extra {extra}) is not installed"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    if sys.prefix == sys.base_prefix:
        pytest.skip("the README's commands call .venv/bin/: run the tests in a virtual env")
    (tmp_path / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    (tmp_path / "example.py").write_text(python_example(), encoding="utf-8")
    return tmp_path


def run(command: str, folder: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "MPLBACKEND": "Agg"}
    env.pop("PYTHONPATH", None)  # only what the venv has
    env.pop("VIRTUAL_ENV", None)  # and a shell as fresh as the README's reader's: no venv on
    paths = env.get("PATH", "").split(os.pathsep)  # PATH, so a bare "gradsim" would fail
    env["PATH"] = os.pathsep.join(p for p in paths if not p.startswith(sys.prefix))
    if not opens_the_app(command):
        return subprocess.run(["bash", "-c", command], cwd=folder, env=env, capture_output=True,
                              text=True, timeout=300, check=False)  # fmt: skip
    app = subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=folder, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        code = app.wait(APP_SECONDS)
    except subprocess.TimeoutExpired:
        app.terminate()
        out, err = app.communicate(timeout=30)
        return subprocess.CompletedProcess(command, 0, out, err)
    out, err = app.communicate()
    return subprocess.CompletedProcess(command, code or 1, out, f"exited early: {err}")


def expected(pattern: str) -> re.Pattern[str]:
    return re.compile(".*?".join(re.escape(part.strip()) for part in pattern.split("...")), re.S)


@pytest.mark.slow
def test_every_shell_example_works_as_written(folder: Path) -> None:
    ran = []
    for section, block in bash_blocks():
        if section in NOT_RUN:
            continue
        for command, promised in commands(block):
            if command.startswith(".venv/bin/pip install"):
                assert_installed(command)
                continue
            result = run(command, folder)
            assert result.returncode == 0, (command, result.stderr)
            assert "Traceback" not in result.stderr, (command, result.stderr)
            if promised is not None:
                said = result.stdout + result.stderr
                assert expected(promised).search(said), (command, promised, said)
            ran.append(command)
    assert len(ran) >= 4, ran  # the lecture, the CLI example and the Python example ran
    assert (folder / "exploding.csv").exists() and (folder / "vanishing.png").exists()
    assert (folder / "relu-xavier.png").exists()


def test_the_readme_lists_what_this_test_leaves_out() -> None:
    sections = {section for section, _ in bash_blocks()}
    assert set(NOT_RUN) <= sections  # a renamed section would silently be run, or not
    blocks = [block for section, block in bash_blocks() if section == "Set up"]
    assert [b.strip() for b in blocks] == [
        "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/gradsim",
        "bash scripts/test.sh",
    ]
