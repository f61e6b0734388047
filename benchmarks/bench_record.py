"""Memory and time of ``gradsim record`` at full size: peak resident memory (RSS), seconds and
file size of a 1920x1080 GIF for each frame count asked for, each in a fresh subprocess.

Frames are encoded and written one at a time, so the peak must not grow with the frame count
(the target is at most 300 MB at 1920x1080, training included).

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_record.py [--frames 100 1000]
        [--preset ID] [--steps N] [--size WxH] [--out FILE.gif]

``--steps`` defaults to the largest frame count: a run records one row per step, and a run with
fewer rows than frames gets fewer frames. (``seed-exploding`` stops at its first NaN, after 2
steps, so it would give 2 frames: ``seed-vanishing`` is the default.)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

TARGET_MB = 300


def run(args: list[str]) -> tuple[float, float, str]:
    """Run ``gradsim`` with ``args`` in a child; its peak RSS in MB, seconds and stdout."""
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    command = [sys.executable, "-c", "import sys; from gradsim.cli import main; sys.exit(main())"]
    # One child at a time, each from a fresh helper process: RUSAGE_CHILDREN's ru_maxrss is the
    # largest of all waited-for children, so measure each run in a process of its own.
    probe = (
        "import resource, subprocess, sys\n"
        "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "sys.stderr.write(r.stderr)\n"
        "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "print(r.stdout, end='')\n"
    )
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", probe, *command, *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    seconds = time.perf_counter() - start
    first, _, rest = result.stdout.partition("\n")
    code, maxrss = (int(word) for word in first.split())
    if code != 0:
        raise SystemExit(f"gradsim record failed ({code}):\n{result.stderr}")
    scale = 1024 if sys.platform != "darwin" else 1024 * 1024  # KB on Linux, bytes on macOS
    return maxrss / scale, seconds, rest.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--preset", default="seed-vanishing")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--out", default="/tmp/bench_record.gif")
    args = parser.parse_args()
    steps = args.steps or max(args.frames)
    print(f"gradsim record --preset {args.preset} --steps {steps} --size {args.size}", flush=True)
    print(f"{'frames':>7} {'peak RSS MB':>12} {'seconds':>8} {'file MB':>8}", flush=True)
    worst = 0.0
    for frames in args.frames:
        print(f"{frames:>7} ...", end="\r", flush=True)
        peak, seconds, said = run(
            [
                "record",
                "--preset",
                args.preset,
                "--steps",
                str(steps),
                "--frames",
                str(frames),
                "--size",
                args.size,
                "--out",
                args.out,
            ]
        )
        size_mb = Path(args.out).stat().st_size / 1e6
        print(f"{frames:>7} {peak:>12.0f} {seconds:>8.1f} {size_mb:>8.2f}   {said}", flush=True)
        worst = max(worst, peak)
    print(f"largest peak {worst:.0f} MB (target <= {TARGET_MB} MB at 1920x1080)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
