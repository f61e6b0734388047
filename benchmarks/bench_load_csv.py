"""Data → Load CSV on a big file: parse time and peak memory, UI stall, per-process peak RSS.

Generates a 100,000 x 200 CSV (199 features printed with 6 decimals and a 3-class text label,
about 180 MB) in the temporary folder (kept for the next run), then, each in a fresh process:

1. engine: ``read_csv_table`` of the file: wall time, tracemalloc peak, and the process's
   peak RSS (VmHWM) over its RSS before the parse; ratios to the file size. Target <= 3x.
2. app: the MainWindow offscreen, a 10 ms QTimer on the UI thread; Data → Load CSV of the
   file (``FileCommands.load_csv``: a parse in a thread behind a progress dialog), then until
   the worker process has built its Simulation from the file. Reported: the timer's longest
   gap (the longest UI stall; target ~100 ms), and the peak RSS (VmHWM from /proc) of the
   window process and of the worker process, each also over its RSS before the load.

    python benchmarks/bench_load_csv.py [--rows N] [--columns C]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def make_csv(rows: int, columns: int) -> Path:
    path = Path(tempfile.gettempdir()) / f"gradsim-bench-{rows}x{columns}.csv"
    if path.exists():
        return path
    rng = np.random.default_rng(0)
    partial = path.with_suffix(".part")
    with open(partial, "w", encoding="utf-8") as out:
        out.write(",".join(f"f{i}" for i in range(columns - 1)) + ",label\n")
        for start in range(0, rows, 5000):
            x = np.char.mod("%.6f", rng.normal(size=(min(5000, rows - start), columns - 1)))
            labels = np.asarray(["setosa", "versicolor", "virginica"])[rng.integers(0, 3, len(x))]
            out.writelines(",".join(r) + f",{y}\n" for r, y in zip(x, labels, strict=True))
    partial.rename(path)
    return path


def status_kb(pid: int | str, field: str) -> int:
    """VmRSS / VmHWM of a process, in kB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


# -- children: each measures one thing in a fresh process and prints one JSON line ----------------
def engine_child(path: Path) -> dict[str, float]:
    import tracemalloc

    from gradsim.engine.csv_data import read_csv_table

    before = status_kb("self", "VmRSS")
    tracemalloc.start()
    started = time.perf_counter()
    table = read_csv_table(path)
    seconds = time.perf_counter() - started
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert table.features.shape[0] > 0
    return {
        "seconds_traced": seconds,
        "tracemalloc_peak": traced,
        "rss_before": before * 1024,
        "rss_peak": status_kb("self", "VmHWM") * 1024,
    }


def engine_timing_child(path: Path) -> dict[str, float]:
    from gradsim.engine.csv_data import read_csv_table

    started = time.perf_counter()
    read_csv_table(path)
    return {"seconds": time.perf_counter() - started}


def app_child(path: Path) -> dict[str, float]:
    from PySide6.QtCore import QTimer

    from gradsim.app.launch import application, wait_until
    from gradsim.app.main_window import MainWindow
    from gradsim.app.model.worker import live_processes
    from gradsim.engine.config import Config

    application(offscreen=True)
    window = MainWindow(config=Config(depth=4, width=16), remember=False)
    window.resize(1280, 800)
    window.show()
    assert wait_until(lambda: bool(window.session.snapshots), 30)
    workers = live_processes()
    assert len(workers) == 1
    worker_pid = workers[0].pid
    assert worker_pid is not None
    window_before = status_kb("self", "VmRSS")
    worker_before = status_kb(worker_pid, "VmRSS")
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    wait_until(lambda: False, 0.2)
    started = time.perf_counter()
    assert window.files.load_csv(path)
    parsed = time.perf_counter() - started
    config = window.session.configs[0]

    def worker_built() -> bool:
        snaps = window.session.snapshots
        return bool(snaps) and snaps[0].config == config

    assert wait_until(worker_built, 300), "the worker never reported on the CSV run"
    in_worker = time.perf_counter() - started
    wait_until(lambda: False, 0.2)
    timer.stop()
    during = [t for t in ticks if t >= started - 0.02]
    result = {
        "window_parse_seconds": parsed,
        "until_worker_ready_seconds": in_worker,
        "longest_stall_ms": float(np.diff(during).max() * 1000),
        "window_rss_before": window_before * 1024,
        "window_rss_peak": status_kb("self", "VmHWM") * 1024,
        "worker_rss_before": worker_before * 1024,
        "worker_rss_peak": status_kb(worker_pid, "VmHWM") * 1024,
        "worker_same_pid": float(worker_pid in [p.pid for p in live_processes()]),
    }
    window.close()
    return result


def child(kind: str, path: Path) -> dict[str, float]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"{kind} child failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--columns", type=int, default=200)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, path = args.child
        runs = {"engine": engine_child, "timing": engine_timing_child, "app": app_child}
        print(json.dumps(runs[kind](Path(path))))
        return
    path = make_csv(args.rows, args.columns)
    size = path.stat().st_size
    mb = 1e6
    print(f"file: {path} ({args.rows} x {args.columns}), {size / mb:.1f} MB")
    timing = child("timing", path)
    engine = child("engine", path)
    print(
        f"engine: read_csv_table {timing['seconds']:.2f} s "
        f"({engine['seconds_traced']:.2f} s under tracemalloc); tracemalloc peak "
        f"{engine['tracemalloc_peak'] / mb:.0f} MB = {engine['tracemalloc_peak'] / size:.2f}x; "
        f"peak RSS {engine['rss_peak'] / mb:.0f} MB (before {engine['rss_before'] / mb:.0f} MB; "
        f"+{(engine['rss_peak'] - engine['rss_before']) / size:.2f}x)"
    )
    app = child("app", path)
    for who in ("window", "worker"):
        peak, before = app[f"{who}_rss_peak"], app[f"{who}_rss_before"]
        print(
            f"app {who}: peak RSS {peak / mb:.0f} MB = {peak / size:.2f}x the file "
            f"(before the load {before / mb:.0f} MB; growth {(peak - before) / size:.2f}x)"
        )
    print(
        f"app: longest UI stall {app['longest_stall_ms']:.0f} ms (10 ms timer); window parse "
        f"{app['window_parse_seconds']:.1f} s, worker ready after "
        f"{app['until_worker_ready_seconds']:.1f} s"
    )


if __name__ == "__main__":
    main()
