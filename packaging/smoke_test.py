"""Check a frozen gradsim app: it starts, runs every preset, and renders like the source.

    python packaging/smoke_test.py [--log-file] [PATH_TO_EXECUTABLE]

Runs the app offscreen (QT_QPA_PLATFORM=offscreen, private settings):
1. ``--self-test`` (every preset trains, a real window renders through its worker process):
   exit 0 and the line ``gradsim self-test ok``;
2. ``screenshot``: a PNG of the asked size;
3. ``run`` of every preset: the same numbers as this Python's gradsim, when it can import one.
Any output line with a Python traceback, an import error or a Qt plugin error fails the test,
even when the exit status is 0. Exit status 0 means every check passed.

The windowed Windows exe has no console to print to, so there (or with ``--log-file``) the app
writes its output to the file named by GRADSIM_LOG_FILE (packaging/hooks/rth_gradsim_log.py)
and the test reads that: the exe tested is the one shipped, not a console build of it.
"""

from __future__ import annotations

import argparse
import os
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build import executable

FATAL = (
    "Traceback (most recent call last)",
    "ImportError",
    "ModuleNotFoundError",
    "Could not load the Qt platform plugin",
    "Could not find the Qt platform plugin",
    "qt.qpa.plugin: Could not",
    "This application failed to start",
    "Failed to execute script",
)
LOG_ENV = "GRADSIM_LOG_FILE"  # read by packaging/hooks/rth_gradsim_log.py in the frozen app
SHOT_SIZE = (800, 600)
RUN_STEPS = 5


class SmokeFailure(Exception):
    pass


def run(app: Path, *args: str, env: dict[str, str], timeout: float = 180) -> str:
    """Run the frozen app; return its output, or raise SmokeFailure saying what went wrong.

    With ``LOG_ENV`` in ``env``, what the app wrote to that file counts as its stdout."""
    log = Path(env[LOG_ENV]) if LOG_ENV in env else None
    if log is not None:
        log.write_text("", encoding="utf-8")
    result = subprocess.run(
        [str(app), *args], capture_output=True, text=True, timeout=timeout, env=env
    )
    stdout = result.stdout
    if log is not None:
        stdout += log.read_text(encoding="utf-8", errors="replace")
    output = stdout + result.stderr
    bad = [line for line in output.splitlines() if any(marker in line for marker in FATAL)]
    if result.returncode != 0 or bad:
        shown = "\n    ".join(output.strip().splitlines()[-15:])
        raise SmokeFailure(f"'{' '.join(args)}' exited {result.returncode}:\n    {shown}")
    return stdout


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's header (no Qt or Pillow needed to check)."""
    data = path.read_bytes()[:24]
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise SmokeFailure(f"{path} is not a PNG file")
    return struct.unpack(">II", data[16:24])


def compare_with_source(app: Path, env: dict[str, str], folder: Path) -> int:
    """Every preset's first steps from the frozen app equal this Python's gradsim's."""
    try:
        import numpy as np

        import gradsim
        from gradsim.engine.export import read_run
    except ImportError:
        print("  (no gradsim in this Python: frozen-vs-source comparison skipped)")
        return 0
    presets = sorted(gradsim.presets())
    for preset in presets:
        out = folder / f"{preset}.npz"
        run(app, "run", "--preset", preset, "--steps", str(RUN_STEPS), "--out", str(out), env=env)
        frozen = read_run(out)
        source = gradsim.run(preset, steps=RUN_STEPS)
        if frozen.config != source.config:
            raise SmokeFailure(f"{preset}: the frozen app read a different config")
        for name, values in source.stats.items():
            if not np.array_equal(frozen.recorder.stat(name), values, equal_nan=True):
                raise SmokeFailure(f"{preset}: {name} differs between frozen and source")
    return len(presets)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("app", nargs="?", type=Path, default=executable(), help="executable")
    parser.add_argument(
        "--log-file",
        action="store_true",
        default=sys.platform == "win32",
        help=f"read the app's output from the file {LOG_ENV} names (default on Windows)",
    )
    return parser.parse_args(argv)


def app_env(folder: Path, log_file: bool) -> dict[str, str]:
    """Offscreen, private settings, and the app's output in a file or on its stdout."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "GRADSIM_SETTINGS_DIR": str(folder)}
    env.pop(LOG_ENV, None)
    if log_file:
        env[LOG_ENV] = str(folder / "gradsim.log")
        print(f"(the app's output read from {LOG_ENV})")
    return env


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    app: Path = args.app
    if not app.is_file():
        print(f"smoke test: no app at {app} (build it: python packaging/build.py)")
        return 2
    # Windows: a worker the app failed to stop could still hold a file open here.
    with tempfile.TemporaryDirectory(prefix="gradsim-smoke-", ignore_cleanup_errors=True) as tmp:
        folder = Path(tmp)
        env = app_env(folder, args.log_file)
        try:
            out = run(app, "--self-test", env=env)
            if "gradsim self-test ok" not in out:
                raise SmokeFailure(f"--self-test printed no 'gradsim self-test ok' line: {out!r}")
            print(f"ok  {out.strip()}")
            shot = folder / "shot.png"
            width, height = SHOT_SIZE
            run(app, "screenshot", "--preset", "seed-vanishing", "--steps", "5",
                "--size", f"{width}x{height}", "--out", str(shot), env=env)  # fmt: skip
            if png_size(shot) != SHOT_SIZE or shot.stat().st_size < 10_000:
                raise SmokeFailure(f"screenshot is {png_size(shot)}, {shot.stat().st_size} B")
            print(f"ok  screenshot {width}x{height}, {shot.stat().st_size:,} bytes")
            compared = compare_with_source(app, env, folder)
            if compared:
                print(f"ok  {compared} presets give the same numbers frozen and from source")
        except (SmokeFailure, subprocess.TimeoutExpired) as exc:
            print(f"smoke test FAILED: {exc}")
            return 1
    print(f"smoke test passed: {app}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
