"""App speed: training with the live window drawing, UI latency while training, start-up time.

Each figure comes with a baseline measured in the same run, so machine noise cancels:

1. throughput: steps/s of the real MainWindow (shown at 1600x900 on Qt's offscreen platform,
   painting at its ~30 fps frame timer, heatmap visible) playing at full speed, over steps/s
   of the engine alone (``Simulation(config, record=False)`` stepping in a plain loop, BLAS
   limited to 1 thread like the worker). Steps are counted from the window's snapshots over
   a fixed interval after a warm-up. Median of the per-repeat ratios (each repeat measures
   the engine right before the window). Target >= 0.9. Also shown: heatmap repaints per
   second and the UI thread's CPU share (what drawing costs; training runs in its own process).
2. UI latency: delay until a ``QTimer.singleShot(0, ...)`` started on the UI thread fires,
   while the window trains at full speed; the same with training paused is the baseline.
   p50 and p99 of each repeat, median over the repeats. Target p99 <= 50 ms.
3. start-up: wall time from spawning ``python -m gradsim --preset seed-exploding`` to the end
   of its first paint pass, over the same for a bare QMainWindow holding one pyqtgraph
   PlotWidget (fresh processes, offscreen, see _first_paint_probe.py). One discarded launch
   of each first, then alternating launches; medians. Target <= 1.3.

    python benchmarks/bench_app.py [--seconds S] [--repeats R] [--launches N] [--quick]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyqtgraph as pg
import PySide6
from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QObject, QTimer, qVersion
from threadpoolctl import threadpool_info, threadpool_limits

from gradsim.app.launch import _HARMLESS, application, wait_until
from gradsim.app.model.worker import Snapshot
from gradsim.engine.config import Config
from gradsim.engine.presets import Preset, get_preset
from gradsim.engine.simulation import Simulation

PROBE = Path(__file__).with_name("_first_paint_probe.py")
WINDOW_SIZE = (1600, 900)
WORKER_BLAS_THREADS = 1  # TrainingController's default
WARMUP_S = 1.0
TARGET_RATIO = 0.9
TARGET_P99_MS = 50.0
TARGET_STARTUP = 1.3


# -- what is trained ------------------------------------------------------------------------------
def cases(quick: bool) -> list[tuple[str, Config, Preset | None]]:
    """(label, config, preset): small fast steps, a mid-size net, and a big slow one."""
    chosen = []
    for preset_id in ("seed-vanishing", "relu-he"):
        preset = get_preset(preset_id)
        chosen.append((preset_id, preset.config, preset))
    if not quick:
        big = get_preset("tanh-xavier").config.replace(depth=100, width=128)
        chosen.append(("tanh L100 n128", big, None))
    return chosen


# -- the engine alone -----------------------------------------------------------------------------
class EngineRun:
    """The baseline: one Simulation stepped in a plain loop (a new one if it ever diverges)."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.sim = Simulation(config, record=False)

    def rate(self, seconds: float) -> float:
        """Steps per second over ``seconds``, BLAS on the worker's thread count."""
        with threadpool_limits(limits=WORKER_BLAS_THREADS, user_api="blas"):
            steps, start = 0, time.perf_counter()
            while True:
                if self.sim.diverged:
                    self.sim = Simulation(self.config, record=False)
                self.sim.step()
                steps += 1
                elapsed = time.perf_counter() - start
                if elapsed >= seconds:
                    return steps / elapsed


# -- the live window ------------------------------------------------------------------------------
def run_for(seconds: float) -> None:
    """Run the event loop for ``seconds`` (the window draws, the worker trains)."""
    loop = QEventLoop()
    QTimer.singleShot(round(seconds * 1000), loop.quit)
    loop.exec()


class PaintCounter(QObject):
    """Counts the paint events of the widget it filters (the heatmap's viewport)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def event_latencies(seconds: float) -> np.ndarray:
    """Delays (ms) until a zero-timeout single shot started on the UI thread fires.

    Probes are spaced by a random 1-10 ms so they sample every phase of the frame timer
    without keeping the event loop busy themselves.
    """
    rng = random.Random(0)
    samples: list[float] = []
    loop = QEventLoop()
    deadline = time.perf_counter() + seconds

    def start() -> None:
        if time.perf_counter() >= deadline:
            loop.quit()
            return
        started = time.perf_counter()
        QTimer.singleShot(0, lambda: fired(started))

    def fired(started: float) -> None:
        samples.append(time.perf_counter() - started)
        QTimer.singleShot(rng.randint(1, 10), start)

    QTimer.singleShot(0, start)
    loop.exec()
    return np.array(samples) * 1e3


class LiveWindow:
    """The real MainWindow, shown at 1600x900, trained through its own worker process."""

    def __init__(self, config: Config, preset: Preset | None, panel: str = "profile") -> None:
        from gradsim.app.main_window import MainWindow

        self.window = MainWindow(config=config, preset=preset, remember=False)
        self.window.resize(*WINDOW_SIZE)
        self.window.view_state.set_panel(panel)  # the tab beside the heatmap, drawn live
        self.paints = PaintCounter()
        self.window.single.heatmap.viewport().installEventFilter(self.paints)
        self.window.show()
        try:
            if not wait_until(lambda: self._snapshot() is not None, 30):
                raise RuntimeError("the worker never reported")
            viewport = self.window.single.heatmap.viewport()
            if not viewport.isVisible() or viewport.visibleRegion().isEmpty():
                raise RuntimeError("the heatmap is not visible")
        except BaseException:
            self.close()
            raise
        self.window.view_state.set_speed(math.inf)

    def _snapshot(self) -> Snapshot | None:
        """The first run's newest report, as the window's frame timer took it."""
        snapshots = self.window.session.snapshots
        return snapshots[0] if snapshots else None

    def _state(self) -> str:
        snapshot = self._snapshot()
        return "none" if snapshot is None else snapshot.state.value

    def play(self) -> None:
        self.window.session.play()
        if not wait_until(lambda: self._state() == "running", 10):
            raise RuntimeError(f"the window did not start training (state {self._state()})")

    def pause(self) -> None:
        self.window.session.pause()
        if not wait_until(lambda: self._state() == "paused", 30):
            raise RuntimeError(f"the window did not pause (state {self._state()})")

    def _count(self) -> tuple[int, float, float, int]:
        # Snapshots, not len(history): the recorder thins old rows on long runs. The snapshot
        # lags the worker by at most a frame, at both ends alike.
        snapshot = self._snapshot()
        assert snapshot is not None
        return snapshot.step_count, time.perf_counter(), time.thread_time(), self.paints.count

    def rate(self, seconds: float) -> tuple[float, float, float]:
        """Steps/s, heatmap paints/s and the UI thread's CPU share while playing at full speed
        (call after a warm-up). The UI thread's CPU time is what drawing costs."""
        steps0, t0, cpu0, paints0 = self._count()
        run_for(seconds)
        steps1, t1, cpu1, paints1 = self._count()
        if self._state() != "running":
            raise RuntimeError(f"training stopped during the measurement ({self._state()})")
        wall = t1 - t0
        return (steps1 - steps0) / wall, (paints1 - paints0) / wall, (cpu1 - cpu0) / wall

    def close(self) -> None:
        """Close as a user would (the worker process stops), then free the window now."""
        self.window.close()
        self.window.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


# -- start-up in fresh processes -----------------------------------------------------------------
def first_paint_s(mode: str, env: dict[str, str], notes: set[str]) -> float:
    """Seconds from spawning the probe (``app`` or ``bare``) to the end of its first paint."""
    spawned = time.time()
    proc = subprocess.run(
        [sys.executable, str(PROBE), mode],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    for line in proc.stderr.splitlines():
        if line.strip() and not any(note in line for note in _HARMLESS):
            notes.add(f"{mode}: {line.strip()}")
    if proc.returncode != 0:
        raise RuntimeError(f"probe {mode} exited with {proc.returncode}: {proc.stderr.strip()}")
    fields = proc.stdout.split()
    if len(fields) < 3 or fields[0] != "first_paint":
        raise RuntimeError(f"probe {mode} printed {proc.stdout!r}")
    return float(fields[2]) - spawned


def startup(launches: int) -> tuple[float, float, float, set[str]]:
    """Median first-paint seconds of the app and of the bare window, and the median ratio."""
    notes: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="gradsim-bench-") as folder:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", GRADSIM_SETTINGS_DIR=folder)
        for mode in ("app", "bare"):  # warm-up: caches, .pyc files, the settings file
            first_paint_s(mode, env, notes)
        app_s, bare_s = [], []
        for i in range(launches):
            order = ("app", "bare") if i % 2 == 0 else ("bare", "app")
            times = {mode: first_paint_s(mode, env, notes) for mode in order}
            app_s.append(times["app"])
            bare_s.append(times["bare"])
    ratios = [a / b for a, b in zip(app_s, bare_s, strict=True)]
    return statistics.median(app_s), statistics.median(bare_s), statistics.median(ratios), notes


# -- report ---------------------------------------------------------------------------------------
def header() -> None:
    blas = [
        f"{i['internal_api']} {i.get('version', '')} (default {i['num_threads']} threads)"
        for i in threadpool_info()
        if i["user_api"] == "blas"
    ]
    print(
        f"Python {platform.python_version()}, PySide6 {PySide6.__version__} (Qt {qVersion()}), "
        f"pyqtgraph {pg.__version__}, numpy {np.__version__}"
    )
    print(
        f"BLAS: {'; '.join(blas) or 'none found'}; worker and engine baseline use "
        f"{WORKER_BLAS_THREADS} thread; {os.cpu_count()} CPUs; "
        f"Qt platform {os.environ.get('QT_QPA_PLATFORM')}"
    )


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="per measurement (default 4)")
    parser.add_argument("--repeats", type=int, default=3, help="window measurements (default 3)")
    parser.add_argument("--launches", type=int, default=5, help="start-ups of each (default 5)")
    parser.add_argument("--quick", action="store_true", help="2 s, 1 repeat, 3 launches, 2 nets")
    parser.add_argument(
        "--panel",
        default="profile",
        help="the panel shown beside the heatmap while measuring (profile, distributions, "
        "function, map)",
    )
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.repeats, args.launches = 2.0, 1, 3

    application(offscreen=True)
    header()
    print(
        f"{args.seconds:g} s per measurement after a {WARMUP_S:g} s warm-up, "
        f"{args.repeats} repeat(s), medians; window {WINDOW_SIZE[0]}x{WINDOW_SIZE[1]},"
        f" {args.panel} panel shown\n",
        flush=True,
    )

    throughput_rows, latency_rows = [], []
    for label, config, preset in cases(args.quick):
        engine = EngineRun(config)
        engine.rate(0.5)  # warm-up (allocations, first touch)
        live = LiveWindow(config, preset, args.panel)
        try:
            engine_rates, window_rates, ratios, fps, ui_cpu = [], [], [], [], []
            busy_p50, busy_p99, idle_p50, idle_p99 = [], [], [], []
            for _ in range(args.repeats):
                base = engine.rate(args.seconds)  # window paused: nothing else runs
                live.play()
                run_for(WARMUP_S)
                rate, paints, cpu = live.rate(args.seconds)
                busy = event_latencies(args.seconds)
                live.pause()
                idle = event_latencies(min(args.seconds, 1.0))
                engine_rates.append(base)
                window_rates.append(rate)
                ratios.append(rate / base)
                fps.append(paints)
                ui_cpu.append(cpu)
                busy_p50.append(np.percentile(busy, 50))
                busy_p99.append(np.percentile(busy, 99))
                idle_p50.append(np.percentile(idle, 50))
                idle_p99.append(np.percentile(idle, 99))
        finally:
            live.close()
        med = statistics.median
        throughput_rows.append(
            (
                label,
                config.depth,
                config.width,
                med(engine_rates),
                med(window_rates),
                med(ratios),
                med(fps),
                med(ui_cpu),
            )
        )
        latency_rows.append((label, med(idle_p50), med(idle_p99), med(busy_p50), med(busy_p99)))
        print(f"  measured {label}", file=sys.stderr, flush=True)

    print(f"1. Training throughput, window drawing vs engine alone (target >= {TARGET_RATIO})")
    print(
        "{:<16} {:>4} {:>4} {:>10} {:>10} {:>6} {:>9} {:>7}  {}".format(
            "config", "L", "n", "engine/s", "window/s", "ratio", "paints/s", "UI cpu", ""
        )
    )
    for label, depth, width, base, rate, ratio, paints, cpu in throughput_rows:
        print(
            f"{label:<16} {depth:>4} {width:>4} {base:10.1f} {rate:10.1f} {ratio:6.2f} "
            f"{paints:9.1f} {cpu:7.0%}  {verdict(ratio >= TARGET_RATIO)}"
        )
    print(
        "  paints/s: heatmap repaints (a frame painted twice counts twice); UI cpu: the UI\n"
        "  thread's CPU time over wall time (training runs in a separate process)"
    )
    print(f"\n2. UI latency, zero-timeout single shot, ms (target p99 <= {TARGET_P99_MS:g} ms)")
    print(
        "{:<16} {:>9} {:>9} {:>10} {:>10}  {}".format(
            "config", "idle p50", "idle p99", "train p50", "train p99", ""
        )
    )
    for label, ip50, ip99, bp50, bp99 in latency_rows:
        print(
            f"{label:<16} {ip50:9.2f} {ip99:9.2f} {bp50:10.2f} {bp99:10.2f}  "
            f"{verdict(bp99 <= TARGET_P99_MS)}"
        )
    sys.stdout.flush()

    from gradsim.app.model.worker import running_threads

    if running_threads():
        raise RuntimeError("a worker is still running after closing the windows")

    app_s, bare_s, ratio, notes = startup(args.launches)
    print(
        f"\n3. Start-up to first paint, fresh processes, {args.launches} launches each "
        f"(target <= {TARGET_STARTUP})"
    )
    print("{:<34} {:>8} {:>8} {:>6}".format("", "app ms", "bare ms", "ratio"))
    print(
        f"{'python -m gradsim vs PlotWidget':<34} {app_s * 1e3:8.0f} {bare_s * 1e3:8.0f} "
        f"{ratio:6.2f}  {verdict(ratio <= TARGET_STARTUP)}"
    )
    for note in sorted(notes):
        print(f"  child stderr: {note}")


if __name__ == "__main__":
    main()
