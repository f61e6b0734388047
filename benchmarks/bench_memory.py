"""Memory over a long run: the window's and the worker's resident memory (RSS) while a
depth-100 net trains for 100,000 steps with every view live (statistics, distributions and
learned functions arrive and are kept), against the stated budget.

The histories are bounded, not the run: the recorder keeps ~32 MB of statistics, the
distributions ``DISTRIBUTION_BUDGET`` (48 MB) and the learned functions at most 240 of them,
per run, thinning old steps beyond that. So the window's memory must level off however long
the run goes. Figures: RSS of both processes after the first paint and at checkpoints, the
growth since the start, and the bytes each history holds.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_memory.py [--steps N] [--preset ID]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

BUDGET_MB = 200  # the window's history budget at depth 100, whatever the run's length


def rss_mb(pid: int) -> float:
    """Resident set size of process ``pid`` in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--preset", default="seed-vanishing", help="a depth-100 preset")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from gradsim.app.launch import application, wait_until
    from gradsim.app.main_window import MainWindow
    from gradsim.app.model.worker import live_processes
    from gradsim.engine.presets import get_preset

    application(offscreen=True)
    preset = get_preset(args.preset)
    window = MainWindow(preset=preset, remember=False)
    window.resize(1600, 900)
    window.show()
    window.view_state.set_speed(math.inf)
    wait_until(lambda: bool(window.session.snapshots), 30)
    (worker,) = live_processes()
    start_ui, start_worker = rss_mb(os.getpid()), rss_mb(worker.pid or 0)
    print(f"{preset.id}: depth {preset.config.depth}, width {preset.config.width}; "
          f"{args.steps:,} steps at full speed, every view live")  # fmt: skip
    print(f"{'steps':>9} {'UI MB':>8} {'worker MB':>10} {'UI growth':>10} "
          f"{'stats MB':>9} {'dists MB':>9} {'functions':>9} {'s':>6}")  # fmt: skip
    started = time.perf_counter()
    window.session.run_until(args.steps)
    checkpoints = sorted({args.steps // 10, args.steps // 2, args.steps})
    session = window.session
    for checkpoint in checkpoints:
        wait_until(
            lambda c=checkpoint: (window.draw(), (session.newest_step(0) or 0) + 1 >= c)[1],
            3600,
        )
        ui, work = rss_mb(os.getpid()), rss_mb(worker.pid or 0)
        print(f"{checkpoint:>9,} {ui:>8.0f} {work:>10.0f} {ui - start_ui:>+10.0f} "
              f"{session.histories[0].nbytes / 2**20:>9.1f} "
              f"{session.distributions[0].nbytes / 2**20:>9.1f} "
              f"{len(session.functions[0]):>9} {time.perf_counter() - started:>6.0f}")  # fmt: skip
    grown = rss_mb(os.getpid()) - start_ui
    verdict = "ok" if grown <= BUDGET_MB else "OVER"
    print(f"window memory grew {grown:.0f} MB over the run (budget {BUDGET_MB} MB): {verdict};"
          f" at start: window {start_ui:.0f} MB, worker {start_worker:.0f} MB")  # fmt: skip
    window.close()
    return 0 if grown <= BUDGET_MB else 1


if __name__ == "__main__":
    sys.exit(main())
