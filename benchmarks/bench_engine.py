"""Engine speed: ms per training step, and that time over the time of its matrix products alone.

The second figure is the overhead ratio against the BLAS limit: the same matmuls, on the same
arrays, in the same order, measured in the same run, so machine noise cancels.

A second section prices the per-layer histograms (``gradsim.engine.distributions``): ms per
step without them, with them every step and at the API's default cadence, and the ratios to
"without" (target: <= 1.15 at the default cadence, depth 100, width 64, batch 128).

    python benchmarks/bench_engine.py [--threads N] [--repeats R] [--quick] [--distributions]
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from gradsim.api import HISTOGRAMS_EVERY
from gradsim.engine.config import Config
from gradsim.engine.simulation import Simulation


def matmuls_only(sim: Simulation) -> None:
    """The step's matrix products: forward, weight gradient and back-propagation per layer."""
    net = sim.network
    x = sim.data.inputs[: sim.config.batch_size]
    h_prev = x
    for l in range(net.depth):
        np.matmul(h_prev, net.weights[l].T, out=net.z[l])
        h_prev = net.h[l]
    for l in range(net.depth - 1, -1, -1):
        h_prev = x if l == 0 else net.h[l - 1]
        np.matmul(net.dz[l].T, h_prev, out=net.weight_grads[l])
        if l > 0:
            _ = net.dz[l] @ net.weights[l]


def best_time(fn, repeats: int, min_time: float = 0.05) -> float:
    """Best-of-``repeats`` seconds per call (each repeat loops until ``min_time`` has passed)."""
    best = float("inf")
    for _ in range(repeats):
        calls, start = 0, time.perf_counter()
        while True:
            fn()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_time:
                break
        best = min(best, elapsed / calls)
    return best


def measure(
    depth: int, width: int, activation: str, dtype: str, repeats: int
) -> tuple[float, float]:
    init = "he_normal" if activation == "relu" else "xavier_normal"
    config = Config(
        depth=depth,
        width=width,
        input_dim=width,
        output_dim=width,
        batch_size=128,
        activation=activation,
        init=init,
        dtype=dtype,
        learning_rate=1e-4,
    )
    sim = Simulation(config, record=False)
    sim.step()  # warm up (allocations, first-touch)

    def step() -> None:
        if sim.diverged:  # never expected with these inits; keeps the loop honest if it happens
            raise RuntimeError("benchmark run diverged")
        sim.step()

    with np.errstate(all="ignore"):
        t_step = best_time(step, repeats)
        t_mm = best_time(lambda: matmuls_only(sim), repeats)
    return t_step, t_mm


def distributions_cost(repeats: int, steps: int = 50) -> dict[str, float]:
    """Seconds per step (mean over ``steps``, best of ``repeats``) with histograms off, every
    step, and every ``HISTOGRAMS_EVERY`` steps; ``steps`` is a multiple of the cadence, so
    every repeat holds the same number of measurements."""
    config = Config(
        depth=100,
        width=64,
        input_dim=64,
        output_dim=64,
        batch_size=128,
        activation="tanh",
        init="xavier_normal",
        learning_rate=1e-4,
    )
    cadences = {"off": None, "every step": 1, f"every {HISTOGRAMS_EVERY}": HISTOGRAMS_EVERY}
    sims = {name: Simulation(config, distributions=k) for name, k in cadences.items()}
    best = dict.fromkeys(sims, float("inf"))
    with np.errstate(all="ignore"):
        for sim in sims.values():
            sim.step()  # warm up; the cadence then starts again on a multiple of itself
            for _ in range(HISTOGRAMS_EVERY - 1):
                sim.step()
        for _ in range(repeats):
            for name, sim in sims.items():  # interleaved, so machine noise hits all alike
                start = time.perf_counter()
                for _ in range(steps):
                    sim.step()
                best[name] = min(best[name], (time.perf_counter() - start) / steps)
        if any(sim.diverged for sim in sims.values()):
            raise RuntimeError("benchmark run diverged")
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="only L = 10, 100")
    parser.add_argument(
        "--distributions", action="store_true", help="only the histogram section"
    )
    args = parser.parse_args()
    depths: tuple[int, ...] = (10, 100) if args.quick else (10, 100, 500)
    if args.distributions:
        depths = ()
    with threadpool_limits(limits=args.threads, user_api="blas"):
        blas = [
            f"{i['internal_api']} {i.get('version', '')} threads={i['num_threads']}"
            for i in threadpool_info()
            if i["user_api"] == "blas"
        ]
        print(f"BLAS: {'; '.join(blas)}")
        header = ("L", "n", "act", "dtype", "ms/step", "ms matmul", "ratio")
        if not args.distributions:
            print("{:>4} {:>4} {:>5} {:>7} {:>9} {:>10} {:>6}".format(*header))
        for depth, width, activation, dtype in itertools.product(
            depths, (64, 256), ("tanh", "relu"), ("float64", "float32")
        ):
            t_step, t_mm = measure(depth, width, activation, dtype, args.repeats)
            print(
                f"{depth:>4} {width:>4} {activation:>5} {dtype:>7} {t_step * 1e3:9.3f} "
                f"{t_mm * 1e3:10.3f} {t_step / t_mm:6.2f}",
                flush=True,
            )
        times = distributions_cost(args.repeats)
        off = times["off"]
        print("\nper-layer histograms, L = 100, n = 64, batch 128, tanh, float64:")
        for name, seconds in times.items():
            print(f"  {name:>10}: {seconds * 1e3:7.3f} ms/step  {seconds / off:5.2f}x")


if __name__ == "__main__":
    main()
