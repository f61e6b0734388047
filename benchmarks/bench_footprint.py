"""The memory estimate (gradsim.engine.footprint) against the real peak RSS, and step times.

Each size runs in a fresh subprocess: ``Simulation(cfg)`` and 3 steps, then the peak RSS
(``ru_maxrss``) minus that of a subprocess that only imported the engine. Prints a table; no
asserts. ``--calibrate`` also times steps to check the step-time constants' order of
magnitude (footprint.SECONDS_PER_* ; one BLAS thread, as the app's worker).

    .venv/bin/python benchmarks/bench_footprint.py [--calibrate]
"""

from __future__ import annotations

import json
import subprocess
import sys

SIZES = [(100, 64), (200, 512), (50, 2048)]
CALIBRATE = [(2, 2048), (2000, 16), (20, 512), (200, 256)]

CHILD = r"""
import json, resource, sys, time
from threadpoolctl import threadpool_limits
from gradsim.engine.config import Config
from gradsim.engine.simulation import Simulation
depth, width, steps = (int(a) for a in sys.argv[1:4])
seconds = None
if depth:
    with threadpool_limits(limits=1, user_api="blas"):
        sim = Simulation(Config(depth=depth, width=width, dtype="float64"))
        sim.step(distributions=True)
        start = time.perf_counter()
        for _ in range(steps - 1):
            sim.step()
        seconds = (time.perf_counter() - start) / max(1, steps - 1)
print(json.dumps({"rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                  "seconds": seconds}))
"""


def _child(depth: int, width: int, steps: int = 3) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(depth), str(width), str(steps)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    result: dict[str, float] = json.loads(out.stdout)
    return result


def main() -> None:
    from gradsim.engine.config import Config
    from gradsim.engine.footprint import estimate, format_bytes, format_seconds

    baseline = _child(0, 0)["rss"]
    sizes = SIZES + (CALIBRATE if "--calibrate" in sys.argv else [])
    print(f"baseline RSS (engine imported): {format_bytes(baseline)}")
    print(f"{'depth':>6} {'width':>6} {'estimate':>10} {'peak RSS':>10} {'ratio':>6}"
          f" {'est. step':>10} {'step':>8}")  # fmt: skip
    for depth, width in sizes:
        footprint = estimate(Config(depth=depth, width=width, dtype="float64"))
        got = _child(depth, width, 4)
        rss = got["rss"] - baseline
        print(
            f"{depth:>6} {width:>6} {format_bytes(footprint.bytes):>10} {format_bytes(rss):>10}"
            f" {footprint.bytes / rss:>6.2f} {format_seconds(footprint.step_seconds):>10}"
            f" {format_seconds(got['seconds']):>8}"
        )


if __name__ == "__main__":
    main()
