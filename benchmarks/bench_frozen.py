"""Start-up of the frozen app against the same app run from source: time to first paint.

    python benchmarks/bench_frozen.py [--launches N] [--app dist/gradsim/gradsim]

Both are launched the same way (offscreen, private settings, ``--preset seed-exploding``) with
``GRADSIM_REPORT_FIRST_PAINT=1``, which makes the app print the wall time of its first painted
frame and close. Launches alternate between the two so that machine noise hits both alike;
the figures are medians. Target: frozen <= 1.5 x source.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "packaging"))
from build import executable  # noqa: E402 - after the path it lives on


def first_paint_ms(command: list[str], env: dict[str, str]) -> float:
    start = time.time()
    out = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env).stdout
    lines = [line for line in out.splitlines() if line.startswith("first_paint ")]
    if not lines:
        raise SystemExit(f"{command[0]} printed no first_paint line:\n{out}")
    return (float(lines[0].split()[2]) - start) * 1000  # to the end of the first paint pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--launches", type=int, default=7)
    parser.add_argument("--app", type=Path, default=executable())
    args = parser.parse_args()
    if not args.app.is_file():
        raise SystemExit(f"no frozen app at {args.app}: python packaging/build.py")
    commands = {
        "source": [sys.executable, "-m", "gradsim", "--preset", "seed-exploding"],
        "frozen": [str(args.app), "--preset", "seed-exploding"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    with tempfile.TemporaryDirectory() as settings:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "GRADSIM_SETTINGS_DIR": settings,
               "GRADSIM_REPORT_FIRST_PAINT": "1"}  # fmt: skip
        for command in commands.values():  # warm the file cache once, unmeasured
            first_paint_ms(command, env)
        for _ in range(args.launches):
            for name, command in commands.items():
                times[name].append(first_paint_ms(command, env))
    source, frozen = (statistics.median(times[n]) for n in ("source", "frozen"))
    print(f"start-up to first paint, median of {args.launches} launches each (offscreen)")
    print(
        f"  from source: {source:6.0f} ms   (all: {', '.join(f'{t:.0f}' for t in times['source'])})"
    )
    print(
        f"  frozen app:  {frozen:6.0f} ms   (all: {', '.join(f'{t:.0f}' for t in times['frozen'])})"
    )
    verdict = "ok" if frozen <= 1.5 * source else "MISSED"
    print(f"  ratio frozen/source: {frozen / source:.2f} (target <= 1.5)  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
